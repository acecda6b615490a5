"""One conformance check: simulated users, their connections and devices, and expectations.

A check drives a flow through the `Target`, captures what every connection and device of its
users receives, and judges it: `expect()` consumes the copies the contract requires and compares
them with the schemas and the flow; `finish()` settles (a marker chat message to every user, so
that anything sent earlier has arrived: no blind sleep) and attributes every copy nobody expected
to the event that caused it (by the family's identity keys and the order of the actions), then
names what is wrong with it: a copy to a bystander, an echo to the actor, a duplicate, a push for a
WebSocket-only event, a notification after a refused or invalid action, a late copy.

Verdicts are honest: a rule counts as judged (`judged`) only where the check actually looked at
something that could have broken it; what the check could not judge is a `problem` (the check is
then an ERROR, never a PASS), and a declared rule never reached is reported as not reached.
"""
from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from harness.contract import Contract, Variant
from harness.flow_values import future_instant, same
from harness.listener import Listener, Received, connect_all
from harness.phases import PhaseClock, timed
from harness.push_codec import decode_push_data, variant_of_push_data
from harness.report.model import DeliveryRow
from harness.target import ActionResult, Target, User
from harness.transcript import MARKER_PREFIX, Transcript
from harness.validation import validate, validate_push, variant_of
from harness.violations import Level, Outcome, Violation

#: (profile source, base URL) -> the user that sends markers there, created once per process
_MARKER_SENDERS: dict[tuple[str, str], User] = {}
#: A push that left before the backend could have read FCM's UNREGISTERED answer (in flight on
#: another worker) is not held against it: only attempts later than this count for PUSH-005.
UNREGISTERED_GRACE_S = 1.0
#: Rules a delivered payload is judged by (the schemas check them); PAY-006 only in strict mode.
PAYLOAD_RULES = ("PAY-001", "PAY-002", "PAY-003", "PAY-004", "PAY-005")
#: What FCM's refusal of a push says about the backend (error code -> the mistake, the rule).
PUSH_REFUSALS: dict[str, tuple[str, str]] = {
    "UNAUTHENTICATED": ("its access token was not issued for FCM (bad or missing bearer)", "DLV-002"),
    "THIRD_PARTY_AUTH_ERROR": ("its credentials were refused", "DLV-002"),
    "PERMISSION_DENIED": ("it sent to a project it has no access to (wrong project id?)", "DLV-002"),
    "SENDER_ID_MISMATCH": ("the device token belongs to another sender", "DLV-002"),
    "INVALID_ARGUMENT": ("the message is not a valid FCM v1 message", "PUSH-001"),
    "NOT_FOUND": ("FCM does not know that resource (wrong URL or project?)", "DLV-002"),
}


class CouldNotCheck(Exception):
    """The check could not judge what it set out to judge (an ERROR, never a PASS), e.g. the
    WebSocket upgrade answered 404, so whether unauthenticated connections are refused is unknown."""


@dataclasses.dataclass(eq=False)
class SimUser:
    """A simulated user: the backend's user plus the connections and devices the check opened."""

    label: str
    user: User
    listeners: list[Listener]
    devices: list[str]
    third: bool = False

    @property
    def id(self) -> Any:
        return self.user.id

    def __hash__(self) -> int:
        return id(self)


@dataclasses.dataclass(eq=False)
class Event:
    """One expected notification (one variant, caused by one action, to some recipients)."""

    variant: Variant
    action: ActionResult | None
    actor: SimUser | None
    recipients: dict[SimUser, dict[str, Any]]
    #: monotonic time the causing request was sent: no copy of this event can arrive before it
    started: float
    #: the event's absolute identity (its family's identity keys -> values), for attributing copies
    identity: dict[str, Any]
    #: listener label -> the copy consumed on it
    ws: dict[str, Received] = dataclasses.field(default_factory=dict)
    #: device token -> the push attempt consumed for it
    pushes: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(eq=False)
class Forbidden:
    """A notification that must not arrive: what a refused or invalid action, or a call that
    was already settled, would send. A copy it explains is a violation of `rule_id`."""

    variant: Variant | None  # None: any notification
    users: tuple[SimUser, ...] | None  # None: anybody
    identity: dict[str, Any]
    started: float
    rule_id: str
    why: str


Cause = Event | Forbidden


def _path_get(payload: Any, path: str) -> tuple[bool, Any]:
    node = payload
    for part in path.split("/"):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _fields_match(payload: Any, fields: dict[str, Any]) -> bool:
    for path, expected in fields.items():
        present, got = _path_get(payload, path)
        if not present or not same(got, expected):
            return False
    return True


class Check:
    """The state and verdicts of one check. Created per test by the pytest plugin."""

    def __init__(self, *, name: str, target: Target, contract: Contract, inbox: Any | None, transcript: Transcript,
                 strict: bool = False) -> None:
        self.name = name
        self.target = target
        self.contract = contract
        self.inbox = inbox  # FcmInbox, or None when the target sends no pushes
        self.transcript = transcript
        self.strict = strict
        self.users: list[SimUser] = []
        self.events: list[Event] = []
        self.forbidden: list[Forbidden] = []
        self.violations: list[Violation] = []
        #: rule ids this check actually judged (looked at something that could have broken them)
        self.judged: set[str] = set()
        #: what the check could not judge (each makes the check an ERROR unless a MUST failed)
        self.problems: list[str] = []
        self.delivery: list[DeliveryRow] = []
        self.actions: list[ActionResult] = []
        self._consumed: dict[str, set[int]] = {}  # listener label -> consumed seqs
        self._consumed_push: set[int] = set()  # emulator attempt seqs
        #: revoked device token -> seq of the attempt FCM answered UNREGISTERED (None: not yet)
        self._revoked: dict[str, int | None] = {}
        self._taught_at: dict[str, float] = {}  # revoked token -> when FCM answered UNREGISTERED (wall clock)
        self._allowed: set[str] = set()  # variant keys whose unexpected copies the check tolerates
        self._faulted: set[str] = set()  # tokens whose sends fail on purpose (fail_pushes)
        self._push_cursor = inbox.cursor() if inbox is not None else 0
        self._wall_offset = time.time() - time.monotonic()
        self._marker_user: User | None = None
        self._markers: dict[str, set[str]] = {}  # listener label -> marker texts consumed there
        self._rows: dict[tuple[int, str, str], int] = {}  # (event, endpoint, channel) -> index in self.delivery
        self._missing: dict[tuple[int, str, str], list[int]] = {}  # (event, endpoint, channel) -> indexes in self.violations
        self._closed: set[str] = set()  # labels of listeners the check closed on purpose
        self.clock = PhaseClock()  # where the check's time goes (b4a run --profile-time)
        self._finished = False

    # ----------------------------------------------------------------- setting up
    @property
    def ws_deadline(self) -> float:
        return float(self.target.profile.websocket_seconds)

    @property
    def push_deadline(self) -> float:
        return float(self.target.profile.push_seconds)

    @property
    def pushes_enabled(self) -> bool:
        return self.inbox is not None

    def require_pushes(self) -> None:
        """Skip a check that only tests pushes when the target sends none (fcm.mode: none, no emulator)."""
        if not self.pushes_enabled:
            import pytest

            pytest.skip("no FCM inbox: the target sends no pushes here (fcm.mode: none, or no emulator)")

    @timed("setup")
    def user(self, label: str, *, connections: int = 1, devices: int = 1, third: bool = False) -> SimUser:
        """A fresh user with `connections` WebSocket listeners and `devices` registered device tokens."""
        user = self.target.create_user(label)
        devices = devices if self.pushes_enabled else 0
        tokens = [f"b4a-{label.lower()}{n + 1}-{uuid.uuid4().hex[:12]}" for n in range(devices)]
        for token in tokens:
            self.target.register_device(user, token)
        sim = SimUser(label, user, [], tokens, third)
        for _ in range(connections):
            self.add_connection(sim)
        self.users.append(sim)
        return sim

    @staticmethod
    def device_label(sim: SimUser, token: str) -> str:
        return f"{sim.label} device {sim.devices.index(token) + 1}"

    def third(self) -> SimUser:
        """A bystander outside the flow, connected throughout with one device: receives nothing (DLV-004)."""
        return self.user("C", third=True)

    def _listener(self, sim: SimUser, label: str) -> Listener:
        ws = self.target.profile.websocket
        listener = Listener(
            self.target.websocket_url(sim.user), framing=ws.framing, identifier=ws.identifier,
            headers=self.target.websocket_headers(sim.user), label=label, transcript=self.transcript,
        )
        self._consumed[label] = set()
        return listener

    def add_connection(self, sim: SimUser) -> Listener:
        listener = self._listener(sim, f"{sim.label}#{len(sim.listeners) + 1}")
        sim.listeners.append(listener)
        return listener

    @timed("setup")
    def connect(self, timeout: float = 5.0) -> None:
        """The readiness barrier: nothing is triggered before every listener is ready.

        Every flow has a connected bystander: the first call adds one if the check made none.
        """
        if self.users and not any(u.third for u in self.users):
            self.third()
        connect_all([l for u in self.users for l in u.listeners if not l.is_open], timeout=timeout)

    @timed("setup")
    def disconnect(self, sim: SimUser, count: int | None = None) -> None:
        """Close `count` (default: all) of the user's open connections, the newest first.

        What they received stays judged; they are not expected to receive anything more.
        """
        open_ones = [l for l in sim.listeners if l.label not in self._closed]
        for listener in reversed(open_ones[-count:] if count is not None else open_ones):
            self._closed.add(listener.label)
            listener.close()

    def _listening(self, sim: SimUser) -> list[Listener]:
        """The user's connections that should receive: all but those the check closed on purpose
        (one the server dropped still counts, so a dropped delivery is reported, not skipped)."""
        return [l for l in sim.listeners if l.label not in self._closed]

    @timed("teardown")
    def close(self) -> None:
        for user in self.users:
            for listener in user.listeners:
                listener.close()

    def future_instant(self, days: int = 7) -> str:
        """A schedule for the flow, made now: an RFC 3339 UTC date-time `days` ahead, whole seconds."""
        return future_instant(days)

    # ----------------------------------------------------------------- acting
    @timed("actions")
    def act(self, action: str, actor: SimUser, other: SimUser | None = None, **params: Any) -> ActionResult:
        """Run an abstract action of the profile; a target that lacks it makes the check SKIP."""
        import pytest

        from harness.target import Unsupported

        try:
            result = self.target.act(action, actor.user, other.user if other else None, **params)
        except Unsupported as exc:
            pytest.skip(f"the target does not support {action}: {exc}")
        self.actions.append(result)
        return result

    @timed("actions")
    def transition(self, actor: SimUser, other: SimUser | None, *, from_state: str | None, to_state: str,
                   **params: Any) -> ActionResult:
        """Move a game session to `to_state` with the target's action for it (game.<verb> or the
        generic game.transition); a target with neither makes the check SKIP."""
        import pytest

        from harness.target import Unsupported

        try:
            result = self.target.game_transition(actor.user, other.user if other else None, from_state=from_state,
                                                 to_state=to_state, **params)
        except Unsupported as exc:
            pytest.skip(f"the target cannot make the game transition {from_state} -> {to_state}: {exc}")
        self.actions.append(result)
        return result

    def require_ok(self, result: ActionResult) -> ActionResult:
        """A setup step of the flow must succeed; if the target refused it, the check cannot go on."""
        if not result.ok:
            from harness.target import TargetError

            raise TargetError(f"{result.action} was refused with HTTP {result.status}: {json.dumps(result.body)[:200]}")
        return result

    def judge(self, *rule_ids: str) -> None:
        """Record that these rules were judged here (a violation, if any, is recorded separately)."""
        for rule_id in rule_ids:
            self.contract.rule(rule_id)  # an unknown id is a bug in the check
            self.judged.add(rule_id)

    def violation(self, rule_id: str, message: str, *, pointer: str = "", source: str | None = None,
                  variant: str | None = None, instance: Any = None) -> Violation:
        rule = self.contract.rule(rule_id)
        found = Violation(rule_id=rule_id, level=rule.level, title=rule.title, message=message, pointer=pointer,
                          source=source, variant=variant, instance=instance)
        self.violations.append(found)
        self.judged.add(rule_id)
        return found

    def could_not_judge(self, problem: str) -> None:
        """Something this check set out to judge could not be judged; the check is an ERROR."""
        self.problems.append(problem)
        self.transcript.record("note", "harness", text=f"could not judge: {problem}")

    @timed("waiting")
    def wait_until(self, moment: float, why: str) -> None:
        """Wait until the monotonic time `moment`, on purpose: only where the contract is about
        time passing (the ring timeout), never to hope that deliveries are done."""
        seconds = max(0.0, moment - time.monotonic())
        self.transcript.record("note", "harness", text=f"waiting {seconds:.1f} s: {why}")
        time.sleep(seconds)

    # ----------------------------------------------------------------- expectations
    def _matches(self, variant: Variant, label: str, since: float) -> Callable[[Received], bool]:
        consumed = self._consumed[label]

        def predicate(received: Received) -> bool:
            # a copy that arrived before the event's request was sent belongs to an earlier event
            if received.seq in consumed or received.t < since or _is_marker(received.payload):
                return False
            claimed = variant_of(received.payload, self.contract)
            # A copy no variant can claim (wrong message_type, missing status) may still be ours:
            # take it, so that its schema violations are reported instead of a missing delivery.
            return claimed is None or claimed == variant

        return predicate

    def _identity(self, variant: Variant, recipients: dict[SimUser, dict[str, Any]]) -> dict[str, Any]:
        keys = self.contract.family(variant.family).identity_keys
        identity: dict[str, Any] = {}
        for fields in recipients.values():
            for key in keys:
                if key in fields and key not in identity:
                    identity[key] = fields[key]
        return identity

    @timed("waiting")
    def expect(self, variant_key: str, action: ActionResult | None, *, actor: SimUser | None,
               recipients: dict[SimUser, dict[str, Any]], within: float | None = None, push: bool = True) -> Event:
        """Each recipient receives exactly this notification, on every connection and device.

        `recipients` maps each recipient to the field values the flow dictates for its copy
        (`{"friend_id": a.id, "open_requests": 1}`; nested keys as `thread/id`): values the
        check sent or the target returned, compared as values (`harness.flow_values.same`).
        `push=False` when the check made FCM fail on purpose, so no push can be expected.
        """
        variant = self.contract.variant(variant_key)
        now = time.monotonic()
        started = action.started_at if action is not None and action.started_at else now
        event = Event(variant, action, actor, recipients, started, self._identity(variant, recipients))
        self.events.append(event)
        responded = action.responded_at if action is not None else now
        deadline = responded + (within if within is not None else self.ws_deadline)
        for sim, fields in recipients.items():
            for listener in self._listening(sim):
                self._expect_ws(event, sim, listener, fields, deadline)
            if variant.pushed and self.pushes_enabled and push:
                push_deadline = responded + max(self.push_deadline, deadline - responded)
                for token in self._live_devices(sim):
                    self._expect_push(event, sim, token, push_deadline)
        return event

    def _expect_ws(self, event: Event, sim: SimUser, listener: Listener, fields: dict[str, Any], deadline: float) -> None:
        variant = event.variant
        ours = self._matches(variant, listener.label, event.started)
        received = listener.wait_for(ours, timeout=max(0.0, deadline - time.monotonic()))
        if received is not None and not _fields_match(received.payload, fields):
            # Copies may overtake each other: prefer the copy this event describes, if it comes
            # soon; otherwise judge the first one (and report its wrong fields).
            exact = listener.wait_for(lambda r: ours(r) and _fields_match(r.payload, fields), timeout=min(0.3, max(0.0, deadline - time.monotonic())))
            received = exact or received
        self.judge(*variant.delivery_rules)
        latency = None
        if received is None:
            within = deadline - (event.action.responded_at if event.action else event.started)
            for rule_id in variant.delivery_rules:
                self._missing.setdefault((id(event), listener.label, "websocket"), []).append(len(self.violations))
                self.violation(rule_id, f"{sim.label} received no {variant.key} on {listener.label} within {within:.1f} s",
                               source=listener.label, variant=variant.key)
        else:
            self._consumed[listener.label].add(received.seq)
            event.ws[listener.label] = received
            latency = round((received.t - event.started) * 1000, 1)
            self._judge_payload(received.payload, variant, fields, listener.label)
        self._add_row(event, self._row(event, sim, listener.label, "websocket", expected=1, seen=0 if received is None else 1,
                                       latency_ms=latency, rule_ids=variant.delivery_rules,
                                       received=None if received is None else received.payload))

    @timed("judging")
    def _judge_payload(self, payload: Any, variant: Variant, fields: dict[str, Any], source: str) -> None:
        reported = set()
        for found in validate(payload, strict=self.strict, contract=self.contract):
            self.violations.append(found.at(source))
            reported.add(found.pointer)
        self.judge(*PAYLOAD_RULES, *(("PAY-006",) if self.strict else ()))
        family = self.contract.family(variant.family)
        for path, expected in fields.items():
            rule_id = family.field_rules.get(path, "DLV-004")
            present, got = _path_get(payload, path)
            if not present or "/" + path in reported:
                continue  # missing, wrong type or format: the schema already reported it (PAY-003/PAY-004)
            self.judge(rule_id)
            if not same(got, expected):
                self.violation(rule_id, f"{path} is {json.dumps(got)}, the flow expects {json.dumps(expected)}",
                               pointer="/" + path, source=source, variant=variant.key, instance=got)

    def _live_devices(self, sim: SimUser) -> list[str]:
        # A revoked token stays expected until the backend has heard UNREGISTERED for it once.
        return [t for t in sim.devices if self._revoked.get(t) is None]

    def _attempts(self, token: str | None = None) -> list[Any]:
        assert self.inbox is not None
        return [a for a in self.inbox.attempts(token=token, after=self._push_cursor) if a.seq not in self._consumed_push]

    def _wait_push(self, token: str, predicate: Callable[[Any], bool], deadline: float,
                   prefer: Callable[[Any], bool] | None = None) -> Any | None:
        """The first attempt for `token` matching `predicate`, by the deadline. With `prefer`,
        an attempt that also matches it wins if one comes within 0.3 s of the first match
        (pushes leave from worker pools, so they may overtake each other)."""
        assert self.inbox is not None
        first_seen: float | None = None
        attempts = self.inbox.attempts(token=token, after=self._push_cursor)
        while True:
            found = [a for a in attempts if a.seq not in self._consumed_push and predicate(a)]
            now = time.monotonic()
            until = deadline
            if found:
                preferred = [a for a in found if prefer is None or prefer(a)]
                if preferred:
                    return preferred[0]
                first_seen = first_seen or now
                until = min(deadline, first_seen + 0.3)
            if now >= until:
                return found[0] if found else None
            # a long-poll: the emulator answers when the next attempt for this token comes
            attempts = self.inbox.wait_attempts(count=len(attempts) + 1, token=token, after=self._push_cursor,
                                                timeout=until - now)

    def _arrived(self, attempt: Any) -> float:
        """When a push attempt reached the emulator, on this process's monotonic clock (the
        emulator stamps wall-clock time; a millisecond of slack for the two clocks' reading)."""
        return attempt.received_at - self._wall_offset + 0.001

    def _is_delivery(self, attempt: Any) -> bool:
        """FCM accepted it for delivery: a 2xx that is not a dry run (validate_only)."""
        return 200 <= (attempt.http_status or 0) < 300 and not attempt.validate_only

    def _expect_push(self, event: Event, sim: SimUser, token: str, deadline: float) -> None:
        variant = event.variant
        label = self.device_label(sim, token)

        def ours(attempt: Any) -> bool:
            data = (attempt.message or {}).get("data")
            if not isinstance(data, dict) or _is_marker(data) or self._arrived(attempt) < event.started:
                return False
            claimed = variant_of_push_data(data, self.contract)
            return claimed is None or claimed == variant

        def counts(attempt: Any) -> bool:
            # the attempt that tells the backend a revoked token is gone is the one expected here
            teaches = token in self._revoked and attempt.error_code == "UNREGISTERED"
            return ours(attempt) and (self._is_delivery(attempt) or teaches)

        fields = event.recipients[sim]

        def exact(attempt: Any) -> bool:
            data = attempt.message["data"]
            return _fields_match(decode_push_data(data, self.contract), fields)

        attempt = self._wait_push(token, counts, deadline, prefer=exact)
        self.judge("DLV-002")
        latency = None
        received: dict[str, Any] | None = None
        if attempt is None:
            refused = [a for a in self._attempts(token) if ours(a) and (a.http_status or 0) < 500]
            self._missing.setdefault((id(event), label, "fcm"), []).append(len(self.violations))
            if refused:
                self._not_delivered(event, sim, label, refused)
            else:
                self.violation("DLV-002", f"{sim.label} received no {variant.key} push on {label} within {deadline - (event.action.responded_at if event.action else event.started):.1f} s",
                               source=label, variant=variant.key)
        else:
            self._consumed_push.add(attempt.seq)
            event.pushes[token] = attempt
            if token in self._revoked and attempt.error_code == "UNREGISTERED":
                self._revoked[token] = attempt.seq
                self._taught_at[token] = attempt.received_at
            latency = round(max(0.0, self._arrived(attempt) - event.started) * 1000, 1)
            self._record_push(label, attempt)
            with self.clock.phase("judging"):
                violations = validate_push(attempt.message, strict=self.strict, contract=self.contract)
            self.judge("PUSH-001", "PUSH-002")
            for found in violations:
                self.violations.append(found.at(label))
            if isinstance((attempt.message or {}).get("data"), dict):
                received = decode_push_data(attempt.message["data"], self.contract)  # decoded once, for both
                if not violations:
                    self._compare_with_websocket(event, sim, received, label)
        self._add_row(event, self._row(event, sim, label, "fcm", expected=1, seen=0 if attempt is None else 1, latency_ms=latency,
                                       rule_ids=("DLV-002",), received=received))

    def _not_delivered(self, event: Event, sim: SimUser, label: str, refused: list[Any]) -> None:
        """The backend tried, but FCM delivered nothing: name what the backend did wrong."""
        variant = event.variant
        for attempt in refused:
            self._consumed_push.add(attempt.seq)
            self._record_push(label, attempt)
        last = refused[-1]
        if last.validate_only:
            why, rule_id = "it was sent as a dry run (validate_only), which FCM checks but never delivers", "DLV-002"
        else:
            why, rule_id = PUSH_REFUSALS.get(last.error_code or "", ("FCM refused it", "DLV-002"))
            detail = f"HTTP {last.http_status} {last.error_code or ''}".strip()
            why = f"FCM answered {detail}: {why}" + (f" ({last.error_message})" if last.error_message else "")
        self.violation("DLV-002", f"{sim.label}'s {variant.key} push on {label} was not delivered: {why}",
                       source=label, variant=variant.key, instance=last.message)
        if rule_id != "DLV-002":
            self.violation(rule_id, f"FCM refused the {variant.key} push on {label}: {last.error_message or last.error_code}",
                           source=label, variant=variant.key, instance=last.message)
        if isinstance(last.message, dict):
            self.judge("PUSH-001", "PUSH-002")
            for found in validate_push(last.message, strict=self.strict, contract=self.contract):
                self.violations.append(found.at(label))

    def _record_push(self, label: str, attempt: Any) -> None:
        # at the time it reached the emulator, not when the harness read it (timelines show it then)
        self.transcript.record("push", label, t=max(0.0, self._arrived(attempt) - self.transcript.started), token=attempt.token,
                               message=attempt.message, http_status=attempt.http_status,
                               error_code=attempt.error_code, validate_only=attempt.validate_only)

    def _row(self, event: Event, sim: SimUser, endpoint: str, channel: str, *, expected: int, seen: int,
             latency_ms: float | None, rule_ids: tuple[str, ...], received: Any = None) -> DeliveryRow:
        """A delivery-matrix row of `event` for one endpoint of `sim`."""
        action = event.action
        return DeliveryRow(
            check_id=self.name, event=event.variant.key, role=self._role(sim, event), user=sim.label, channel=channel,
            endpoint=endpoint, expected=expected, seen=seen, latency_ms=latency_ms, rule_ids=rule_ids,
            event_seq=self.events.index(event) + 1,
            response_ms=round((action.responded_at - event.started) * 1000, 1) if action is not None else None,
            expected_fields=dict(event.recipients[sim]) if expected and sim in event.recipients else None,
            received=received,
        )

    def _add_row(self, event: Event, row: DeliveryRow) -> None:
        self._rows[(id(event), row.endpoint, row.channel)] = len(self.delivery)
        self.delivery.append(row)

    @timed("judging")
    def _compare_with_websocket(self, event: Event, sim: SimUser, pushed: dict[str, Any], label: str) -> None:
        """The decoded push against the recipient's WebSocket copy of the same event (PUSH-003)."""
        copies = [event.ws[l.label] for l in sim.listeners if l.label in event.ws]
        if not copies:
            return
        self.judge("PUSH-003")
        websocket = copies[0].payload
        if pushed != websocket:
            keys = sorted(k for k in set(pushed) | set(websocket) if pushed.get(k, ...) != websocket.get(k, ...))
            self.violation("PUSH-003", f"decoded push differs from the WebSocket payload at {', '.join(keys)}",
                           pointer="/data/" + keys[0] if keys else "", source=label, variant=event.variant.key,
                           instance={"push": {k: pushed.get(k) for k in keys}, "websocket": {k: websocket.get(k) for k in keys}})

    def _role(self, sim: SimUser, event: Event) -> str:
        if sim.third:
            return "third"
        if sim not in event.recipients and event.actor is sim:
            return "actor"
        return sim.label

    # ----------------------------------------------------------------- what must not arrive
    def forbid(self, variant_key: str | None, *, rule: str, why: str, users: Iterable[SimUser] | None = None,
               identity: dict[str, Any] | None = None, after: ActionResult | float | None = None) -> Forbidden:
        """A notification that must not arrive from now (or from `after`'s request) on.

        A copy of `variant_key` (None: any) to `users` (None: anybody) whose identity keys match
        `identity` is a violation of `rule`, with `why` as its reason. Judged at `finish()`.
        """
        variant = self.contract.variant(variant_key) if variant_key else None
        if isinstance(after, ActionResult):
            started = after.started_at or after.responded_at
        else:
            started = after if after is not None else time.monotonic()
        found = Forbidden(variant, tuple(users) if users is not None else None, dict(identity or {}), started, rule, why)
        self.forbidden.append(found)
        return found

    def expect_refused(self, result: ActionResult, *, variant: str | None = None, identity: dict[str, Any] | None = None,
                       why: str = "") -> bool:
        """An action the flow makes a second time (accepting twice, say). The contract does not
        require a refusal, but a refused action must notify nobody (DLV-008). After an accepted
        repeat, a repeated notification is a duplicate (DLV-006), so nothing is forbidden then."""
        what = f"{result.action}{' ' + why if why else ''}"
        self.transcript.record("note", "harness", text=f"{what}: HTTP {result.status} ({'refused' if result.refused else 'accepted'})")
        if result.refused:
            self.forbid(variant, rule="DLV-008", why=f"a notification followed {what}, which the target refused (HTTP {result.status})",
                        identity=identity, after=result)
        return result.refused

    def expect_invalid(self, result: ActionResult, *, variant: str, identity: dict[str, Any] | None = None,
                       why: str = "", should_refuse: str = "GAME-003") -> None:
        """An action outside the contract (a game transition off the graph): it SHOULD be refused
        (`should_refuse`), and MUST notify nobody whatever the answer (DLV-008)."""
        what = f"{result.action}{' ' + why if why else ''}"
        self.judge(should_refuse)
        if not result.refused:
            self.violation(should_refuse, f"{what} was accepted (HTTP {result.status}); it should be refused with a 4xx")
        answer = f"refused with HTTP {result.status}" if result.refused else f"accepted with HTTP {result.status}"
        self.forbid(variant, rule="DLV-008", why=f"a notification followed {what}, an action outside the contract ({answer})",
                    identity=identity, after=result)

    def expect_order(self, events: Iterable[Event]) -> None:
        """Copies of these events reach each connection in the order of their actions (DLV-007)."""
        events = list(events)
        labels = {label for e in events for label in e.ws}
        for label in sorted(labels):
            seqs = [e.ws[label].seq for e in events if label in e.ws]
            if len(seqs) >= 2:
                self.judge("DLV-007")
            if seqs != sorted(seqs):
                order = [e.ws[label].payload.get("status") or e.ws[label].payload.get("state") or e.variant.name for e in events if label in e.ws]
                self.violation("DLV-007", f"{label} received the notifications out of order: {', '.join(map(str, order))}", source=label)

    def allow_unexpected(self, variant_key: str) -> None:
        """Copies of this variant that no expectation consumed are not judged (for a check whose
        action failed on purpose, where whether the backend still notified is not the question)."""
        self._allowed.add(self.contract.variant(variant_key).key)

    def fail_pushes(self, sim: SimUser, code: str, *, latency_ms: int = 0, count: int = 1) -> None:
        """Make FCM fail (and be slow) for this user's devices; those failed attempts are not leftovers."""
        assert self.inbox is not None
        for token in sim.devices:
            self.inbox.inject_fault(code, count=count, latency_ms=latency_ms, token=token)
            self._faulted.add(token)

    @timed("waiting")
    def after_unregistered_grace(self) -> None:
        """Wait until every revoked token's UNREGISTERED answer is older than the grace period, so
        that the next push is one the backend sent knowing the answer (PUSH-005)."""
        if self._taught_at:
            time.sleep(max(0.0, max(self._taught_at.values()) + UNREGISTERED_GRACE_S - time.time()))

    def revoke(self, sim: SimUser, token: str) -> None:
        """FCM will answer UNREGISTERED for this device; after the next push event the backend must drop it."""
        assert self.inbox is not None
        self.inbox.revoke_token(token)
        self._revoked[token] = None

    # ----------------------------------------------------------------- settling and leftovers
    def _marker_sender(self) -> User:
        """The user that sends markers: one per target and process, so no check pays for creating it."""
        if self._marker_user is None:
            key = (self.target.profile.source, self.target.profile.base_url)
            self._marker_user = _MARKER_SENDERS.get(key)
            if self._marker_user is None:
                self._marker_user = _MARKER_SENDERS[key] = self.target.create_user("M")
        return self._marker_user

    def _quiet_by_waiting(self, why: str) -> None:
        seconds = self.target.profile.quiet_window_seconds
        self.transcript.record("note", "harness", text=f"quiet assumed after waiting {seconds:g} s (quiet_window_seconds): {why}")
        time.sleep(seconds)

    @timed("quiet")
    def settle(self) -> bool:
        """Make sure everything sent so far has arrived, by sending a marker to every user.

        A marker that arrives after every expected copy proves nothing earlier is still queued on
        that connection or device. One that never arrives is a problem (quiet not proven); the
        answer is False then. Without chat.post, or when the target refuses the marker, the
        profile's quiet window stands in (recorded in the transcript).
        """
        users = [u for u in self.users if self._listening(u) or self._live_devices(u)]
        if not users:
            return True
        if not self.target.supports("chat.post"):
            self._quiet_by_waiting("the target has no chat.post for markers")
            return True
        sender = self._marker_sender()
        sent = []
        for sim in users:
            text = f"{MARKER_PREFIX}{uuid.uuid4().hex[:10]}"
            # (not in self.actions: markers are the harness's, not the flow's, so not in "Reproduce with")
            result = self.target.act("chat.post", sender, sim.user, text=text)
            sent.append((sim, text, result))
        quiet = True
        for sim, text, result in sent:
            if not result.ok:
                self._quiet_by_waiting(f"the target refused the marker chat to {sim.label} (HTTP {result.status})")
                continue
            deadline = result.responded_at + self.ws_deadline
            for listener in self._listening(sim):
                marker = listener.wait_for(_copy_is_marker(text), timeout=max(0.0, deadline - time.monotonic()))
                if marker is None:
                    quiet = False
                    ended = f" (the connection ended: {listener.end_reason})" if listener.end_reason else ""
                    self.could_not_judge(f"could not prove quiet on {listener.label}: its marker chat did not arrive within {self.ws_deadline:g} s{ended}")
                else:
                    self._consumed[listener.label].add(marker.seq)
                    self._markers.setdefault(listener.label, set()).add(text)
            if self.pushes_enabled:
                push_deadline = result.responded_at + self.push_deadline
                for token in self._live_devices(sim):
                    found = self._wait_push(token, _push_is_marker(text), push_deadline)
                    if found is None:
                        quiet = False
                        self.could_not_judge(f"could not prove quiet on {self.device_label(sim, token)}: its marker push did not reach FCM within {self.push_deadline:g} s")
                    else:
                        self._consumed_push.add(found.seq)
        return quiet

    @timed("judging")
    def finish(self) -> list[Violation]:
        """Settle, then judge every copy nobody expected. Idempotent; returns all violations."""
        if self._finished:
            return self.violations
        self._finished = True
        quiet = self.settle()
        for sim in self.users:
            for listener in sim.listeners:
                for received in listener.messages():
                    if received.seq in self._consumed[listener.label]:
                        continue
                    if _is_marker(received.payload) and received.payload["message"] in self._markers.get(listener.label, ()):
                        self.violation("DLV-006", f"a second copy of the same notification: chat/new_message on {listener.label}",
                                       source=listener.label, variant="chat/new_message", instance=received.payload)
                        continue
                    claimed = variant_of(received.payload, self.contract)
                    if claimed is not None and claimed.key in self._allowed:
                        continue
                    self._leftover(sim, listener.label, listener.label, "websocket", claimed, received.payload, received.t, received.payload)
        if self.pushes_enabled:
            self._push_leftovers()
        if quiet:
            self._judge_silence()
        self._silent_rows()
        return self.violations

    def _push_leftovers(self) -> None:
        owners = {token: sim for sim in self.users for token in sim.devices}
        for attempt in self._attempts():
            owner = owners.get(attempt.token)
            injected = attempt.token in self._faulted and (attempt.http_status or 0) >= 400
            if owner is None or (attempt.http_status or 0) >= 500 or injected:
                continue  # another check's device, an SDK retry of a 5xx, or a failure the check asked for
            data = (attempt.message or {}).get("data")
            if _is_marker(data):
                continue  # a marker's extra copy is judged on the WebSocket side
            variant = variant_of_push_data(data, self.contract) if isinstance(data, dict) else None
            if variant is not None and variant.key in self._allowed:
                continue
            label = self.device_label(owner, attempt.token)
            self._record_push(label, attempt)
            taught = self._revoked.get(attempt.token)
            if attempt.token in self._revoked and taught is None and attempt.error_code == "UNREGISTERED":
                continue  # the attempt that tells the backend, arriving for an event that did not expect it
            if taught is not None and attempt.seq > taught and attempt.received_at > self._taught_at[attempt.token] + UNREGISTERED_GRACE_S:
                # FCM already answered UNREGISTERED for this token: any further attempt is one too many.
                self.violation("PUSH-005", f"a push went to a token FCM had reported UNREGISTERED: {variant.key if variant else 'an unrecognised push'} on {label}",
                               source=label, variant=variant.key if variant else None, instance=attempt.message)
                self._unexpected_row(owner, label, "fcm", variant, None, "PUSH-005")
                continue
            payload = decode_push_data(data, self.contract) if isinstance(data, dict) and variant is not None else data
            t = self._arrived(attempt)
            self._leftover(owner, label, attempt.token, "fcm", variant, payload, t, attempt.message)

    def _leftover(self, sim: SimUser, endpoint: str, key: str, channel: str, variant: Variant | None, payload: Any,
                  t: float, instance: Any) -> None:
        """A copy no expectation consumed (on `endpoint`: a listener, or the device with token
        `key`): find the event or forbidden notification that explains it, then name what is
        wrong with it (or count it once as late)."""
        name = variant.key if variant else ("an unrecognised push" if channel == "fcm" else "an unrecognised message")
        if variant is None and not sim.third:
            # No variant claims it, so no event can own it: the schemas say what is wrong with it
            # (PAY-001/PAY-002), rather than calling it a duplicate or a leak of something else.
            judged = validate_push(instance, strict=self.strict, contract=self.contract) if channel == "fcm" \
                else validate(payload, strict=self.strict, contract=self.contract)
            for found in judged:
                self.violations.append(found.at(endpoint))
            if judged:
                self._unexpected_row(sim, endpoint, channel, None, None, judged[0].rule_id, payload)
                return
        cause = self._cause(sim, variant, payload, t)
        of = f" of {cause.variant.key}" if isinstance(cause, Event) else ""
        if channel == "fcm" and variant is not None and not variant.pushed:
            rule_id, why = "DLV-003", f"{variant.key} is WebSocket-only but was pushed"
        elif sim.third:
            rule_id, why = "DLV-004", f"bystander {sim.label} received a copy{of}, though it is no party of the flow"
        elif isinstance(cause, Forbidden):
            rule_id, why = cause.rule_id, cause.why
        elif isinstance(cause, Event):
            if sim in cause.recipients:
                consumed = key in (cause.ws if channel == "websocket" else cause.pushes)
                if not consumed and self._late(cause, endpoint, channel, t):
                    return
                rule_id, why = "DLV-006", "a second copy of the same notification"
            elif cause.actor is sim:
                rule_id, why = "DLV-005", f"the acting user {sim.label} received a copy of {cause.variant.key}"
            else:
                rule_id, why = "DLV-004", f"{sim.label} received a copy of {cause.variant.key}, an event it is no party of"
        else:
            rule_id, why = "DLV-004", f"{sim.label} received a notification no action of the flow explains"
        self.violation(rule_id, f"{why}: {name} on {endpoint}", source=endpoint, variant=variant.key if variant else None,
                       instance=instance)
        self._unexpected_row(sim, endpoint, channel, variant, cause if isinstance(cause, Event) else None, rule_id, payload)

    def _cause(self, sim: SimUser, variant: Variant | None, payload: Any, t: float) -> Cause | None:
        """The event (or forbidden notification) a stray copy belongs to: same variant, identity
        keys that match, caused by a request sent before the copy arrived; of those, one that
        concerns this user, then the most recent (the action the copy follows)."""
        def fits(candidate_variant: Variant | None, identity: dict[str, Any], started: float) -> bool:
            if started > t:
                return False
            if candidate_variant is not None and variant is not None and candidate_variant != variant:
                return False
            for key, value in identity.items():
                present, got = _path_get(payload, key)
                if present and not same(got, value):
                    return False
            return True

        causes: list[tuple[bool, bool, float, Cause]] = []
        for event in self.events:
            if fits(event.variant, event.identity, event.started):
                concerns = sim in event.recipients or event.actor is sim
                causes.append((concerns, self._consistent(event, sim, payload), event.started, event))
        for forbidden in self.forbidden:
            if (forbidden.users is None or sim in forbidden.users) and fits(forbidden.variant, forbidden.identity, forbidden.started):
                causes.append((True, True, forbidden.started, forbidden))
        if not causes:
            return None
        return max(causes, key=lambda c: c[:3])[3]

    def _consistent(self, event: Event, sim: SimUser, payload: Any) -> bool:
        """Whether the copy's fields could be this event's copy for `sim`: the recipient's own
        fields, or for the actor the counterpart key naming a recipient (an echo of its action)."""
        if sim in event.recipients:
            return _fields_match(payload, event.recipients[sim])
        key = self.contract.family(event.variant.family).counterpart_key
        if event.actor is sim and key is not None:
            present, got = _path_get(payload, key)
            return not present or any(same(got, r.id) for r in event.recipients)
        return True

    def _late(self, event: Event, endpoint: str, channel: str, t: float) -> bool:
        """A copy that missed its deadline but came before the end: counted once, as late.

        Its missing delivery is already a violation; it now says how late the copy was, instead
        of a second violation blaming the same slow delivery as a stray copy.
        """
        index = self._rows.get((id(event), endpoint, channel))
        if index is None or self.delivery[index].seen != 0 or self.delivery[index].expected != 1:
            return False
        took = t - event.started
        self.delivery[index] = dataclasses.replace(self.delivery[index], seen=1, latency_ms=round(took * 1000, 1), late=True)
        deadline = (self.ws_deadline if channel == "websocket" else self.push_deadline)
        for missing in self._missing.get((id(event), endpoint, channel), ()):
            self.violations[missing] = dataclasses.replace(
                self.violations[missing],
                message=f"{event.variant.key} arrived late on {endpoint}: {took:.2f} s after the action's request (deadline {deadline:g} s after its response)")
        self.transcript.record("note", endpoint, text=f"{event.variant.key} arrived late on {endpoint}, {took:.2f} s after the action's request")
        return True

    def _judge_silence(self) -> None:
        """Quiet was proven: the rules about what must not arrive were judged for this flow."""
        if any(u.third for u in self.users):
            self.judge("DLV-004")
        if any(e.actor is not None and e.actor not in e.recipients and (e.actor.listeners or e.actor.devices) for e in self.events):
            self.judge("DLV-005")
        if any(e.ws or e.pushes for e in self.events):
            self.judge("DLV-006")
        if self.pushes_enabled and any(not e.variant.pushed and any(s.devices for s in e.recipients) for e in self.events):
            self.judge("DLV-003")
        for forbidden in self.forbidden:
            self.judge(forbidden.rule_id)
        if any(seq is not None for seq in self._revoked.values()):
            self.judge("PUSH-005")

    def _unexpected_row(self, sim: SimUser, endpoint: str, channel: str, variant: Variant | None, event: Event | None,
                        rule_id: str, payload: Any = None) -> None:
        index = self._rows.get((id(event), endpoint, channel)) if event is not None else None
        if index is not None:  # a second copy where one was expected, or a stray one where none was
            row = self.delivery[index]
            self.delivery[index] = dataclasses.replace(row, seen=row.seen + 1, rule_ids=tuple(dict.fromkeys((*row.rule_ids, rule_id))))
            return
        if event is not None:
            self._add_row(event, self._row(event, sim, endpoint, channel, expected=0, seen=1, latency_ms=None, rule_ids=(rule_id,),
                                           received=payload))
        else:
            self.delivery.append(DeliveryRow(
                check_id=self.name, event=variant.key if variant else "(unrecognised)", role="third" if sim.third else sim.label,
                user=sim.label, channel=channel, endpoint=endpoint, expected=0, seen=1, latency_ms=None, rule_ids=(rule_id,),
                received=payload,
            ))

    def _silent_rows(self) -> None:
        """Rows for the endpoints that must receive nothing of each event, so the matrix shows them too."""
        for event in self.events:
            for sim in self.users:
                for listener in sim.listeners:
                    if sim.third or (event.actor is sim and sim not in event.recipients):
                        self._zero_row(event, sim, listener.label, "websocket", "DLV-004" if sim.third else "DLV-005")
                silent = sim.third or (event.actor is sim and sim not in event.recipients) or (sim in event.recipients and not event.variant.pushed)
                if silent:
                    rule_id = "DLV-004" if sim.third else ("DLV-003" if sim in event.recipients else "DLV-005")
                    for token in sim.devices:
                        self._zero_row(event, sim, self.device_label(sim, token), "fcm", rule_id)

    def _zero_row(self, event: Event, sim: SimUser, endpoint: str, channel: str, rule_id: str) -> None:
        if (id(event), endpoint, channel) not in self._rows:
            self._add_row(event, self._row(event, sim, endpoint, channel, expected=0, seen=0, latency_ms=None, rule_ids=(rule_id,)))

    # ----------------------------------------------------------------- verdict
    def failing(self) -> list[Violation]:
        return [v for v in self.violations if v.level is Level.MUST or self.strict]

    def outcome(self) -> Outcome:
        """FAIL/NON_STRICT from the violations; an unjudgeable part makes an otherwise clean
        check an ERROR; a check that judged nothing at all is not a PASS (SKIP)."""
        outcome = Outcome.for_violations(self.violations, strict=self.strict)
        if self.problems and outcome is not Outcome.FAIL:
            return Outcome.ERROR
        if outcome is Outcome.PASS and not self.judged:
            return Outcome.SKIP
        return outcome

    def rule_verdicts(self, declared: Iterable[str]) -> dict[str, tuple[Outcome, str]]:
        """Per rule (declared by the check's markers, or violated): its outcome here and why.

        PASS only for a rule judged without a violation; a declared rule never judged is SKIP
        ("not reached"), never PASS.
        """
        verdicts: dict[str, tuple[Outcome, str]] = {}
        for rule_id in dict.fromkeys([*declared, *(v.rule_id for v in self.violations)]):
            own = [v for v in self.violations if v.rule_id == rule_id]
            if own:
                verdicts[rule_id] = (Outcome.for_violations(own, strict=self.strict), f"{len(own)} violation(s)")
            elif rule_id in self.judged:
                verdicts[rule_id] = (Outcome.PASS, "judged")
            else:
                verdicts[rule_id] = (Outcome.SKIP, "not reached")
        return verdicts

    def reproduce(self) -> str:
        return "\n".join(line for result in self.actions for line in result.curl)


def _is_marker(payload: Any, text: str | None = None) -> bool:
    if not isinstance(payload, dict):
        return False
    message = payload.get("message")
    if not isinstance(message, str) or not message.startswith(MARKER_PREFIX):
        return False
    return text is None or message == text


def _copy_is_marker(text: str) -> Callable[[Received], bool]:
    return lambda received: _is_marker(received.payload, text)


def _push_is_marker(text: str) -> Callable[[Any], bool]:
    """A push attempt of this marker that the backend made (a 4xx counts: it was sent; a 5xx is an SDK retry)."""
    return lambda attempt: _is_marker((attempt.message or {}).get("data"), text) and (attempt.http_status or 0) < 500
