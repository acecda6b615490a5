"""One conformance check: simulated users, their connections and devices, and expectations.

A check drives a flow through the `Target`, captures what every connection and device of its
users receives, and judges it: `expect()` consumes the copies the contract requires and compares
them with the schemas and the flow; `finish()` settles (a marker chat message to every user, so
that anything sent earlier has arrived: no blind sleep) and classifies every copy nobody expected
(a leak, an echo, a duplicate, a push for a WebSocket-only event...). Every finding is a
`Violation` carrying its rule id; the delivery matrix rows are recorded on the way.
"""
from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from harness.contract import Contract, Variant
from harness.listener import Listener, Received, connect_all
from harness.push_codec import decode_push_data, variant_of_push_data
from harness.report.model import DeliveryRow
from harness.target import ActionResult, Target, User
from harness.transcript import Transcript
from harness.validation import validate, validate_push, variant_of
from harness.violations import Level, Violation

MARKER_PREFIX = "b4a-marker "
#: A push that left before the backend could have read FCM's UNREGISTERED answer (in flight on
#: another worker) is not held against it: only attempts later than this count for PUSH-005.
UNREGISTERED_GRACE_S = 1.0


@dataclasses.dataclass(eq=False)
class SimUser:
    """A simulated user: the backend's user plus the connections and devices the check opened."""

    label: str
    user: User
    listeners: list[Listener]
    devices: list[str]
    third: bool = False

    @property
    def id(self) -> int:
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
    #: listener label -> the copy consumed on it
    ws: dict[str, Received] = dataclasses.field(default_factory=dict)
    #: device token -> the push attempt consumed for it
    pushes: dict[str, Any] = dataclasses.field(default_factory=dict)


def _fields_match(payload: Any, fields: dict[str, Any]) -> bool:
    return all(_path_get(payload, path) == (True, expected) for path, expected in fields.items())


def _path_get(payload: Any, path: str) -> tuple[bool, Any]:
    node = payload
    for part in path.split("/"):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


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
        self.violations: list[Violation] = []
        self.delivery: list[DeliveryRow] = []
        self.actions: list[ActionResult] = []
        self.refused: list[tuple[ActionResult, str]] = []  # refused action, rule it would break if notified
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
        """A user outside the flow, connected throughout with one device: receives nothing (DLV-004)."""
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

    def connect(self, timeout: float = 5.0) -> None:
        """The readiness barrier: nothing is triggered before every listener is ready."""
        connect_all([l for u in self.users for l in u.listeners if not l.is_open], timeout=timeout)

    def close(self) -> None:
        for user in self.users:
            for listener in user.listeners:
                listener.close()

    # ----------------------------------------------------------------- acting
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

    def require_ok(self, result: ActionResult) -> ActionResult:
        """A setup step of the flow must succeed; if the target refused it, the check cannot go on."""
        if not result.ok:
            from harness.target import TargetError

            raise TargetError(f"{result.action} was refused with HTTP {result.status}: {json.dumps(result.body)[:200]}")
        return result

    def violation(self, rule_id: str, message: str, *, pointer: str = "", source: str | None = None,
                  variant: str | None = None, instance: Any = None) -> Violation:
        rule = self.contract.rule(rule_id)
        found = Violation(rule_id=rule_id, level=rule.level, title=rule.title, message=message, pointer=pointer,
                          source=source, variant=variant, instance=instance)
        self.violations.append(found)
        return found

    # ----------------------------------------------------------------- expectations
    def _matches(self, variant: Variant, label: str) -> Callable[[Received], bool]:
        consumed = self._consumed[label]

        def predicate(received: Received) -> bool:
            if received.seq in consumed or _is_marker(received.payload):
                return False
            claimed = variant_of(received.payload, self.contract)
            # A copy no variant can claim (wrong message_type, missing status) may still be ours:
            # take it, so that its schema violations are reported instead of a missing delivery.
            return claimed is None or claimed == variant

        return predicate

    def expect(self, variant_key: str, action: ActionResult | None, *, actor: SimUser | None,
               recipients: dict[SimUser, dict[str, Any]], within: float | None = None, push: bool = True) -> Event:
        """Each recipient receives exactly this notification, on every connection and device.

        `recipients` maps each recipient to the field values the flow dictates for its copy
        (`{"friend_id": a.id, "open_requests": 1}`; nested keys as `thread/id`). `push=False`
        when the check made FCM fail on purpose, so no push can be expected.
        """
        variant = self.contract.variant(variant_key)
        event = Event(variant, action, actor, recipients)
        self.events.append(event)
        start = action.responded_at if action is not None else time.monotonic()
        deadline = start + (within if within is not None else self.ws_deadline)
        for sim, fields in recipients.items():
            for listener in sim.listeners:
                self._expect_ws(event, sim, listener, fields, start, deadline)
            if variant.pushed and self.pushes_enabled and push:
                push_deadline = start + max(self.push_deadline, deadline - start)
                for token in self._live_devices(sim):
                    self._expect_push(event, sim, token, start, push_deadline)
        return event

    def _expect_ws(self, event: Event, sim: SimUser, listener: Listener, fields: dict[str, Any], start: float, deadline: float) -> None:
        variant = event.variant
        ours = self._matches(variant, listener.label)
        received = listener.wait_for(ours, timeout=max(0.0, deadline - time.monotonic()))
        if received is not None and not _fields_match(received.payload, fields):
            # Copies may overtake each other: prefer the copy this event describes, if it comes
            # soon; otherwise judge the first one (and report its wrong fields).
            exact = listener.wait_for(lambda r: ours(r) and _fields_match(r.payload, fields), timeout=min(0.3, max(0.0, deadline - time.monotonic())))
            received = exact or received
        latency = None
        if received is None:
            for rule_id in variant.delivery_rules:
                self.violation(rule_id, f"{sim.label} received no {variant.key} on {listener.label} within {deadline - start:.1f} s",
                               source=listener.label, variant=variant.key)
        else:
            self._consumed[listener.label].add(received.seq)
            event.ws[listener.label] = received
            latency = round((received.t - start) * 1000, 1)
            self._judge_payload(received.payload, variant, fields, listener.label)
        self._add_row(event, DeliveryRow(
            check_id=self.name, event=variant.key, role=self._role(sim, event), user=sim.label, channel="websocket",
            endpoint=listener.label, expected=1, seen=0 if received is None else 1, latency_ms=latency,
            rule_ids=variant.delivery_rules,
        ))

    def _judge_payload(self, payload: Any, variant: Variant, fields: dict[str, Any], source: str) -> None:
        reported = set()
        for found in validate(payload, strict=self.strict, contract=self.contract):
            self.violations.append(found.at(source))
            reported.add(found.pointer)
        family = self.contract.family(variant.family)
        for path, expected in fields.items():
            present, got = _path_get(payload, path)
            if not present or "/" + path in reported:
                continue  # missing, wrong type or format: the schema already reported it (PAY-003/PAY-004)
            if got != expected:
                self.violation(family.field_rules.get(path, "DLV-004"), f"{path} is {json.dumps(got)}, the flow expects {json.dumps(expected)}",
                               pointer="/" + path, source=source, variant=variant.key, instance=got)

    def _live_devices(self, sim: SimUser) -> list[str]:
        # A revoked token stays expected until the backend has heard UNREGISTERED for it once.
        return [t for t in sim.devices if self._revoked.get(t) is None]

    def _attempts(self, token: str | None = None) -> list[Any]:
        assert self.inbox is not None
        return [a for a in self.inbox.attempts(token=token, after=self._push_cursor) if a.seq not in self._consumed_push]

    def _wait_push(self, token: str, predicate: Callable[[Any], bool], deadline: float) -> Any | None:
        while True:
            for attempt in self._attempts(token):
                # Retries of an injected 5xx are the SDK's business; judge what FCM accepted or refused.
                if (attempt.http_status or 0) < 500 and predicate(attempt):
                    return attempt
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.03)

    def _expect_push(self, event: Event, sim: SimUser, token: str, start: float, deadline: float) -> None:
        variant = event.variant
        label = self.device_label(sim, token)

        def ours(attempt: Any) -> bool:
            data = (attempt.message or {}).get("data")
            if not isinstance(data, dict) or _is_marker(data):
                return False
            claimed = variant_of_push_data(data, self.contract)
            return claimed is None or claimed == variant

        attempt = self._wait_push(token, ours, deadline)
        latency = None
        if attempt is None:
            self.violation("DLV-002", f"{sim.label} received no {variant.key} push on {label} within {deadline - start:.1f} s",
                           source=label, variant=variant.key)
        else:
            self._consumed_push.add(attempt.seq)
            event.pushes[token] = attempt
            if token in self._revoked and attempt.error_code == "UNREGISTERED":
                self._revoked[token] = attempt.seq
                self._taught_at[token] = attempt.received_at
            latency = round((attempt.received_at - self._wall_offset - start) * 1000, 1)
            self.transcript.record("push", label, token=token, message=attempt.message, http_status=attempt.http_status,
                                   error_code=attempt.error_code)
            violations = validate_push(attempt.message, strict=self.strict, contract=self.contract)
            for found in violations:
                self.violations.append(found.at(label))
            if not violations:
                self._compare_with_websocket(event, sim, token, attempt, label)
        self._add_row(event, DeliveryRow(
            check_id=self.name, event=variant.key, role=self._role(sim, event), user=sim.label, channel="fcm",
            endpoint=label, expected=1, seen=0 if attempt is None else 1, latency_ms=latency, rule_ids=("DLV-002",),
        ))

    def _add_row(self, event: Event, row: DeliveryRow) -> None:
        self._rows[(id(event), row.endpoint, row.channel)] = len(self.delivery)
        self.delivery.append(row)

    def _compare_with_websocket(self, event: Event, sim: SimUser, token: str, attempt: Any, label: str) -> None:
        copies = [event.ws[l.label] for l in sim.listeners if l.label in event.ws]
        if not copies:
            return
        pushed = decode_push_data(attempt.message["data"], self.contract)
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

    def expect_refused(self, result: ActionResult, *, rule: str = "DLV-008", why: str = "") -> None:
        """The target must refuse this action with a 4xx; whatever it sends afterwards is a violation."""
        if not result.refused:
            self.violation(rule, f"{result.action} {why}was accepted (HTTP {result.status}); the contract expects a 4xx refusal")
        self.refused.append((result, "DLV-008" if result.refused else rule))

    def expect_order(self, events: Iterable[Event]) -> None:
        """Copies of these events reach each connection in the order of their actions (DLV-007)."""
        events = list(events)
        labels = {label for e in events for label in e.ws}
        for label in sorted(labels):
            seqs = [e.ws[label].seq for e in events if label in e.ws]
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
        if self._marker_user is None:
            self._marker_user = self.target.create_user("M")
        return self._marker_user

    def settle(self) -> None:
        """Make sure everything sent so far has arrived, by sending a marker to every user."""
        users = [u for u in self.users if u.listeners or u.devices]
        if not users:
            return
        if not self.target.supports("chat.post"):
            time.sleep(self.target.profile.quiet_window_seconds)
            return
        sender = self._marker_sender()
        sent = []
        for sim in users:
            text = f"{MARKER_PREFIX}{uuid.uuid4().hex[:10]}"
            # (not in self.actions: markers are the harness's, not the flow's, so not in "Reproduce with")
            result = self.target.act("chat.post", sender, sim.user, text=text)
            sent.append((sim, text, result))
        for sim, text, result in sent:
            if not result.ok:
                time.sleep(self.target.profile.quiet_window_seconds)
                continue
            deadline = result.responded_at + self.ws_deadline
            for listener in sim.listeners:
                marker = listener.wait_for(_copy_is_marker(text), timeout=max(0.0, deadline - time.monotonic()))
                if marker is not None:
                    self._consumed[listener.label].add(marker.seq)
                    self._markers.setdefault(listener.label, set()).add(text)
            if self.pushes_enabled:
                push_deadline = result.responded_at + self.push_deadline
                for token in self._live_devices(sim):
                    found = self._wait_push(token, _push_is_marker(text), push_deadline)
                    if found is not None:
                        self._consumed_push.add(found.seq)

    def finish(self) -> list[Violation]:
        """Settle, then judge every copy nobody expected. Idempotent; returns all violations."""
        if self._finished:
            return self.violations
        self._finished = True
        self.settle()
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
                    if not self._late(claimed, listener.label, "websocket", received.t):
                        self._classify_ws(sim, listener.label, received, claimed)
        if self.pushes_enabled:
            owners = {token: sim for sim in self.users for token in sim.devices}
            for attempt in self._attempts():
                owner = owners.get(attempt.token)
                injected = attempt.token in self._faulted and (attempt.http_status or 0) >= 400
                if owner is None or (attempt.http_status or 0) >= 500 or injected:
                    continue
                data = (attempt.message or {}).get("data")
                variant = variant_of_push_data(data, self.contract) if isinstance(data, dict) else None
                label = self.device_label(owner, attempt.token)
                if variant is not None and variant.key in self._allowed:
                    continue
                if self._revoked.get(attempt.token) is not None or not self._late(variant, label, "fcm", attempt.received_at - self._wall_offset):
                    self._classify_push(owner, attempt, variant, label)
        self._silent_rows()
        return self.violations

    def _event_for(self, variant: Variant | None) -> Event | None:
        for event in reversed(self.events):
            if variant is None or event.variant == variant:
                return event
        return None

    def _after_refused(self, t: float) -> str | None:
        for result, rule in self.refused:
            if t >= result.responded_at - 0.05:
                return rule
        return None

    def _classify(self, sim: SimUser, variant: Variant | None, t: float, consumed_here: bool, channel: str) -> tuple[str, str]:
        event = self._event_for(variant)
        if sim.third:
            return "DLV-004", f"third user {sim.label} received a notification"
        if channel == "fcm" and variant is not None and not variant.pushed:
            return "DLV-003", f"{variant.key} is WebSocket-only but was pushed"
        refused_rule = self._after_refused(t)
        if refused_rule:
            return refused_rule, "a notification followed an action the target refused"
        if event is not None and event.actor is sim and sim not in event.recipients:
            return "DLV-005", f"the acting user {sim.label} received a copy of {event.variant.key}"
        if consumed_here:
            return "DLV-006", "a second copy of the same notification"
        return "DLV-004", f"{sim.label} received a notification the flow did not cause"

    def _classify_ws(self, sim: SimUser, label: str, received: Received, variant: Variant | None) -> None:
        consumed_here = any(e.variant == variant and label in e.ws for e in self.events)
        rule_id, why = self._classify(sim, variant, received.t, consumed_here, "websocket")
        name = variant.key if variant else "an unrecognised message"
        self.violation(rule_id, f"{why}: {name} on {label}", source=label, variant=variant.key if variant else None,
                       instance=received.payload)
        self._unexpected_row(sim, label, "websocket", variant, rule_id)

    def _classify_push(self, sim: SimUser, attempt: Any, variant: Variant | None, label: str) -> None:
        if _is_marker((attempt.message or {}).get("data")):
            return  # a marker's extra copy is judged on the WebSocket side
        self.transcript.record("push", label, token=attempt.token, message=attempt.message, http_status=attempt.http_status,
                               error_code=attempt.error_code)
        taught = self._revoked.get(attempt.token)
        if attempt.token in self._revoked and taught is None and attempt.error_code == "UNREGISTERED":
            return  # the attempt that tells the backend, arriving for an event that did not expect it
        if taught is not None and attempt.seq > taught and attempt.received_at > self._taught_at[attempt.token] + UNREGISTERED_GRACE_S:
            # FCM already answered UNREGISTERED for this token: any further attempt is one too many.
            rule_id, why = "PUSH-005", "a push went to a token FCM had reported UNREGISTERED"
        else:
            consumed_here = any(e.variant == variant and attempt.token in e.pushes for e in self.events)
            t = attempt.received_at - self._wall_offset
            rule_id, why = self._classify(sim, variant, t, consumed_here, "fcm")
        self.violation(rule_id, f"{why}: {variant.key if variant else 'an unrecognised push'} on {label}", source=label,
                       variant=variant.key if variant else None, instance=attempt.message)
        self._unexpected_row(sim, label, "fcm", variant, rule_id)

    def _late(self, variant: Variant | None, endpoint: str, channel: str, t: float) -> bool:
        """A copy that missed its deadline but came before the end: counted once, as late.

        Its missing delivery is already a violation; reporting it again as a stray copy would
        blame one slow delivery twice.
        """
        for event in self.events:
            index = self._rows.get((id(event), endpoint, channel))
            if event.variant == variant and index is not None and self.delivery[index].seen == 0 and self.delivery[index].expected == 1:
                start = event.action.responded_at if event.action is not None else t
                self.delivery[index] = dataclasses.replace(self.delivery[index], seen=1, latency_ms=round((t - start) * 1000, 1))
                self.transcript.record("note", endpoint, text=f"{variant.key} arrived late on {endpoint}, {t - start:.1f} s after the action")
                return True
        return False

    def _unexpected_row(self, sim: SimUser, endpoint: str, channel: str, variant: Variant | None, rule_id: str) -> None:
        event = self._event_for(variant)
        index = self._rows.get((id(event), endpoint, channel)) if event is not None else None
        if index is not None:  # a second copy where one was expected, or a stray one where none was
            row = self.delivery[index]
            self.delivery[index] = dataclasses.replace(row, seen=row.seen + 1, rule_ids=tuple(dict.fromkeys((*row.rule_ids, rule_id))))
            return
        row = DeliveryRow(
            check_id=self.name, event=variant.key if variant else "(unrecognised)", role=self._role(sim, event) if event else sim.label,
            user=sim.label, channel=channel, endpoint=endpoint, expected=0, seen=1, latency_ms=None, rule_ids=(rule_id,),
        )
        if event is not None:
            self._add_row(event, row)
        else:
            self.delivery.append(row)

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
            self._add_row(event, DeliveryRow(
                check_id=self.name, event=event.variant.key, role=self._role(sim, event), user=sim.label, channel=channel,
                endpoint=endpoint, expected=0, seen=0, latency_ms=None, rule_ids=(rule_id,),
            ))

    # ----------------------------------------------------------------- verdict
    def failing(self) -> list[Violation]:
        return [v for v in self.violations if v.level is Level.MUST or self.strict]

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
    return lambda attempt: _is_marker((attempt.message or {}).get("data"), text)
