"""Open WebSocket connections per user, and delivery of payloads to each of them."""
from __future__ import annotations

import asyncio
import json
from collections.abc import Set
from dataclasses import dataclass, field
from typing import Any

#: swap-order fault: how long a lone held notification waits for a partner to swap with
SWAP_HOLD_SECONDS = 0.3


@dataclass(eq=False)
class Connection:
    """One open socket. `outbox` holds ready text frames; a writer task drains it in order."""

    user_id: int | None  # None: an unauthenticated socket let in by a fault
    cable: bool
    outbox: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    #: ActionCable identifiers this socket subscribed to NotificationsChannel with.
    subscriptions: list[str] = field(default_factory=list)
    #: swap-order fault: the frames of a notification held back, and the timer releasing them
    held: list[str] = field(default_factory=list)
    release: asyncio.TimerHandle | None = None

    def frames(self, payload: dict[str, Any]) -> list[str]:
        frames = [] if self.cable else [json.dumps(payload)]
        return frames + [json.dumps({"identifier": identifier, "message": payload})
                         for identifier in self.subscriptions]

    def deliver(self, payload: dict[str, Any]) -> None:
        for frame in self.frames(payload):
            self.outbox.put_nowait(frame)

    def deliver_swapped(self, payload: dict[str, Any]) -> None:
        """The swap-order fault: hold one notification, send it after the next one."""
        frames = self.frames(payload)
        if not self.held:
            self.held = frames
            self.release = asyncio.get_running_loop().call_later(SWAP_HOLD_SECONDS,
                                                                 self.release_held)
            return
        for frame in frames:
            self.outbox.put_nowait(frame)
        self.release_held()

    def release_held(self) -> None:
        if self.release is not None:
            self.release.cancel()
            self.release = None
        held, self.held = self.held, []
        for frame in held:
            self.outbox.put_nowait(frame)


class Hub:
    """The registry the notifier delivers through; presence counts come from here too."""

    def __init__(self, faults: Set[str]) -> None:
        # per user, connections in the order they opened (a dict keeps insertion order)
        self._by_user: dict[int | None, dict[Connection, None]] = {}
        self._faults = faults
        self._copies = 2 if "duplicate-delivery" in faults else 1
        #: presence faults: users ever seen online (sticky) / users who closed a connection
        self._ever_online: set[int] = set()
        self._closed_one: set[int] = set()

    def add(self, connection: Connection) -> None:
        self._by_user.setdefault(connection.user_id, {})[connection] = None
        if connection.user_id is not None:
            self._ever_online.add(connection.user_id)
            self._closed_one.discard(connection.user_id)

    def remove(self, connection: Connection) -> None:
        connections = self._by_user.get(connection.user_id, {})
        connections.pop(connection, None)
        if connection.release is not None:
            connection.release.cancel()
        if connection.user_id is not None:
            self._closed_one.add(connection.user_id)
        if not connections:
            self._by_user.pop(connection.user_id, None)

    def count(self, user_id: int) -> int:
        """Open connections of the user (what the presence endpoint reports, faults or not)."""
        return len(self._by_user.get(user_id, ()))

    def online(self, user_id: int) -> bool:
        """Whether calls treat the user as reachable; the presence faults bend only this."""
        if "presence-sticky" in self._faults and user_id in self._ever_online:
            return True
        if "presence-any-close" in self._faults and user_id in self._closed_one:
            return False
        return self.count(user_id) > 0

    def online_users(self) -> list[int]:
        return [user_id for user_id in self._by_user if user_id is not None]

    def deliver(self, user_id: int, payload: dict[str, Any]) -> None:
        """Queue the payload on every open connection of the user (never blocks)."""
        targets = list(self._by_user.get(user_id, ()))
        if "drop-second-connection" in self._faults:
            targets = targets[:1]
        if "anonymous-receives-all" in self._faults:
            targets += list(self._by_user.get(None, ()))
        for connection in targets:
            for _ in range(self._copies):
                if "swap-order" in self._faults:
                    connection.deliver_swapped(payload)
                else:
                    connection.deliver(payload)
