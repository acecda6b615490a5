"""The fuzzer's users: made through the profile, connected and with devices, with friendships,
game sessions, calls and chat threads between them in several states, so that generated requests
hit real resources and every notification they cause has somewhere to arrive and be seen."""
from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from harness.fuzz.resources import Ledger, id_value
from harness.listener import Listener, connect_all
from harness.target import ActionResult, Target, TargetError, Unsupported, User
from harness.transcript import Transcript

__all__ = ["MARKER_PREFIX", "Pool", "PoolUser"]

#: chat messages the fuzzer sends to prove quiet; never judged
MARKER_PREFIX = "b4a-fuzz-marker "
POOL_SIZE = 6


@dataclasses.dataclass(eq=False)
class PoolUser:
    label: str
    user: User
    listeners: list[Listener]
    devices: list[str]

    @property
    def id(self) -> int:
        ident = id_value(self.user.id)
        assert ident is not None, f"user id {self.user.id!r} is no id"
        return ident


@dataclasses.dataclass(eq=False)
class Pool:
    target: Target
    users: list[PoolUser]
    ledger: Ledger
    marker_sender: User
    #: what was made, one line each (the report's reproduction notes)
    setup: list[str]

    @property
    def by_id(self) -> dict[int, PoolUser]:
        return {user.id: user for user in self.users}

    @classmethod
    def build(cls, target: Target, transcript: Transcript, *, with_devices: bool, size: int = POOL_SIZE) -> Pool:
        """Users P1..Pn (P1 with two connections), each with a device when pushes are on, then
        resources between them in several states; actions the profile lacks are left out."""
        users = []
        ledger = Ledger()
        for n in range(1, size + 1):
            user = target.create_user(f"P{n}")
            devices = [f"b4a-fuzz-p{n}-{uuid.uuid4().hex[:10]}"] if with_devices else []
            for token in devices:
                target.register_device(user, token)
                ledger.device_owner[token] = id_value(user.id) or 0
            users.append(PoolUser(f"P{n}", user, [], devices))
        pool = cls(target, users, ledger, target.create_user("fuzz-marker"), [])
        pool._connect(transcript)
        pool._resources()
        return pool

    def _connect(self, transcript: Transcript) -> None:
        ws = self.target.profile.websocket
        for pooled in self.users:
            for n in range(2 if pooled.label == "P1" else 1):
                pooled.listeners.append(Listener(
                    self.target.websocket_url(pooled.user), framing=ws.framing, identifier=ws.identifier,
                    headers=self.target.websocket_headers(pooled.user), label=f"{pooled.label}#{n + 1}",
                    transcript=transcript))
        connect_all([listener for pooled in self.users for listener in pooled.listeners])

    def _act(self, action: str, actor: PoolUser, other: PoolUser, **params: Any) -> ActionResult | None:
        try:
            result = self.target.act(action, actor.user, other.user, **params)
        except Unsupported:
            return None
        self.setup.append(f"{action} by {actor.label} with {other.label}: HTTP {result.status}")
        return result if result.ok else None

    def _resources(self) -> None:
        """Friendships pending, accepted and rejected; games requested, accepted and started; a call
        answered and one scheduled; chat threads: every state the contract's flows reach."""
        p = self.users
        steps: list[tuple[str, PoolUser, PoolUser, str, str, tuple[tuple[str, PoolUser, PoolUser], ...]]] = [
            ("friendship.request", p[0], p[1], "friendship", "friendship_id", ()),
            ("friendship.request", p[2], p[3], "friendship", "friendship_id", (("friendship.accept", p[3], p[2]),)),
            ("friendship.request", p[4], p[5], "friendship", "friendship_id", (("friendship.reject", p[5], p[4]),)),
            ("chat.post", p[0], p[1], "thread", "thread_id", ()),
            ("chat.post", p[2], p[4], "thread", "thread_id", ()),
            ("call.request", p[0], p[1], "call", "call_id", (("call.accept", p[1], p[0]),)),
        ]
        for action, actor, other, kind, key, then in steps:
            extra = {"text": f"{MARKER_PREFIX}setup"} if action == "chat.post" else {}
            made = self._act(action, actor, other, **extra)
            self._record(made, kind, key, actor, other)
            if made is None:
                continue
            for follow, by, to in then:
                self._act(follow, by, to, **made.vars)
        schedule = {"scheduled_at": _in_a_week()}
        self._record(self._act("call.schedule", p[2], p[3], **schedule), "call", "call_id", p[2], p[3])
        for actor, other, moves in ((p[0], p[2], ()), (p[1], p[3], ("accepted",)), (p[4], p[5], ("accepted", "started"))):
            made = self._act("game.create", actor, other)
            self._record(made, "game", "session_id", actor, other)
            if made is None:
                continue
            state = "requested"
            for move in moves:
                mover = other if move == "accepted" else actor
                try:
                    result = self.target.game_transition(mover.user, actor.user if mover is other else other.user,
                                                         from_state=state, to_state=move, **made.vars)
                except Unsupported:
                    break
                self.setup.append(f"game {state} -> {move} by {mover.label}: HTTP {result.status}")
                state = move

    def _record(self, made: ActionResult | None, kind: str, key: str, *users: PoolUser) -> None:
        ident = id_value(made.vars.get(key)) if made else None
        if ident is not None:
            self.ledger.add(kind, ident, {u.id for u in users})

    # -- proving quiet -------------------------------------------------------------------------

    def settle(self, inbox: Any, timeout: float, push_timeout: float,
               on_problem: Callable[[str], None]) -> None:
        """A marker chat to every pool user, waited for on each connection and device: whatever
        the backend sent before has arrived. Without chat.post, nothing can be proven (noted)."""
        if not self.target.supports("chat.post"):
            on_problem("the profile has no chat.post: the fuzzer cannot prove that late notifications arrived")
            return
        for pooled in self.users:
            text = f"{MARKER_PREFIX}{uuid.uuid4().hex[:10]}"
            try:
                self.target.act("chat.post", self.marker_sender, pooled.user, text=text)
            except TargetError as exc:
                on_problem(f"the marker chat to {pooled.label} failed: {exc}")
                continue
            def marker(received: Any, text: str = text) -> bool:
                return _is_text(received.payload, text)

            for listener in pooled.listeners:
                if listener.wait_for(marker, timeout) is None:
                    on_problem(f"the marker chat to {listener.label} did not arrive within {timeout:g} s")
            if inbox is not None:
                for token in pooled.devices:
                    if not _push_arrived(inbox, token, text, push_timeout):
                        on_problem(f"the marker push to {pooled.label}'s device did not reach FCM within {push_timeout:g} s")

    def close(self) -> None:
        for pooled in self.users:
            for listener in pooled.listeners:
                listener.close()


def _is_text(payload: Any, text: str) -> bool:
    return isinstance(payload, dict) and payload.get("message") == text


def _push_arrived(inbox: Any, token: str, text: str, timeout: float) -> bool:
    seen = inbox.attempts(token=token)
    if any(_is_text((a.message or {}).get("data"), text) for a in seen):
        return True
    found = inbox.wait_attempts(count=len(seen) + 1, token=token, timeout=timeout)
    while len(found) > len(seen):
        if any(_is_text((a.message or {}).get("data"), text) for a in found):
            return True
        seen = found
        found = inbox.wait_attempts(count=len(seen) + 1, token=token, timeout=timeout)
    return False


def _in_a_week() -> str:
    from harness.flow_values import future_instant

    return future_instant(7)
