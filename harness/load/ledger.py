"""The delivery ledger: every copy a load run expects, matched to the copies that arrive.

A simulated user's action (friendship.request, chat.post...) expects, per rules.json, one copy of
a variant on each WebSocket connection and each registered device of each recipient, identified
by the family's identity keys (`call_id`, `session_id`, the chat thread and text; for a family
without them, the counterpart key: `friend_id`). A copy is matched to the oldest expectation of
its recipient, variant and identity that still waits on that endpoint, and timed from the
action's HTTP response. A copy can arrive before the response (the backend notifies, then
answers): it waits in a pool until its expectation is registered.

What is left at the end is counted exactly, per copy:
- lost: an expected copy that never arrived;
- duplicated: a copy for an endpoint whose expectation was already met;
- leaked: a copy to a user who took no part in any action with that identity (a third user);
- unexpected: a copy to a party of the flow that no action explains (an echo to the actor, a
  notification after a refused action, a ring timeout after an answered call);
- invalid: a copy that breaks its schema or the flow's fields (counted besides the above);
- late: a matched copy that came after its deadline (profile `deadlines`).

Single-threaded by design: under gevent every greenlet of a process runs on one thread.
"""
from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from harness.contract import Contract, Family, load_contract
from harness.flow_values import canonical, same

CHANNELS = ("websocket", "fcm")
PROBLEMS = ("lost", "duplicated", "leaked", "unexpected", "invalid", "late")
#: evidence kept per problem kind: the first few, in the order they were found
EXAMPLES_PER_PROBLEM = 5
#: a copy still missing this many deadlines after its action counts as lost (one arriving between
#: the deadline and this is late, not lost); the drain waits at most this long
LOST_AFTER_DEADLINES = 2.0


def _at(payload: Any, pointer: str) -> Any:
    for part in pointer.split("/"):
        if not isinstance(payload, dict):
            return None
        payload = payload.get(part)
    return payload


@dataclasses.dataclass
class Expectation:
    """One event for one recipient: the copies it waits for, per endpoint."""

    variant: str
    family: str
    recipient: int
    identity: tuple[Any, ...]
    action: str
    actor: int
    response_at: float  # wall clock (time.time()) of the action's last HTTP response
    extra_delay: float  # seconds the contract lets pass before the event itself (the ring timeout)
    fields: dict[str, Any]  # pointer -> what the recipient's copy must say
    pending: dict[str, str]  # endpoint -> channel, still to arrive
    met: set[str] = dataclasses.field(default_factory=set)


@dataclasses.dataclass
class _Copy:
    channel: str
    endpoint: str
    recipient: int
    variant: str
    family: str
    identity: tuple[Any, ...]
    payload: Any
    arrived_at: float


class DeliveryLedger:
    def __init__(self, *, websocket_seconds: float, push_seconds: float, started_at: float,
                 contract: Contract | None = None) -> None:
        self.contract = contract or load_contract()
        self.deadlines = {"websocket": websocket_seconds, "fcm": push_seconds}
        self.started_at = started_at
        self._families = {family.name: family for family in self.contract.families}
        self._open: dict[tuple[Any, ...], list[Expectation]] = defaultdict(list)
        self._pool: dict[tuple[Any, ...], list[_Copy]] = defaultdict(list)
        self._met: set[int] = set()  # hash((key, endpoint)) of every copy matched: duplicates are found here
        self._parties: dict[tuple[Any, ...], set[int]] = {}
        self.counts = {problem: 0 for problem in PROBLEMS}
        self.counts_by_channel = {problem: {channel: 0 for channel in CHANNELS} for problem in PROBLEMS}
        self.examples: dict[str, list[dict[str, Any]]] = {problem: [] for problem in PROBLEMS}
        self.expected = {channel: 0 for channel in CHANNELS}
        self.delivered = {channel: 0 for channel in CHANNELS}
        self.before_response = 0  # copies that arrived before their action's HTTP response
        self.refused_pushes = 0  # send attempts FCM refused (or dry runs): no delivery
        self.actions: dict[str, dict[str, int]] = defaultdict(lambda: {"ok": 0, "refused": 0, "error": 0})
        self.actions_by_second: dict[int, int] = defaultdict(int)
        #: channel -> second -> latencies (ms) of the copies that arrived in that second
        self.latency_by_second: dict[str, dict[int, list[float]]] = {channel: defaultdict(list) for channel in CHANNELS}
        #: "variant channel" -> latencies (ms)
        self.latency_by_variant: dict[str, list[float]] = defaultdict(list)

    # -- the driving side -----------------------------------------------------------------

    def action(self, name: str, outcome: str, at: float) -> None:
        """An action was sent: `outcome` is ok, refused (4xx) or error (5xx, no answer)."""
        self.actions[name][outcome] += 1
        self.actions_by_second[self._second(at)] += 1

    def parties(self, family: str, identity: tuple[Any, ...] | None, users: Iterable[int]) -> None:
        """Users who took part in an action of `family` with this identity (for a family whose
        identity is its counterpart key, pass None: the pair is the identity)."""
        users = set(users)
        key = (family, frozenset(users)) if identity is None else (family, identity)
        self._parties.setdefault(key, set()).update(users)

    def expect(self, *, variant: str, recipient: int, identity: tuple[Any, ...], action: str, actor: int,
               response_at: float, websockets: Iterable[str], devices: Iterable[str],
               fields: dict[str, Any] | None = None, extra_delay: float = 0.0) -> Expectation:
        """Register one event for one recipient; copies that came early are matched now."""
        family = variant.partition("/")[0]
        channels = self.contract.variant(variant).channels
        pending = {endpoint: "websocket" for endpoint in websockets} if "websocket" in channels else {}
        if "fcm" in channels:
            pending.update({token: "fcm" for token in devices})
        expectation = Expectation(variant, family, recipient, identity, action, actor, response_at, extra_delay,
                                  dict(fields or {}), pending)
        for channel in pending.values():
            self.expected[channel] += 1
        key = (recipient, variant, identity)
        self._open[key].append(expectation)
        early = self._pool.get(key)
        if early:
            waiting = []
            for copy in early:
                if copy.endpoint in expectation.pending:
                    self._meet(expectation, copy, key)
                else:
                    waiting.append(copy)
            if waiting:
                self._pool[key] = waiting
            else:
                del self._pool[key]
        return expectation

    # -- the receiving side ---------------------------------------------------------------

    def observe(self, channel: str, endpoint: str, recipient: int, payload: Any, arrived_at: float,
                violations: list[Any], variant: str | None) -> None:
        """One copy as it arrived, judged by the caller (`violations`: schema errors; `variant`:
        what it claims to be, None when it cannot be told)."""
        if violations or variant is None:
            self._problem("invalid", channel, {"channel": channel, "endpoint": endpoint, "recipient": recipient,
                                               "variant": variant, "received": payload, "at_s": self._offset(arrived_at),
                                               "violations": [_violation_text(v) for v in violations[:5]]})
        if variant is None:
            return
        family = variant.partition("/")[0]
        identity = self.identity(family, payload)
        copy = _Copy(channel, endpoint, recipient, variant, family, identity, payload, arrived_at)
        key = (recipient, variant, identity)
        for expectation in self._open.get(key, ()):
            if endpoint in expectation.pending:
                self._meet(expectation, copy, key)
                return
        self._pool[key].append(copy)

    def push_refused(self) -> None:
        self.refused_pushes += 1

    def identity(self, family_name: str, payload: Any) -> tuple[Any, ...]:
        family = self._families[family_name]
        return tuple(canonical(_at(payload, pointer)) for pointer in _identity_pointers(family))

    # -- the end --------------------------------------------------------------------------

    def waiting(self) -> int:
        """Expected copies not yet arrived."""
        return sum(len(e.pending) for expectations in self._open.values() for e in expectations)

    def give_up_at(self) -> float:
        """Wall time by which every copy still missing counts as lost (0 when none is missing)."""
        latest = 0.0
        for expectations in self._open.values():
            for e in expectations:
                for channel in set(e.pending.values()):
                    latest = max(latest, e.response_at + e.extra_delay + LOST_AFTER_DEADLINES * self.deadlines[channel])
        return latest

    def finish(self) -> None:
        """Count what is missing as lost and classify every copy nothing explained."""
        for expectations in self._open.values():
            for e in expectations:
                for endpoint, channel in e.pending.items():
                    self._problem("lost", channel, {**self._describe(e, channel, endpoint), "received": None})
                e.pending = {}
        self._open.clear()
        for key, copies in self._pool.items():
            for copy in copies:
                self._classify_unexplained(copy, key)
        self._pool.clear()

    def snapshot(self) -> dict[str, Any]:
        """Everything counted, as JSON-friendly values (merged across processes by `merge`)."""
        return {
            "counts": dict(self.counts),
            "counts_by_channel": {p: dict(c) for p, c in self.counts_by_channel.items()},
            "examples": {p: list(e) for p, e in self.examples.items()},
            "expected": dict(self.expected),
            "delivered": dict(self.delivered),
            "before_response": self.before_response,
            "refused_pushes": self.refused_pushes,
            "actions": {name: dict(c) for name, c in self.actions.items()},
            "actions_by_second": {str(s): n for s, n in self.actions_by_second.items()},
            "latency_by_second": {ch: {str(s): [round(x, 2) for x in v] for s, v in by.items()}
                                  for ch, by in self.latency_by_second.items()},
            "latency_by_variant": {k: [round(x, 2) for x in v] for k, v in self.latency_by_variant.items()},
        }

    # -- internals ------------------------------------------------------------------------

    def _meet(self, expectation: Expectation, copy: _Copy, key: tuple[Any, ...]) -> None:
        channel = expectation.pending.pop(copy.endpoint)
        expectation.met.add(copy.endpoint)
        self._met.add(hash((key, copy.endpoint)))
        if not expectation.pending:
            self._open[key].remove(expectation)
            if not self._open[key]:
                del self._open[key]
        self.delivered[channel] += 1
        after = copy.arrived_at - expectation.response_at
        if after < 0:
            self.before_response += 1
        # timed from when the event was due: the response, or the response plus the ring timeout
        latency_ms = max(0.0, after - expectation.extra_delay) * 1000.0
        self.latency_by_second[channel][self._second(copy.arrived_at)].append(latency_ms)
        self.latency_by_variant[f"{expectation.variant} {channel}"].append(latency_ms)
        if after > expectation.extra_delay + self.deadlines[channel]:
            self._problem("late", channel, {**self._describe(expectation, channel, copy.endpoint),
                                            "latency_ms": round(latency_ms, 1), "received": copy.payload,
                                            "deadline_ms": round((expectation.extra_delay + self.deadlines[channel]) * 1000)})
        wrong = {pointer: {"expected": value, "received": _at(copy.payload, pointer)}
                 for pointer, value in expectation.fields.items()
                 if not same(_at(copy.payload, pointer), value)}
        if wrong:
            self._problem("invalid", channel, {**self._describe(expectation, channel, copy.endpoint),
                                               "received": copy.payload, "wrong_fields": wrong})

    def _classify_unexplained(self, copy: _Copy, key: tuple[Any, ...]) -> None:
        evidence = {"channel": copy.channel, "endpoint": copy.endpoint, "recipient": copy.recipient,
                    "variant": copy.variant, "received": copy.payload, "at_s": self._offset(copy.arrived_at)}
        if hash((key, copy.endpoint)) in self._met:
            self._problem("duplicated", copy.channel, evidence)
            return
        family = self._families[copy.family]
        if family.identity_keys:
            parties = self._parties.get((copy.family, copy.identity), set())
        else:  # the counterpart is the identity: did these two users act together in this family?
            parties = self._parties.get((copy.family, frozenset({copy.recipient, *copy.identity})), set())
        self._problem("unexpected" if copy.recipient in parties else "leaked", copy.channel, evidence)

    def _describe(self, e: Expectation, channel: str, endpoint: str) -> dict[str, Any]:
        return {"channel": channel, "endpoint": endpoint, "recipient": e.recipient, "variant": e.variant,
                "action": e.action, "actor": e.actor, "identity": list(e.identity),
                "expected_fields": e.fields, "at_s": self._offset(e.response_at)}

    def _problem(self, problem: str, channel: str, evidence: dict[str, Any]) -> None:
        self.counts[problem] += 1
        self.counts_by_channel[problem][channel] += 1
        if len(self.examples[problem]) < EXAMPLES_PER_PROBLEM:
            self.examples[problem].append(evidence)

    def _second(self, at: float) -> int:
        return max(0, int(at - self.started_at))

    def _offset(self, at: float) -> float:
        return round(at - self.started_at, 3)


def _identity_pointers(family: Family) -> tuple[str, ...]:
    if family.identity_keys:
        return family.identity_keys
    return (family.counterpart_key,) if family.counterpart_key else ()


def _violation_text(violation: Any) -> str:
    if isinstance(violation, str):
        return violation
    pointer = getattr(violation, "pointer", "")
    return f"{getattr(violation, 'rule_id', '?')} {pointer or '/'}: {getattr(violation, 'message', violation)}"


def merge(snapshots: list[dict[str, Any]]) -> dict[str, Any]:
    """One snapshot from several processes' (workers of one run)."""
    merged: dict[str, Any] = {
        "counts": {p: 0 for p in PROBLEMS},
        "counts_by_channel": {p: {c: 0 for c in CHANNELS} for p in PROBLEMS},
        "examples": {p: [] for p in PROBLEMS},
        "expected": {c: 0 for c in CHANNELS}, "delivered": {c: 0 for c in CHANNELS},
        "before_response": 0, "refused_pushes": 0, "actions": {}, "actions_by_second": {},
        "latency_by_second": {c: {} for c in CHANNELS}, "latency_by_variant": {},
    }
    for snap in snapshots:
        for p in PROBLEMS:
            merged["counts"][p] += snap["counts"][p]
            for c in CHANNELS:
                merged["counts_by_channel"][p][c] += snap["counts_by_channel"][p][c]
            merged["examples"][p].extend(snap["examples"][p])
        for c in CHANNELS:
            merged["expected"][c] += snap["expected"][c]
            merged["delivered"][c] += snap["delivered"][c]
            for second, values in snap["latency_by_second"][c].items():
                merged["latency_by_second"][c].setdefault(second, []).extend(values)
        merged["before_response"] += snap["before_response"]
        merged["refused_pushes"] += snap["refused_pushes"]
        for name, outcome in snap["actions"].items():
            row = merged["actions"].setdefault(name, {"ok": 0, "refused": 0, "error": 0})
            for k, v in outcome.items():
                row[k] += v
        for second, n in snap["actions_by_second"].items():
            merged["actions_by_second"][second] = merged["actions_by_second"].get(second, 0) + n
        for key, values in snap["latency_by_variant"].items():
            merged["latency_by_variant"].setdefault(key, []).extend(values)
    for p in PROBLEMS:
        merged["examples"][p] = sorted(merged["examples"][p], key=lambda e: e.get("at_s") or 0)[:EXAMPLES_PER_PROBLEM]
    return merged
