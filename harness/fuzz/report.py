"""The fuzzing run as a `Report` (harness/report/model.py), so `b4a run`'s writers render it: one
CheckResult per operation and kind of finding, each judged only where something was observed."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from harness.contract import Contract
from harness.fuzz.engine import Fuzzer, ResponseFinding
from harness.fuzz.observer import Exchange, Verdict
from harness.report.model import CheckResult, Report, RuleSummary, RunInfo
from harness.violations import Level, Outcome, Violation

__all__ = ["KINDS", "build_report"]

#: kind -> (rule ids it judges, what must hold)
KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "server-error": (("SEC-010",), "every request is answered, and never with a server error (5xx)"),
    "openapi": (("OAS-001",), "every answer matches the target's own OpenAPI document (status, content type, "
                              "headers, body schema)"),
    "invalid-notification": (("PAY-001", "PAY-002", "PAY-003", "PAY-004", "PAY-005", "PUSH-001", "PUSH-002"),
                             "every notification and push the requests caused is valid against the contract"),
    "leak": (("DLV-004",), "a notification reaches only parties of the request that caused it"),
    "after-refusal": (("DLV-008",), "a request the target refused (4xx) notifies nobody"),
}
#: rules of the fuzzer's own, not the contract's
OWN_RULES = {"OAS-001": "an answer matches the target's own OpenAPI document"}
#: violations and evidence kept per check (the count says how many more there were)
SHOWN = 20
#: requests before a finding kept as its reproduction (its stateful scenario, or the request alone)
REPRODUCE_STEPS = 12


@dataclasses.dataclass
class _Group:
    findings: list[tuple[Violation, Exchange | None, dict[str, Any] | None]] = dataclasses.field(default_factory=list)
    notifications: int = 0


def build_report(fuzzer: Fuzzer, verdicts: Iterable[Verdict], caused: dict[str, tuple[int, int]], contract: Contract,
                 run: RunInfo, problems: list[str], started: float) -> Report:
    """`caused`: operation -> (notifications attributed to its requests, pushes among them): where
    the notification kinds were judged at all."""
    from harness.report import build_rule_summaries

    groups: dict[tuple[str, str], _Group] = {}
    for finding in fuzzer.findings:
        groups.setdefault((finding.exchange.operation, finding.kind), _Group()).findings.append(
            (_violation(finding, contract), finding.exchange, None))
    for verdict in verdicts:
        operation = verdict.cause.operation if verdict.cause else "(before any request)"
        groups.setdefault((operation, verdict.kind), _Group()).findings.append(
            (_verdict_violation(verdict, contract), verdict.cause, verdict.seen.evidence))
    checks = []
    for operation, stats in fuzzer.stats.items():
        for kind, (rule_ids, expectation) in KINDS.items():
            group = groups.pop((operation, kind), _Group())
            observed = (stats.requests, 0) if kind in ("server-error", "openapi") else caused.get(operation, (0, 0))
            checks.append(_check(fuzzer, operation, kind, rule_ids, expectation, group, observed, stats, started))
    for (operation, kind), group in groups.items():  # findings outside the document's operations
        rule_ids, expectation = KINDS[kind]
        checks.append(_check(fuzzer, operation, kind, rule_ids, expectation, group, (len(group.findings), 0), None, started))
    if problems:
        checks.append(CheckResult(
            id="fuzz: proving quiet", name="fuzz: proving quiet", family="fuzz",
            description="markers sent to every pool user before and after the fuzzing",
            expectation="every marker arrives, so every notification the requests caused was seen",
            rule_ids=(), outcome=Outcome.ERROR, violations=(), duration_s=0.0, transcript=(), delivery=(),
            message="; ".join(problems)))
    checks.sort(key=lambda c: c.id)
    return Report(run=run, checks=tuple(checks), rules=build_rule_summaries(checks, contract) + _own_summaries(checks))


def _own_summaries(checks: list[CheckResult]) -> tuple[RuleSummary, ...]:
    """The rules of the fuzzer's own (OAS-001) in the rules table, counted as the contract's are."""
    summaries = []
    for rule_id, title in OWN_RULES.items():
        verdicts: list[Outcome] = [c.rules[rule_id][0] for c in checks if rule_id in c.rules]
        judged: list[Outcome] = [o for o in verdicts if o is not Outcome.SKIP]
        summaries.append(RuleSummary(rule_id=rule_id, level=Level.MUST.value, title=title,
                                     outcome=Outcome.worst(judged) if judged else Outcome.SKIP, checks=len(judged),
                                     failed=sum(o is Outcome.FAIL for o in judged), not_reached=len(verdicts) - len(judged)))
    return tuple(summaries)


def _check(fuzzer: Fuzzer, operation: str, kind: str, rule_ids: tuple[str, ...], expectation: str, group: _Group,
           observed: tuple[int, int], stats: Any, started: float) -> CheckResult:
    """`observed`: (what was judged, pushes among it): requests answered for the answer kinds,
    notifications attributed to the operation for the notification kinds."""
    findings = group.findings
    count, pushes = observed
    idle = "no request answered" if kind in ("server-error", "openapi") else "no notification was caused"
    broken: dict[str, list[Violation]] = {}
    for violation, _, _ in findings:
        broken.setdefault(violation.rule_id, []).append(violation)
    rules: dict[str, tuple[Outcome, str]] = {}
    for rule_id in dict.fromkeys([*rule_ids, *broken]):
        judged = pushes if rule_id.startswith("PUSH-") else count
        if rule_id in broken:
            rules[rule_id] = (Outcome.for_violations(broken[rule_id]), f"{len(broken[rule_id])} finding(s)")
        elif judged:
            rules[rule_id] = (Outcome.PASS, "judged")
        else:
            rules[rule_id] = (Outcome.SKIP, "no push was caused" if count else idle)
    if findings:
        outcome = Outcome.for_violations([v for v, _, _ in findings])
    else:
        outcome = Outcome.PASS if count else Outcome.SKIP
    requests = (f"{stats.requests} request(s): " + ", ".join(f"HTTP {k} x{v}" for k, v in sorted(stats.statuses.items()))
                if stats is not None and stats.requests else "no request")
    caused = f"; {count} notification(s) caused" if kind not in ("server-error", "openapi") else ""
    message = (f"{len(findings)} finding(s)" + (f"; the first {SHOWN} shown" if len(findings) > SHOWN else "")
               if findings else ("" if count else idle))
    first = next((e for _, e, _ in findings if e is not None), None)
    return CheckResult(
        id=f"{operation} [{kind}]", name=f"{operation} [{kind}]", family="fuzz",
        description=f"generated requests as pool users; {requests}{caused}",
        expectation=expectation, rule_ids=tuple(rules), outcome=outcome,
        violations=tuple(v for v, _, _ in findings[:SHOWN]), duration_s=0.0,
        transcript=_transcript(findings[:SHOWN], started), delivery=(), message=message,
        reproduce=_reproduce(fuzzer, first), rules=rules)


def _violation(finding: ResponseFinding, contract: Contract) -> Violation:
    exchange = finding.exchange
    return Violation(rule_id=finding.rule_id, level=_level(finding.rule_id, contract), title=_title(finding.rule_id, contract),
                     message=f"request #{exchange.seq} as {exchange.actor}: {finding.message}",
                     source=exchange.operation, instance=exchange.response_body)


def _verdict_violation(verdict: Verdict, contract: Contract) -> Violation:
    return Violation(rule_id=verdict.rule_id, level=_level(verdict.rule_id, contract),
                     title=_title(verdict.rule_id, contract), message=verdict.message,
                     source=verdict.seen.endpoint, instance=verdict.seen.payload)


def _level(rule_id: str, contract: Contract) -> Level:
    return contract.rules[rule_id].level if rule_id in contract.rules else Level.MUST


def _title(rule_id: str, contract: Contract) -> str:
    return contract.rules[rule_id].title if rule_id in contract.rules else OWN_RULES.get(rule_id, rule_id)


def _transcript(findings: list[tuple[Violation, Exchange | None, dict[str, Any] | None]],
                started: float) -> tuple[dict[str, Any], ...]:
    """Each finding's request, and the frame or push it is about, in time order."""
    entries: dict[Any, dict[str, Any]] = {}
    for _, exchange, evidence in findings:
        if exchange is not None and exchange.seq not in entries:
            entries[exchange.seq] = _http(exchange, started)
        if evidence is not None:
            entries[id(evidence)] = evidence
    return tuple(sorted(entries.values(), key=lambda e: e["t"]))


def _http(exchange: Exchange, started: float) -> dict[str, Any]:
    return {"t": round(exchange.t_sent - started, 4), "kind": "http", "label": exchange.actor,
            "method": exchange.method, "url": exchange.url, "request_headers": {}, "request_body": exchange.request_body,
            "status": exchange.status, "response_body": exchange.response_body,
            "elapsed_ms": round((exchange.t_done - exchange.t_sent) * 1000, 1), "error": exchange.error}


def _reproduce(fuzzer: Fuzzer, exchange: Exchange | None) -> str:
    """The finding's request as curl, after the steps of its stateful scenario that led to it."""
    if exchange is None:
        return ""
    steps = [exchange]
    if exchange.stateful:
        steps = [e for e in fuzzer.exchanges if e.scenario == exchange.scenario and e.seq <= exchange.seq][-REPRODUCE_STEPS:]
    header = (f"# b4a fuzz --seed {fuzzer.budget.seed} --max-examples {fuzzer.budget.max_examples} sends these again, "
              f"after the same pool; request #{exchange.seq} is the one judged")
    return "\n".join([header, *(f"# #{e.seq} as {e.actor}\n{e.curl}" for e in steps)])
