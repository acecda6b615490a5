"""What the fuzzer's requests caused: every WebSocket copy and push the pool received, each
attributed to the request that caused it and judged.

A copy is attributed by what it is about (the game session, call or chat thread it names; for a
friendship, its counterpart), to the latest request sent before it arrived that touched that:
its path named the resource, it created it, or (friendships) its parties include the
counterpart. Then: invalid against the contract -> the schema's rule; its recipient no party of
that request -> DLV-004; that request was refused (4xx) -> DLV-008, unless an accepted request
on the same resource came shortly before it (a late copy of that one, not of the refusal).
"""
from __future__ import annotations

import bisect
import dataclasses
import time
from collections.abc import Iterator
from typing import Any

from harness.contract import Contract
from harness.fuzz.pool import MARKER_PREFIX, Pool
from harness.fuzz.resources import ResourceKey, notification_resource
from harness.push_codec import decode_push_data, variant_of_push_data
from harness.validation import validate, validate_push

__all__ = ["Exchange", "Observer", "Seen", "Verdict", "attribute"]


@dataclasses.dataclass
class Exchange:
    """One request the fuzzer sent, and what it touched."""

    seq: int
    operation: str  # "POST /friendships/{id}/accept"
    method: str
    url: str
    actor: str  # pool label
    status: int | None  # None: no answer
    t_sent: float  # monotonic
    t_done: float
    parties: set[int]
    resources: set[ResourceKey]
    curl: str
    scenario: int  # the run of generated cases it belongs to
    stateful: bool  # a step of a stateful scenario: the steps before it reproduce it too
    request_body: Any = None
    response_body: Any = None
    error: str | None = None

    @property
    def refused(self) -> bool:
        return self.status is not None and 400 <= self.status < 500

    def touches(self, key: tuple[str, int], recipient: int) -> bool:
        """Whether this request concerned what a copy is about. A friendship copy names no
        friendship, only its counterpart: a friendship request (the collection's included, id 0)
        between the counterpart and the recipient (if the recipient is no party of any, the copy
        falls to the request before it, and is judged a leak there)."""
        kind, ident = key
        if kind == "friend":
            return {ident, recipient} <= self.parties and any(k == "friendship" for k, _ in self.resources)
        return key in self.resources


@dataclasses.dataclass(frozen=True)
class Seen:
    """One copy that reached the pool: a WebSocket frame, or a push attempt FCM accepted."""

    channel: str  # "websocket" | "fcm"
    endpoint: str  # "P2#1", "P2 device"
    user: int
    t: float  # monotonic arrival
    payload: Any  # as received: the notification, or the FCM message
    evidence: dict[str, Any]  # a transcript entry (frame or push)
    notification: Any = None  # the notification it carries (a push's data decoded)


@dataclasses.dataclass(frozen=True)
class Verdict:
    """A broken rule found on one copy, with the request it is attributed to."""

    kind: str  # "invalid-notification" | "leak" | "after-refusal"
    rule_id: str
    message: str
    seen: Seen
    cause: Exchange | None


class Observer:
    def __init__(self, pool: Pool, inbox: Any, contract: Contract, *, started: float, deadline: float) -> None:
        self.pool = pool
        self.inbox = inbox
        self.contract = contract
        self.started = started  # monotonic start of the run: transcript times count from it
        self.deadline = deadline  # the WebSocket delivery deadline: how late a copy may be
        self._taken = {listener.label: len(listener.messages()) for u in pool.users for listener in u.listeners}
        self._cursor = inbox.cursor() if inbox is not None else 0
        self._wall_offset = time.time() - time.monotonic()  # the emulator stamps wall-clock times
        self.seen: list[Seen] = []

    def collect(self) -> list[Seen]:
        """The copies that arrived since the last call (markers left out)."""
        fresh: list[Seen] = []
        for pooled in self.pool.users:
            for listener in pooled.listeners:
                messages = listener.messages()
                for received in messages[self._taken[listener.label]:]:
                    if _is_marker(received.payload):
                        continue
                    fresh.append(Seen("websocket", listener.label, pooled.id, received.t, received.payload, {
                        "t": round(received.t - self.started, 4), "kind": "frame", "label": listener.label,
                        "direction": "in", "text": received.raw[:4000], "framing": "websocket"}, received.payload))
                self._taken[listener.label] = len(messages)
        if self.inbox is not None:
            attempts = self.inbox.attempts(after=self._cursor)
            for attempt in attempts:
                self._cursor = max(self._cursor, attempt.seq)
                owner = self.pool.ledger.device_owner.get(attempt.token)
                data = (attempt.message or {}).get("data")
                if owner is None or _is_marker(data) or not 200 <= (attempt.http_status or 0) < 300:
                    continue  # not the pool's, a marker, or not delivered (an SDK retry, a refusal)
                t = attempt.received_at - self._wall_offset
                label = f"{self.pool.by_id[owner].label} device" if owner in self.pool.by_id else attempt.token
                variant = variant_of_push_data(data, self.contract) if isinstance(data, dict) else None
                decoded = decode_push_data(data, self.contract) if variant is not None and isinstance(data, dict) else data
                fresh.append(Seen("fcm", label, owner, t, attempt.message, {
                    "t": round(t - self.started, 4), "kind": "push", "label": label, "token": attempt.token,
                    "message": attempt.message, "http_status": attempt.http_status, "error_code": attempt.error_code,
                    "validate_only": attempt.validate_only}, decoded))
        self.seen += fresh
        return fresh

    def judge(self, seen: list[Seen], exchanges: list[Exchange]) -> Iterator[Verdict]:
        for copy in seen:
            yield from self._judge_one(copy, exchanges)

    def _judge_one(self, copy: Seen, exchanges: list[Exchange]) -> Iterator[Verdict]:
        if copy.channel == "fcm":
            problems = validate_push(copy.payload, contract=self.contract)
        else:
            problems = validate(copy.payload, contract=self.contract)
        cause, explained = self.cause_of(copy.t, copy.notification, copy.user, exchanges)
        for problem in problems:
            yield Verdict("invalid-notification", problem.rule_id,
                          f"{copy.endpoint} received an invalid {'push' if copy.channel == 'fcm' else 'notification'}: "
                          f"{problem.pointer or '(root)'}: {problem.message}", copy, cause)
        if cause is None:
            return
        who = self.pool.by_id.get(copy.user)
        name = who.label if who else str(copy.user)
        if copy.user not in cause.parties:
            why = "" if explained else " (no request touched what it is about; attributed to the one before it)"
            yield Verdict("leak", "DLV-004", f"{name} received a copy on {copy.endpoint} after request #{cause.seq} "
                          f"({cause.operation} by {cause.actor}), though {name} is no party of it{why}", copy, cause)
        if cause.refused and explained:
            yield Verdict("after-refusal", "DLV-008", f"{name} received a copy on {copy.endpoint} caused by request "
                          f"#{cause.seq} ({cause.operation} by {cause.actor}), which was refused with HTTP {cause.status}",
                          copy, cause)

    def cause_of(self, t: float, payload: Any, recipient: int, exchanges: list[Exchange]) -> tuple[Exchange | None, bool]:
        return attribute(t, payload, recipient, exchanges, self.deadline)


def attribute(t: float, payload: Any, recipient: int, exchanges: list[Exchange],
              deadline: float) -> tuple[Exchange | None, bool]:
    """(the request a copy arriving at `t` for `recipient` belongs to, whether its subject matched
    one). `exchanges` are in the order they were sent; `deadline` is how late a copy may come."""
    before = exchanges[:bisect.bisect_right([e.t_sent for e in exchanges], t)] if exchanges else []
    if not before:
        return None, False
    key = notification_resource(payload)
    touching = [e for e in before if key is not None and e.touches(key, recipient)]
    if not touching:
        return before[-1], False
    cause = touching[-1]
    if cause.refused:
        # a late copy of an accepted request on the same resource is not the refusal's
        accepted = [e for e in touching if not e.refused and e.status is not None and t - e.t_done <= deadline]
        if accepted:
            return accepted[-1], True
    return cause, True


def _is_marker(payload: Any) -> bool:
    if not isinstance(payload, dict):
        return False
    text = payload.get("message")
    if not isinstance(text, str):
        data = payload.get("data")  # an FCM message: the marker is in its data
        text = data.get("message") if isinstance(data, dict) else None
    return isinstance(text, str) and text.startswith(MARKER_PREFIX)
