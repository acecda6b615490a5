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

    A check that failed on a violation of another rule held this one (PASS). A check that failed
    without any violation (an assertion, a timeout) counts against every rule it carries.
    """
    if check.outcome not in BROKEN or not check.violations:
        return check.outcome
    own = [v for v in check.violations if v.rule_id == rule_id]
    return Outcome.for_violations(own, strict=strict)


def carries(check: CheckResult, rule_id: str) -> bool:
    """A check exercises a rule it declares, and any rule it reports a violation of."""
    return rule_id in check.rule_ids or any(v.rule_id == rule_id for v in check.violations)


def build_rule_summaries(
    checks: Iterable[CheckResult], contract: Contract, *, strict: bool = False
) -> tuple[RuleSummary, ...]:
    """One summary per rule of the contract, in the contract's order.

    The outcome is the worst per-check outcome of the rule (`rule_outcome`) over the checks that
    carry it, SKIP when none did. `strict` must be the run's: it decides whether a broken SHOULD
    rule is FAIL or NON_STRICT.
    """
    checks = tuple(checks)
    summaries = []
    for rule in contract.rules.values():
        outcomes = [rule_outcome(c, rule.id, strict=strict) for c in checks if carries(c, rule.id)]
        summaries.append(RuleSummary(
            rule_id=rule.id,
            level=rule.level.value,
            title=rule.title,
            outcome=Outcome.worst(outcomes) if outcomes else Outcome.SKIP,
            checks=len(outcomes),
            failed=sum(1 for o in outcomes if o in BROKEN),
        ))
    return tuple(summaries)
