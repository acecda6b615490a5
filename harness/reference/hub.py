"""Open WebSocket connections per user, and delivery of payloads to each of them."""
from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Set
from dataclasses import dataclass, field
from typing import Any

#: swap-order fault: how long a lone held notification waits for a partner to swap with
SWAP_HOLD_SECONDS = 0.3
#: deaf-beyond-connection-limit fault: a user's connections past this many receive nothing
DEAF_CONNECTION_LIMIT = 20
#: flood-guard-deafens fault: this many connections of one user within the window deafen the
#: user's open sockets for the rest of the window
FLOOD_CONNECTIONS = 100
FLOOD_WINDOW_SECONDS = 10.0
#: drop-one-in-thousand / delay-one-in-hundred: which copies they hit (the 1st, then every
#: PERIOD-th after it: deterministic, so a load run knows the exact count to expect, and a single
#: conformance check sees its first copy hit) and how long the delayed ones are held
DROP_PERIOD = 1000
DELAY_PERIOD = 100
DELAY_SECONDS = 3.0


@dataclass(eq=False)
class Connection:
    """One open socket. `outbox` holds ready text frames; a writer task drains it in order."""

    user_id: int | None  # None: an unauthenticated socket let in by a fault
    cable: bool
    #: frames to write in order; None asks the writer to end the socket (its token was revoked)
    outbox: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    #: the token the socket signed in with: revoking it ends the socket
    token: str | None = None
    #: security faults: the socket stays open but receives nothing more
    deaf: bool = False
    #: other users whose notifications this socket also receives (only the stream faults do this)
    streams: set[int] = field(default_factory=set)
    #: ActionCable identifiers this socket subscribed to NotificationsChannel with.
    subscriptions: list[str] = field(default_factory=list)
    #: swap-order fault: the frames of a notification held back, and the timer releasing them
    held: list[str] = field(default_factory=list)
    release: asyncio.TimerHandle | None = None
    #: delay-one-in-hundred fault: copies held back, cancelled when the socket goes away
    later: set[asyncio.TimerHandle] = field(default_factory=set)

    def frames(self, payload: dict[str, Any]) -> list[str]:
        frames = [] if self.cable else [json.dumps(payload)]
        return frames + [json.dumps({"identifier": identifier, "message": payload})
                         for identifier in self.subscriptions]

    def deliver(self, payload: dict[str, Any]) -> None:
        for frame in self.frames(payload):
            self.outbox.put_nowait(frame)

    def deliver_later(self, delay: float, payload: dict[str, Any]) -> None:
        """The delay-one-in-hundred fault: queue this copy `delay` seconds from now."""
        def due() -> None:
            self.later.discard(handle)
            self.deliver(payload)

        handle = asyncio.get_running_loop().call_later(delay, due)
        self.later.add(handle)

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
        #: WebSocket copies sent so far (one per connection and copy): the period faults count these
        self._sent = 0
        #: presence faults: users ever seen online (sticky) / users who closed a connection
        self._ever_online: set[int] = set()
        self._closed_one: set[int] = set()
        #: flood-guard-deafens fault: when each user's recent connections opened; deafened users
        self._opened: dict[int, deque[float]] = {}
        self._deafened_until: dict[int, float] = {}

    def add(self, connection: Connection) -> None:
        if connection.user_id is not None:
            self._guard(connection)
        self._by_user.setdefault(connection.user_id, {})[connection] = None
        if connection.user_id is not None:
            self._ever_online.add(connection.user_id)
            self._closed_one.discard(connection.user_id)

    def _guard(self, connection: Connection) -> None:
        """The connection-churn faults: deafen a socket past the per-user limit, or every socket
        of a user who opened too many within the flood window (a guard that punishes the wrong
        sockets: a correct one would refuse the new connection, or close the old ones)."""
        user_id = connection.user_id
        assert user_id is not None
        if ("deaf-beyond-connection-limit" in self._faults
                and self.count(user_id) >= DEAF_CONNECTION_LIMIT):
            connection.deaf = True
        if "flood-guard-deafens" in self._faults:
            now = time.monotonic()
            opened = self._opened.setdefault(user_id, deque())
            opened.append(now)
            while opened and opened[0] < now - FLOOD_WINDOW_SECONDS:
                opened.popleft()
            if len(opened) > FLOOD_CONNECTIONS:
                self._deafened_until[user_id] = now + FLOOD_WINDOW_SECONDS

    def _hears(self, connection: Connection) -> bool:
        if connection.deaf:
            return False
        until = self._deafened_until.get(connection.user_id or 0)
        return until is None or time.monotonic() >= until

    def add_stream(self, connection: Connection, user_id: int) -> None:
        """Deliver `user_id`'s notifications to this socket too (the stream faults' bug)."""
        connection.streams.add(user_id)
        self._by_user.setdefault(user_id, {})[connection] = None

    def revoke(self, token: str) -> None:
        """The token was revoked: its sockets receive nothing more and are ended (a
        disconnect frame, then a close), unless a security fault keeps them."""
        if "revoked-socket-still-receives" in self._faults:
            return
        for connections in list(self._by_user.values()):
            for connection in list(connections):
                if connection.token != token:
                    continue
                if "revoked-socket-kept-open" in self._faults:
                    connection.deaf = True
                else:
                    self.remove(connection)
                    connection.outbox.put_nowait(None)

    def remove(self, connection: Connection) -> None:
        for user_id in connection.streams:
            streamed = self._by_user.get(user_id, {})
            streamed.pop(connection, None)
            if not streamed:
                self._by_user.pop(user_id, None)
        connections = self._by_user.get(connection.user_id, {})
        connections.pop(connection, None)
        if connection.release is not None:
            connection.release.cancel()
        for handle in connection.later:
            handle.cancel()
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
        targets = [connection for connection in targets if self._hears(connection)]
        for connection in targets:
            for _ in range(self._copies):
                self._sent += 1
                if "drop-one-in-thousand" in self._faults and self._sent % DROP_PERIOD == 1:
                    continue
                if "delay-one-in-hundred" in self._faults and self._sent % DELAY_PERIOD == 1:
                    connection.deliver_later(DELAY_SECONDS, payload)
                    continue
                if "swap-order" in self._faults:
                    connection.deliver_swapped(payload)
                else:
                    connection.deliver(payload)
