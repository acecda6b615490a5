"""The emulator's mutable state: bounded message and attempt stores, token states, faults."""
from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from harness.emulator.fcm.errors import FCM_ERRORS
from harness.emulator.fcm.models import CapturedMessage, SendAttempt

TOKEN_STATES = ("valid", "unregistered", "sender_id_mismatch")
FAULT_CODES = tuple(FCM_ERRORS)


@dataclass(frozen=True)
class Fault:
    """An injected failure: the next `count` matching sends (or each with `probability`)."""

    id: int
    code: str | None  # FcmError code; None = succeed, only after `latency_ms`
    count: int | None  # None = until cleared
    probability: float | None  # None = always
    latency_ms: int
    retry_after: int | None  # seconds, sent as a Retry-After header
    token: str | None  # only sends to this token (or FID); None = every send

    def to_json(self, remaining: int | None) -> dict[str, Any]:
        return {
            "id": self.id, "code": self.code, "count": self.count, "remaining": remaining,
            "probability": self.probability, "latency_ms": self.latency_ms,
            "retry_after": self.retry_after, "token": self.token,
        }


class EmulatorState:
    """Everything a send changes and the control API reads. Used from the server's one event loop."""

    def __init__(self, project_id: str, *, strict_tokens: bool, max_messages: int) -> None:
        self.project_id = project_id
        self.strict_tokens = strict_tokens
        self.max_messages = max_messages
        # One sequence for attempts and messages: a cursor taken now splits both the same way.
        self._seq = itertools.count(1)
        self.last_seq = 0
        self.messages: deque[CapturedMessage] = deque(maxlen=max_messages)
        self.attempts: deque[SendAttempt] = deque(maxlen=max_messages)
        self.tokens: dict[str, str] = {}
        self.subscriptions: dict[str, set[str]] = {}  # token -> topics (v1 topicSubscriptions)
        self.faults: list[Fault] = []
        self._remaining: dict[int, int | None] = {}
        self._fault_ids = itertools.count(1)
        self._waiters: set[asyncio.Event] = set()
        self._random = random.Random()
        self.closing = False

    # -- sends ---------------------------------------------------------------------------------
    def next_seq(self) -> int:
        self.last_seq = next(self._seq)
        return self.last_seq

    def record(self, attempt: SendAttempt, delivered: CapturedMessage | None) -> None:
        self.attempts.append(attempt)
        if delivered is not None:
            self.messages.append(delivered)
        for waiter in self._waiters:  # every attempt: long-polls on attempts wait for refusals too
            waiter.set()

    def token_state(self, token: str) -> str | None:
        return self.tokens.get(token)

    def take_fault(self, token: str | None) -> Fault | None:
        """The fault this send suffers, if any; counts it against the fault's budget."""
        for fault in self.faults:
            if fault.token is not None and fault.token != token:
                continue
            if fault.probability is not None and self._random.random() >= fault.probability:
                continue
            remaining = self._remaining.get(fault.id)
            if remaining is not None:
                remaining -= 1
                self._remaining[fault.id] = remaining
                if remaining <= 0:
                    self.faults.remove(fault)
                    del self._remaining[fault.id]
            return fault
        return None

    # -- control ----------------------------------------------------------------------------------
    def add_fault(self, **spec: Any) -> Fault:
        fault = Fault(id=next(self._fault_ids), **spec)
        self.faults.append(fault)
        self._remaining[fault.id] = fault.count
        return fault

    def faults_json(self) -> list[dict[str, Any]]:
        return [fault.to_json(self._remaining.get(fault.id)) for fault in self.faults]

    def clear_faults(self) -> int:
        cleared = len(self.faults)
        self.faults.clear()
        self._remaining.clear()
        return cleared

    def clear_messages(self) -> int:
        cleared = len(self.messages)
        self.messages.clear()
        self.attempts.clear()
        return cleared

    def reset(self) -> None:
        """Back to a fresh emulator, except for the sequence (cursors stay valid) and OAuth state."""
        self.clear_messages()
        self.clear_faults()
        self.tokens.clear()
        self.subscriptions.clear()

    def select_messages(
        self, token: str | None, after: int | None, limit: int | None = None
    ) -> list[CapturedMessage]:
        return _select(self.messages, token, after, limit)

    def select_attempts(self, token: str | None, after: int | None, limit: int | None = None) -> list[SendAttempt]:
        return _select(self.attempts, token, after, limit)

    async def wait_messages(
        self, count: int, token: str | None, after: int | None, timeout: float
    ) -> tuple[list[CapturedMessage], bool]:
        """Wait until `count` matching messages exist; woken by each send, never polling."""
        return await self._wait(self.select_messages, count, token, after, timeout)

    async def wait_attempts(
        self, count: int, token: str | None, after: int | None, timeout: float
    ) -> tuple[list[SendAttempt], bool]:
        """Wait until `count` matching send attempts exist (refused ones and dry runs count)."""
        return await self._wait(self.select_attempts, count, token, after, timeout)

    async def _wait(self, select: Any, count: int, token: str | None, after: int | None,
                    timeout: float) -> tuple[list[Any], bool]:
        deadline = time.monotonic() + timeout
        event = asyncio.Event()
        self._waiters.add(event)
        try:
            while True:
                found = select(token, after)
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0 or self.closing:
                    return found, len(found) < count
                event.clear()
                try:
                    await asyncio.wait_for(event.wait(), remaining)
                except TimeoutError:
                    pass
        finally:
            self._waiters.discard(event)

    def wake_all(self) -> None:
        """Release long-polls at shutdown so the server can stop at once."""
        self.closing = True
        for waiter in self._waiters:
            waiter.set()


def _select(items: Iterable[Any], token: str | None, after: int | None, limit: int | None) -> list[Any]:
    found = [
        item for item in items
        if (after is None or item.seq > after) and (token is None or item.token == token)
    ]
    return found if limit is None else found[:limit]
