"""Open WebSocket connections per user, and delivery of payloads to each of them."""
from __future__ import annotations

import asyncio
import json
from collections.abc import Set
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Connection:
    """One open socket. `outbox` holds ready text frames; a writer task drains it in order."""

    user_id: int | None  # None: an unauthenticated socket let in by a fault
    cable: bool
    outbox: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    #: ActionCable identifiers this socket subscribed to NotificationsChannel with.
    subscriptions: list[str] = field(default_factory=list)

    def deliver(self, payload: dict[str, Any]) -> None:
        if not self.cable:
            self.outbox.put_nowait(json.dumps(payload))
        for identifier in self.subscriptions:
            self.outbox.put_nowait(json.dumps({"identifier": identifier, "message": payload}))


class Hub:
    """The registry the notifier delivers through; presence counts come from here too."""

    def __init__(self, faults: Set[str]) -> None:
        self._by_user: dict[int | None, set[Connection]] = {}
        self._copies = 2 if "duplicate-delivery" in faults else 1

    def add(self, connection: Connection) -> None:
        self._by_user.setdefault(connection.user_id, set()).add(connection)

    def remove(self, connection: Connection) -> None:
        connections = self._by_user.get(connection.user_id, set())
        connections.discard(connection)
        if not connections:
            self._by_user.pop(connection.user_id, None)

    def count(self, user_id: int) -> int:
        return len(self._by_user.get(user_id, ()))

    def online_users(self) -> list[int]:
        return [user_id for user_id in self._by_user if user_id is not None]

    def deliver(self, user_id: int, payload: dict[str, Any]) -> None:
        """Queue the payload on every open connection of the user (never blocks)."""
        for connection in list(self._by_user.get(user_id, ())):
            for _ in range(self._copies):
                connection.deliver(payload)
