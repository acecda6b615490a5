"""The backend's running state (store, hub, pushes, faults) and the notifier that uses it."""
from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from starlette.concurrency import run_in_threadpool

from harness.reference.errors import ApiError
from harness.reference.hub import Hub
from harness.reference.payloads import format_time
from harness.reference.push import Pusher
from harness.reference.store import Store
from harness.reference.styles import Conventions


#: the web app's origin in the bundled profiles' security.origins.allowed
DEFAULT_ALLOWED_ORIGINS = ("https://app.buddy4all.example",)


@dataclass(frozen=True)
class Notification:
    """One payload for one recipient; `push` if its variant also goes through FCM."""

    recipient: int
    payload: dict[str, Any]
    push: bool = False


@dataclass
class Backend:
    """Everything a request handler needs; one per running app."""

    store: Store
    hub: Hub
    pusher: Pusher
    faults: frozenset[str]
    ring_timeout: float
    #: pending ring timers by call id, cancelled when the call is answered or on shutdown
    ring_timers: dict[int, asyncio.TimerHandle] = field(default_factory=dict)
    #: running background tasks; held here because the loop keeps only weak references
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    #: the REST/WebSocket conventions (styles) this backend speaks
    conventions: Conventions = field(default_factory=Conventions)
    #: notifications held back by the late-delivery fault, cancelled on shutdown
    delayed: set[asyncio.TimerHandle] = field(default_factory=set)
    #: browser origins whose WebSocket upgrades are accepted, besides the backend's own origin
    #: (a request without Origin, a native app, is accepted too)
    allowed_origins: tuple[str, ...] = DEFAULT_ALLOWED_ORIGINS

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def notify_later(self, delay: float, notifications: list[Notification]) -> None:
        """Deliver after `delay` seconds (only the late-delivery fault does this)."""
        def due() -> None:
            self.delayed.discard(handle)
            self.spawn(self.notify(notifications))

        handle = asyncio.get_running_loop().call_later(delay, due)
        self.delayed.add(handle)

    async def notify(self, notifications: list[Notification]) -> None:
        """WebSocket delivery first (queued, never blocks), then pushes in the background."""
        if "extra-key" in self.faults:
            # the same stamped payload for both channels: only PAY-006 is broken, not PUSH-003
            stamp = format_time(datetime.now(timezone.utc), self.conventions.ms_dates)
            notifications = [Notification(note.recipient, {**note.payload, "sent_at": stamp},
                                          note.push) for note in notifications]
        if "push-failure-fails-action" in self.faults:
            await self._notify_pushing_inline(notifications)
            return
        for note in notifications:
            self.hub.deliver(note.recipient, note.payload)
        for note in notifications:
            if note.push:
                self.pusher.submit(note.recipient, note.payload)

    async def _notify_pushing_inline(self, notifications: list[Notification]) -> None:
        """The fault: pushes inside the request, before the sockets, failure -> 502."""
        errors: list[str] = []
        for note in notifications:
            if note.push:
                errors += await run_in_threadpool(self.pusher.send_now, note.recipient,
                                                  note.payload)
        for note in notifications:
            self.hub.deliver(note.recipient, note.payload)
        if errors:
            raise ApiError(502, f"push notification failed: {errors[0]}")
