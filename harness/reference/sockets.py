"""The two WebSocket endpoints: plain JSON frames on /ws, ActionCable framing on /cable."""
from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable

from starlette.responses import JSONResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from harness.reference.auth import TOKEN_HEADER, bearer
from harness.reference.hub import Connection
from harness.reference.models import User
from harness.reference.state import Backend

CABLE_PROTOCOL = "actioncable-v1-json"
CHANNEL = "NotificationsChannel"
PING_SECONDS = 3.0  # what Rails' ActionCable server uses


def _token(websocket: WebSocket, backend: Backend) -> str | None:
    """Token from `?token=`, else `Authorization: Bearer`, else a `token` cookie; with the
    token-header style from `?access_token=`, else an `X-Auth-Token` header."""
    if backend.conventions.token_header:
        return (websocket.query_params.get("access_token")
                or websocket.headers.get(TOKEN_HEADER.lower()) or None)
    return (websocket.query_params.get("token")
            or bearer(websocket.headers.get("authorization", ""))
            or websocket.cookies.get("token"))


def _authenticate(websocket: WebSocket, backend: Backend) -> tuple[bool, User | None]:
    """(let in?, the user). Without faults only a known token gets in; the faults let in
    sockets without credentials (as anonymous connections, user None)."""
    token = _token(websocket, backend)
    user = backend.store.user_by_token(token) if token else None
    faults = backend.faults
    admitted = (user is not None
                or bool(faults & {"accept-unauthenticated-socket", "anonymous-receives-all"})
                or token is not None and "accept-bad-token-socket" in faults)
    return admitted, user


async def _write(websocket: WebSocket, connection: Connection) -> None:
    while True:
        frame = await connection.outbox.get()
        await websocket.send_text(frame)


async def _serve(websocket: WebSocket, backend: Backend, connection: Connection,
                 subprotocol: str | None, on_text: Callable[[str], None] | None) -> None:
    """Accept, write the connection's outbox, read until the client goes away.

    The connection is registered before the accept completes, so that presence counts it
    as soon as the client sees the handshake succeed (frames queued meanwhile just wait).
    """
    backend.hub.add(connection)
    writer: asyncio.Task[None] | None = None
    try:
        await websocket.accept(subprotocol=subprotocol)
        writer = asyncio.create_task(_write(websocket, connection))
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            if on_text is not None and message.get("text") is not None:
                on_text(message["text"])
    except WebSocketDisconnect:
        pass
    finally:
        backend.hub.remove(connection)
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer


async def plain_endpoint(websocket: WebSocket) -> None:
    backend: Backend = websocket.app.state.backend
    admitted, user = _authenticate(websocket, backend)
    if not admitted and backend.conventions.upgrade_401:
        # the ASGI denial-response extension: a real HTTP answer to the upgrade request
        await websocket.send_denial_response(JSONResponse(
            {"error": "missing or unknown token"}, 401))
        return
    if not admitted:
        # closing before accept makes the server answer the upgrade with HTTP 403
        await websocket.close(code=1008)
        return
    # the server ignores client frames on the plain socket
    await _serve(websocket, backend, Connection(user.id if user else None, cable=False),
                 None, None)


async def cable_endpoint(websocket: WebSocket) -> None:
    backend: Backend = websocket.app.state.backend
    offered = websocket.scope.get("subprotocols") or []
    subprotocol = CABLE_PROTOCOL if CABLE_PROTOCOL in offered else None
    admitted, user = _authenticate(websocket, backend)
    if not admitted:
        # what Rails does when `connect` raises UnauthorizedError: accept, say why, close
        await websocket.accept(subprotocol=subprotocol)
        await websocket.send_text(json.dumps(
            {"type": "disconnect", "reason": "unauthorized", "reconnect": False}))
        await websocket.close()
        return
    connection = Connection(user.id if user else None, cable=True)
    connection.outbox.put_nowait(json.dumps({"type": "welcome"}))
    pinger = asyncio.create_task(_ping(connection))
    try:
        await _serve(websocket, backend, connection, subprotocol,
                     lambda text: _command(connection, text))
    finally:
        pinger.cancel()


async def _ping(connection: Connection) -> None:
    while True:
        await asyncio.sleep(PING_SECONDS)
        connection.outbox.put_nowait(json.dumps({"type": "ping", "message": int(time.time())}))


def _command(connection: Connection, text: str) -> None:
    """Handle one client command; malformed ones are ignored, as Rails logs and drops them."""
    try:
        command = json.loads(text)
        identifier = command["identifier"]
        kind = command["command"]
        channel = json.loads(identifier).get("channel")
    except (ValueError, TypeError, KeyError, AttributeError):
        return
    if not isinstance(identifier, str):
        return
    if kind == "subscribe":
        if channel != CHANNEL:
            reply = "reject_subscription"
        else:
            reply = "confirm_subscription"
            if identifier not in connection.subscriptions:
                connection.subscriptions.append(identifier)
        connection.outbox.put_nowait(json.dumps({"identifier": identifier, "type": reply}))
    elif kind == "unsubscribe" and identifier in connection.subscriptions:
        connection.subscriptions.remove(identifier)
