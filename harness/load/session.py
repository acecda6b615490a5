"""One load process's state: its simulated users, their connections and devices, the ledger.

A Locust process (the local runner, or each worker) holds one `LoadSession`. Its users act through
`act()` (timed into Locust's request stats) and say what they expect through `expect()`; every
WebSocket frame and every FCM send attempt for one of its users is judged (`harness.validation`)
and handed to the ledger as it arrives. `drain()` ends it: wait for what is still due, listen a
quiet window longer for duplicates and leaks, and count.
"""
from __future__ import annotations

import dataclasses
import itertools
import random
import secrets
import time
from typing import Any

import gevent
import psutil

from harness.contract import load_contract
from harness.emulator.fcm import FcmInbox
from harness.flow_values import canonical
from harness.listener.framing import make_framing
from harness.load.config import LoadConfig
from harness.load.ledger import DeliveryLedger
from harness.load.population import Member, Population
from harness.load.receivers import ConnectError, PushFollower, Receiver
from harness.profile import load_profile
from harness.push_codec import decode_push_data, variant_of_push_data
from harness.target import ActionResult, Target, TargetError, Unsupported
from harness.transcript import Entry, Transcript
from harness.validation import judge, validate_push

#: setup problems kept as evidence (the count is exact)
SETUP_EXAMPLES = 5


class ActionFailed(Exception):
    """What Locust's request stats show for an action the backend refused or failed."""


class LoadTranscript(Transcript):
    """Target records every exchange for a check's report; under load nothing is kept."""

    def record(self, kind: str, label: str, t: float | None = None, **data: Any) -> Entry:
        return Entry(self.now() if t is None else t, kind, label, data)


class CpuSampler:
    """This process's CPU use, once a second: the load generator must not be the bottleneck."""

    def __init__(self, started_at: float) -> None:
        self.started_at = started_at
        self.samples: list[tuple[int, float]] = []
        self._process = psutil.Process()
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        self._process.cpu_percent(None)
        self._greenlet = gevent.spawn(self._sample)

    def _sample(self) -> None:
        while True:
            gevent.sleep(1.0)
            self.samples.append((int(time.time() - self.started_at), self._process.cpu_percent(None)))

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)


class LoadSession:
    def __init__(self, config: LoadConfig, process: str, events: Any) -> None:
        self.config = config
        self.process = process
        self.events = events
        self.contract = load_contract()
        self.profile = load_profile(config.profile_text, overrides={"base_url": config.base_url})
        self.ring_timeout = self.profile.ring_timeout_seconds
        self.ledger = DeliveryLedger(websocket_seconds=self.profile.websocket_seconds,
                                     push_seconds=self.profile.push_seconds, started_at=config.started_at,
                                     contract=self.contract)
        self.population = Population()
        self.framing = make_framing(self.profile.websocket.framing, self.profile.websocket.identifier)
        self.pushes = bool(config.emulator_url and config.project_id and self.profile.fcm_mode != "none"
                           and self.profile.register_device is not None)
        self.follower: PushFollower | None = None
        self.device_owner: dict[str, int] = {}
        self.receivers: list[Receiver] = []
        self.cpu = CpuSampler(config.started_at)
        self.setup_errors = 0
        self.setup_examples: list[str] = []
        self._numbers = itertools.count(1)
        self.snapshot: dict[str, Any] | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        if self.pushes:
            assert self.config.emulator_url and self.config.project_id
            self.follower = PushFollower(FcmInbox(self.config.emulator_url, self.config.project_id), self._on_attempt)
            self.follower.start()
        self.cpu.start()

    def join(self, rng: random.Random) -> Member | None:
        """A new simulated user: account, 1-2 devices, 1-3 connections; None when setup failed."""
        target = Target(self.profile, transcript=LoadTranscript())
        try:
            user = self._timed("users.create", lambda: target.create_user(f"load{next(self._numbers)}"))
            uid = canonical(user.id)
            if not isinstance(uid, int):
                raise TargetError(f"users.create: user id {user.id!r} is not an integer")
            devices: list[str] = []
            for index in range(rng.randint(1, 2) if self.pushes else 0):
                token = f"load-{self.process}-{uid}-{index + 1}-{secrets.token_hex(4)}"
                self.device_owner[token] = uid  # before registering: a push may come at once
                self._timed("devices.register", lambda: target.register_device(user, token))
                devices.append(token)
            endpoints: list[str] = []
            for index in range(rng.randint(1, 3)):
                receiver = Receiver(f"u{uid}#{index + 1}", uid, self.framing, self._on_frame)
                self._timed("websocket.connect", lambda: receiver.open(target.websocket_url(user), target.websocket_headers(user),
                                                                      self.profile.http_seconds))
                self.receivers.append(receiver)
                endpoints.append(receiver.endpoint)
        except (TargetError, Unsupported, ConnectError) as exc:
            self.setup_errors += 1
            if len(self.setup_examples) < SETUP_EXAMPLES:
                self.setup_examples.append(str(exc).splitlines()[0])
            return None
        member = Member(uid, user, target, endpoints, devices)
        self.population.add(member)
        return member

    def drain(self) -> dict[str, Any]:
        """Wait for the copies still due (at most until they count as lost), then a quiet window
        for trailing duplicates and leaks; count; close every connection."""
        self.population.stop()
        give_up = self.ledger.give_up_at()
        while self.ledger.waiting() and time.time() < give_up:
            gevent.sleep(0.05)
        gevent.sleep(self.profile.quiet_window_seconds)
        if self.follower is not None:
            try:
                self.follower.catch_up()
            except Exception:  # noqa: BLE001 - the emulator may be gone on an interrupted run
                pass
            self.follower.stop()
        self.ledger.finish()
        self.cpu.stop()
        closed = sum(1 for r in self.receivers if r.closed_by_server)
        for receiver in self.receivers:
            receiver.close()
        self.snapshot = {
            "process": self.process,
            "ledger": self.ledger.snapshot(),
            "cpu": self.cpu.samples,
            "users": len(self.population),
            "connections": len(self.receivers),
            "connections_closed_by_server": closed,
            "devices": len(self.device_owner),
            "setup_errors": self.setup_errors,
            "setup_examples": self.setup_examples,
            "push_follow_errors": self.follower.errors if self.follower else 0,
        }
        return self.snapshot

    # -- what flows use ---------------------------------------------------------------------

    def supports(self, action: str) -> bool:
        return action in self.profile.actions

    def pause(self, rng: random.Random, longer: bool = False) -> None:
        """A person's pause inside a flow: a fifth of the think time between flows (twice that longer)."""
        low, high = self.config.think
        self.population.sleep(rng.uniform(low, high) / (2.5 if longer else 5.0))

    def act(self, action: str, actor: Member, other: Member | None, expect_refusal: bool = False,
            **params: Any) -> ActionResult | None:
        """Run an action as `actor`; its result (with `responded_at` as wall time) when the backend
        accepted it (or refused it and `expect_refusal`), else None. Timed into Locust's stats."""
        if self.population.stopping or not self.supports(action):
            return None
        began = time.perf_counter()
        try:
            result = actor.target.act(action, actor.user, other.user if other else None, **params)
        except (TargetError, Unsupported, ValueError) as exc:
            self._fire(action, began, ActionFailed(str(exc).splitlines()[0]))
            self.ledger.action(action, "error", time.time())
            return None
        return self._outcome(action, began, result, expect_refusal)

    def act_transition(self, actor: Member, other: Member, from_state: str, to_state: str,
                       variables: dict[str, Any]) -> ActionResult | None:
        if self.population.stopping:
            return None
        action = actor.target.transition_action(to_state) or "game.transition"
        began = time.perf_counter()
        params = {k: v for k, v in variables.items() if k not in ("state", "from_state")}
        try:
            result = actor.target.game_transition(actor.user, other.user, from_state=from_state, to_state=to_state, **params)
        except (TargetError, Unsupported, ValueError) as exc:
            self._fire(action, began, ActionFailed(str(exc).splitlines()[0]))
            self.ledger.action(action, "error", time.time())
            return None
        return self._outcome(action, began, result, False)

    def expect(self, variant: str, result: ActionResult, actor: Member, recipients: list[Member],
               identity: tuple[Any, ...], fields: dict[str, Any], extra_delay: float = 0.0) -> None:
        for member in recipients:
            self.ledger.expect(variant=variant, recipient=member.uid, identity=identity, action=result.action,
                               actor=actor.uid, response_at=result.responded_at, websockets=member.endpoints,
                               devices=member.devices if self.pushes else (), fields=fields, extra_delay=extra_delay)

    def parties(self, family: str, identity: tuple[Any, ...] | None, members: tuple[Member, ...]) -> None:
        self.ledger.parties(family, identity, (m.uid for m in members))

    # -- internals --------------------------------------------------------------------------

    def _outcome(self, action: str, began: float, result: ActionResult, expect_refusal: bool) -> ActionResult | None:
        wanted = result.ok or (expect_refusal and result.refused)
        self._fire(action, began, None if wanted else ActionFailed(f"HTTP {result.status}"))
        self.ledger.action(action, "ok" if result.ok else "refused", time.time())
        if not wanted:
            return None
        # the response's wall-clock time: copies (and FCM's received_at) are stamped in wall time
        return dataclasses.replace(result, responded_at=time.time() - (time.monotonic() - result.responded_at))

    def _timed(self, name: str, work: Any) -> Any:
        began = time.perf_counter()
        try:
            value = work()
        except Exception as exc:
            self._fire(name, began, exc)
            raise
        self._fire(name, began, None)
        return value

    def _fire(self, name: str, began: float, exception: Exception | None) -> None:
        self.events.request.fire(request_type="HTTP" if name != "websocket.connect" else "WS", name=name,
                                 response_time=(time.perf_counter() - began) * 1000.0, response_length=0,
                                 exception=exception, context={})

    def _on_frame(self, receiver: Receiver, payload: Any, parse_error: str | None, arrived: float) -> None:
        if parse_error is not None:
            self.ledger.observe("websocket", receiver.endpoint, receiver.recipient, payload, arrived, [parse_error], None)
            return
        variant, violations = judge(payload, contract=self.contract)
        self.ledger.observe("websocket", receiver.endpoint, receiver.recipient, payload, arrived, violations,
                            variant.key if variant else None)

    def _on_attempt(self, attempt: Any) -> None:
        recipient = self.device_owner.get(attempt.token)
        if recipient is None:
            return  # another process's device, or none of this run's
        if attempt.http_status != 200 or attempt.validate_only or not isinstance(attempt.message, dict):
            self.ledger.push_refused()
            return
        violations = validate_push(attempt.message, contract=self.contract)
        data = attempt.message.get("data")
        variant = variant_of_push_data(data, self.contract) if isinstance(data, dict) else None
        payload = decode_push_data(data, self.contract) if isinstance(data, dict) else attempt.message
        self.ledger.observe("fcm", attempt.token, recipient, payload, attempt.received_at, violations,
                            variant.key if variant else None)
