"""A tiny scripted WebSocket server (the `websockets` library) on 127.0.0.1:0 in its own thread."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

Handler = Callable[["ScriptedServer", ServerConnection], Awaitable[None]]


@dataclasses.dataclass(frozen=True)
class Seen:
    """One upgrade request the server received."""

    path: str
    headers: dict[str, str]


class ScriptedServer:
    """Runs `handler(server, connection)` for each accepted connection.

    `refuse_status` answers every upgrade with that HTTP status instead; `received` collects the
    text frames clients sent (handlers append to it); `send_all` pushes a frame from the test thread.
    """

    def __init__(self, handler: Handler, *, refuse_status: int | None = None,
                 subprotocols: list[str] | None = None, ping_interval: float | None = None,
                 ping_timeout: float | None = None) -> None:
        self._handler = handler
        self._refuse_status = refuse_status
        self._subprotocols = subprotocols
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self.requests: list[Seen] = []
        self.received: list[str] = []
        self.connections: set[ServerConnection] = set()
        self.disconnected = threading.Event()
        self.port = 0
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def url(self, path: str = "/ws") -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        if not self._started.wait(5):
            raise RuntimeError("test WebSocket server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)

    def send_all(self, text: str) -> None:
        """Send one text frame to every open connection, from the test thread."""
        assert self._loop is not None

        async def send() -> None:
            for connection in list(self.connections):
                await connection.send(text)

        asyncio.run_coroutine_threadsafe(send(), self._loop).result(5)

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        self.requests.append(Seen(request.path, {k.lower(): v for k, v in request.headers.raw_items()}))
        if self._refuse_status is not None:
            return connection.respond(HTTPStatus(self._refuse_status), "refused by the test server\n")
        return None

    async def _handle(self, connection: ServerConnection) -> None:
        self.connections.add(connection)
        try:
            await self._handler(self, connection)
        finally:
            self.connections.discard(connection)
            self.disconnected.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self._handle, "127.0.0.1", 0, process_request=self._process_request,
                         subprotocols=self._subprotocols,  # type: ignore[arg-type]
                         ping_interval=self._ping_interval, ping_timeout=self._ping_timeout) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._started.set()
            await self._stop.wait()


async def hold_open(server: ScriptedServer, connection: ServerConnection) -> None:
    """Keep the connection open, collecting what the client sends, until it goes away."""
    async for message in connection:
        server.received.append(str(message))


def send_then_hold(*frames: str) -> Handler:
    """A plain-framing handler: send `frames` at once, then hold the connection open."""
    async def handler(server: ScriptedServer, connection: ServerConnection) -> None:
        for frame in frames:
            await connection.send(frame)
        await hold_open(server, connection)
    return handler


def cable(*, confirm: bool = True, reject: bool = False, unauthorized: bool = False, welcome: bool = True,
          welcome_delay: float = 0.0, echo_identifier: Callable[[str], str] = lambda s: s,
          after_confirm: tuple[str, ...] = ()) -> Handler:
    """A minimal ActionCable server following Rails' protocol (see actioncable/lib/action_cable).

    `echo_identifier` lets a test answer with a re-serialised identifier, as another server might.
    """
    async def handler(server: ScriptedServer, connection: ServerConnection) -> None:
        if unauthorized:
            await connection.send(json.dumps({"type": "disconnect", "reason": "unauthorized", "reconnect": False}))
            await connection.close()
            return
        if welcome_delay:
            await asyncio.sleep(welcome_delay)
        if welcome:
            await connection.send(json.dumps({"type": "welcome"}))
        async for message in connection:
            server.received.append(str(message))
            command: dict[str, Any] = json.loads(message)
            if command.get("command") != "subscribe":
                continue
            identifier = echo_identifier(command["identifier"])
            if reject:
                await connection.send(json.dumps({"identifier": identifier, "type": "reject_subscription"}))
            elif confirm:
                await connection.send(json.dumps({"identifier": identifier, "type": "confirm_subscription"}))
                for frame in after_confirm:
                    await connection.send(frame)
    return handler


def cable_server(handler: Handler) -> ScriptedServer:
    """A server that selects the ActionCable subprotocol, as Rails does."""
    return ScriptedServer(handler, subprotocols=["actioncable-v1-json"])


def broadcast(identifier: str, message: Any) -> str:
    """The frame Rails sends for `broadcast_to`: the identifier string and the `message` member."""
    return json.dumps({"identifier": identifier, "message": message})


def ping(n: int) -> str:
    return json.dumps({"type": "ping", "message": 1_700_000_000 + n})
