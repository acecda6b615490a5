"""The run's result as values: what every report writer renders. Built first, rendered second."""
from __future__ import annotations

import dataclasses
from typing import Any

from harness.violations import Outcome, Violation


@dataclasses.dataclass(frozen=True)
class DeliveryRow:
    """One cell of the delivery matrix: did this event reach this connection/device as expected?"""

    check_id: str
    event: str  # variant key, e.g. "friendship/new_request"
    role: str  # "A", "B", "third", ... (the family's roles, see rules.json)
    user: str  # label of the simulated user, e.g. "B"
    channel: str  # "websocket" | "fcm"
    endpoint: str  # connection or device label, e.g. "B#2" or "B device 1"
    expected: int  # how many copies the contract expects (0 = must receive nothing)
    seen: int
    latency_ms: float | None  # from the start of the action's HTTP request to the first copy (never negative)
    rule_ids: tuple[str, ...] = ()
    event_seq: int | None = None  # which event of the check (1 = first); None for a copy no event explains
    response_ms: float | None = None  # the action's HTTP response, from the start of its request
    late: bool = False  # arrived after its deadline
    expected_fields: dict[str, Any] | None = None  # what the flow dictates for this recipient's copy
    received: Any = None  # the first copy as it arrived (a push decoded to its payload)

    @property
    def ok(self) -> bool:
        return self.seen == self.expected

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeliveryRow:
        fields: dict[str, Any] = {k: (tuple(v) if k == "rule_ids" else v) for k, v in data.items() if k != "ok"}
        return cls(**fields)

    def to_json(self) -> dict[str, Any]:
        # not dataclasses.asdict: it deep-copies every received payload (a second per thousand rows)
        return {**{field.name: getattr(self, field.name) for field in dataclasses.fields(self)},
                "rule_ids": list(self.rule_ids), "ok": self.ok}


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """One check (one conformance test) of the run."""

    id: str  # stable: the pytest node id relative to the suite, e.g. "test_friendship.py::test_new_request"
    name: str
    family: str | None
    description: str  # what is done (the check's docstring, first paragraph)
    expectation: str  # what must happen (from the rules' titles)
    rule_ids: tuple[str, ...]
    outcome: Outcome
    violations: tuple[Violation, ...]
    duration_s: float
    transcript: tuple[dict[str, Any], ...]  # Transcript.to_json(): already redacted
    delivery: tuple[DeliveryRow, ...]
    message: str = ""  # skip reason, error text, or the failure summary
    reproduce: str = ""  # the action's HTTP requests as curl lines (redacted)
    #: rule id -> (its outcome in this check, why): PASS only where judged, SKIP where not reached
    rules: dict[str, tuple[Outcome, str]] = dataclasses.field(default_factory=dict)
    #: seconds per phase (harness.phases.PHASES): where the check's time went
    timings: dict[str, float] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "family": self.family,
            "description": self.description,
            "expectation": self.expectation,
            "rule_ids": list(self.rule_ids),
            "outcome": self.outcome.value,
            "rules": [{"rule_id": rule_id, "outcome": outcome.value, "note": note} for rule_id, (outcome, note) in self.rules.items()],
            "violations": [v.to_json() for v in self.violations],
            "duration_s": round(self.duration_s, 3),
            "transcript": list(self.transcript),
            "delivery": [d.to_json() for d in self.delivery],
            "message": self.message,
            "reproduce": self.reproduce,
            "timings": dict(self.timings),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        from harness.violations import Level

        return cls(
            id=data["id"], name=data["name"], family=data.get("family"), description=data.get("description", ""),
            expectation=data.get("expectation", ""), rule_ids=tuple(data.get("rule_ids", ())), outcome=Outcome(data["outcome"]),
            violations=tuple(Violation(**{**v, "level": Level(v["level"])}) for v in data.get("violations", ())),
            duration_s=data.get("duration_s", 0.0), transcript=tuple(data.get("transcript", ())),
            delivery=tuple(DeliveryRow.from_json(d) for d in data.get("delivery", ())),
            message=data.get("message", ""), reproduce=data.get("reproduce", ""),
            rules={r["rule_id"]: (Outcome(r["outcome"]), r.get("note", "")) for r in data.get("rules", ())},
            timings=dict(data.get("timings", {})),
        )


@dataclasses.dataclass(frozen=True)
class RunInfo:
    target: str  # profile name
    base_url: str
    contract_version: str
    harness_version: str
    started_at: str  # RFC 3339 UTC
    duration_s: float
    strict: bool
    command: str  # the b4a command line (redacted)
    selection: str | None = None  # --only value


@dataclasses.dataclass(frozen=True)
class RuleSummary:
    rule_id: str
    level: str
    title: str
    outcome: Outcome  # worst over the checks that judged the rule; SKIP when none did
    checks: int  # checks that judged it
    failed: int
    not_reached: int = 0  # checks that declared it but never judged it


@dataclasses.dataclass(frozen=True)
class Report:
    run: RunInfo
    checks: tuple[CheckResult, ...]
    rules: tuple[RuleSummary, ...]
    #: credentials masked by harness.report.redact.scrub_report (writers scrub a report once)
    scrubbed: bool = False

    @property
    def outcome(self) -> Outcome:
        """The run's verdict: the worst outcome of the checks that ran; a skipped check does not
        make a green run SKIP (only a run where every check skipped is SKIP)."""
        ran = [c.outcome for c in self.checks if c.outcome is not Outcome.SKIP]
        return Outcome.worst(ran) if ran else (Outcome.SKIP if self.checks else Outcome.PASS)

    @property
    def delivery(self) -> tuple[DeliveryRow, ...]:
        return tuple(row for check in self.checks for row in check.delivery)

    def counts(self) -> dict[str, int]:
        counts = {o.value: 0 for o in Outcome}
        for check in self.checks:
            counts[check.outcome.value] += 1
        return counts
