"""Per-rule verdicts of a run: the rules table every report shows, computed from the checks."""
from __future__ import annotations

from collections.abc import Iterable

from harness.contract import Contract
from harness.report.model import CheckResult, RuleSummary
from harness.violations import Outcome

#: Outcomes that mean "the rule was broken" (counted in RuleSummary.failed).
BROKEN = (Outcome.FAIL, Outcome.NON_STRICT)


def rule_outcome(check: CheckResult, rule_id: str, *, strict: bool = False) -> Outcome:
    """The outcome of one rule within one check.

    From the check's own per-rule verdicts: PASS only where the check judged the rule and it
    held; SKIP where the check declared the rule but never reached it. A check that ended in an
    ERROR or SKIP without judging a rule gives that rule its own outcome (ERROR, SKIP): nothing
    was judged, so nothing passed. Results written before per-rule verdicts existed fall back to
    the violations.
    """
    verdict = check.rules.get(rule_id)
    if verdict is not None:
        outcome = verdict[0]
        if outcome is Outcome.SKIP and check.outcome in (Outcome.ERROR, Outcome.SKIP):
            return check.outcome
        return outcome
    own = [v for v in check.violations if v.rule_id == rule_id]
    if own:
        return Outcome.for_violations(own, strict=strict)
    # failed on another rule's violation: this one held; failed without any: it counts against all
    return Outcome.PASS if check.outcome in BROKEN and check.violations else check.outcome


def carries(check: CheckResult, rule_id: str) -> bool:
    """A check exercises a rule it declares, and any rule it reports a violation of."""
    return rule_id in check.rule_ids or rule_id in check.rules or any(v.rule_id == rule_id for v in check.violations)


def build_rule_summaries(
    checks: Iterable[CheckResult], contract: Contract, *, strict: bool = False
) -> tuple[RuleSummary, ...]:
    """One summary per rule of the contract, in the contract's order.

    The outcome is the worst per-check outcome of the rule (`rule_outcome`) over the checks that
    judged it; SKIP when none did. Checks that declared the rule without judging it are counted
    as `not_reached`. `strict` must be the run's: it decides whether a broken SHOULD is FAIL or
    NON_STRICT.
    """
    checks = tuple(checks)
    summaries = []
    for rule in contract.rules.values():
        outcomes = [rule_outcome(c, rule.id, strict=strict) for c in checks if carries(c, rule.id)]
        judged_outcomes = [o for o in outcomes if o in (Outcome.PASS, *BROKEN)]
        errors: list[Outcome] = [o for o in outcomes if o is Outcome.ERROR]
        summaries.append(RuleSummary(
            rule_id=rule.id,
            level=rule.level.value,
            title=rule.title,
            outcome=Outcome.worst(judged_outcomes + errors) if judged_outcomes or errors else Outcome.SKIP,
            checks=len(judged_outcomes),
            failed=sum(1 for o in judged_outcomes if o in BROKEN),
            not_reached=len(outcomes) - len(judged_outcomes),
        ))
    return tuple(summaries)
