"""The two WebSocket endpoints: plain JSON frames on /ws, ActionCable framing on /cable."""
from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.responses import JSONResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from harness.reference.auth import TOKEN_HEADER, bearer
from harness.reference.hub import Connection
from harness.reference.models import User
from harness.reference.state import Backend

CABLE_PROTOCOL = "actioncable-v1-json"
CHANNEL = "NotificationsChannel"
PING_SECONDS = 3.0  # what Rails' ActionCable server uses
#: oversized-frame-blocks-loop fault: client frames from this size on block the event loop
OVERSIZED_FRAME = 64 * 1024
BLOCKED_SECONDS = 3.0
#: subscription-trusts-user-param fault: the query / identifier keys it takes a user id from
USER_PARAMS = ("user_id", "user", "userId", "uid")


def _token(websocket: WebSocket, backend: Backend) -> str | None:
    """Token from `?token=`, else `Authorization: Bearer`, else a `token` cookie; with the
    token-header style from `?access_token=`, else an `X-Auth-Token` header."""
    if backend.conventions.token_header:
        return (websocket.query_params.get("access_token")
                or websocket.headers.get(TOKEN_HEADER.lower()) or None)
    return (websocket.query_params.get("token")
            or bearer(websocket.headers.get("authorization", ""))
            or websocket.cookies.get("token"))


def _every_token(websocket: WebSocket, backend: Backend) -> list[str]:
    """Every token the upgrade carries, wherever (the mixed-credentials fault reads them all)."""
    if backend.conventions.token_header:
        found = [websocket.query_params.get("access_token"), websocket.headers.get(TOKEN_HEADER.lower())]
    else:
        found = [websocket.query_params.get("token"), bearer(websocket.headers.get("authorization", "")),
                 websocket.cookies.get("token")]
    return [token for token in found if token]


def _user_of(token: str, backend: Backend) -> User | None:
    faults = backend.faults
    return backend.store.user_by_token(token, expired_ok="expired-token-accepted" in faults,
                                       revoked_ok="revoked-token-accepted" in faults,
                                       as_pattern="token-wildcard" in faults)


def _origin_allowed(websocket: WebSocket, backend: Backend) -> bool:
    """No Origin (a native app), the backend's own origin, or one of its allowed browser origins."""
    origin = websocket.headers.get("origin")
    if origin is None or "any-origin" in backend.faults:
        return True
    return (origin in backend.allowed_origins
            or urlsplit(origin).netloc.lower() == websocket.headers.get("host", "").lower())


def _streams(websocket: WebSocket, backend: Backend, user: User | None) -> set[int]:
    """Other users whose notifications the stream faults add to this socket."""
    if user is None:
        return set()
    found: set[int] = set()
    if "subscription-trusts-user-param" in backend.faults:
        for key in USER_PARAMS:
            value = websocket.query_params.get(key, "")
            if value.isascii() and value.isdigit() and backend.store.user(int(value)) is not None:
                found.add(int(value))
    if "mixed-credentials-both-streams" in backend.faults:
        for token in _every_token(websocket, backend):
            other = _user_of(token, backend)
            if other is not None:
                found.add(other.id)
    return found - {user.id}


def _authenticate(websocket: WebSocket, backend: Backend) -> tuple[bool, User | None]:
    """(let in?, the user). Without faults only a known token gets in; the faults let in
    sockets without credentials (as anonymous connections, user None)."""
    token = _token(websocket, backend)
    user = _user_of(token, backend) if token else None
    faults = backend.faults
    admitted = (user is not None
                or bool(faults & {"accept-unauthenticated-socket", "anonymous-receives-all"})
                or token is not None and "accept-bad-token-socket" in faults)
    return admitted, user


async def _write(websocket: WebSocket, connection: Connection) -> None:
    while True:
        frame = await connection.outbox.get()
        if frame is None:  # its token was revoked: say so (ActionCable, as Rails does), then close
            if connection.cable:
                await websocket.send_text(json.dumps(
                    {"type": "disconnect", "reason": "unauthorized", "reconnect": False}))
            await websocket.close(code=1008)
            return
        await websocket.send_text(frame)


def _client_frame(backend: Backend, handle: Callable[[str], None] | None) -> Callable[[str], None]:
    """What a client frame does: the framing's handler (plain ignores frames); the
    oversized-frame-blocks-loop fault stalls the whole event loop on a big one."""
    def on_text(text: str) -> None:
        if len(text) >= OVERSIZED_FRAME and "oversized-frame-blocks-loop" in backend.faults:
            time.sleep(BLOCKED_SECONDS)  # a stand-in for a parser that backtracks on it
        if handle is not None:
            handle(text)
    return on_text


async def _serve(websocket: WebSocket, backend: Backend, connection: Connection,
                 subprotocol: str | None, on_text: Callable[[str], None] | None) -> None:
    """Accept, write the connection's outbox, read until the client goes away.

    The connection is registered before the accept completes, so that presence counts it
    as soon as the client sees the handshake succeed (frames queued meanwhile just wait).
    """
    backend.hub.add(connection)
    for other in _streams(websocket, backend, backend.store.user(connection.user_id)
                          if connection.user_id is not None else None):
        backend.hub.add_stream(connection, other)
    on_text = _client_frame(backend, on_text)
    writer: asyncio.Task[None] | None = None
    try:
        await websocket.accept(subprotocol=subprotocol)
        writer = asyncio.create_task(_write(websocket, connection))
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect" or writer.done():
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
    if not admitted or not _origin_allowed(websocket, backend):
        # closing before accept makes the server answer the upgrade with HTTP 403
        await websocket.close(code=1008)
        return
    # the server ignores client frames on the plain socket
    await _serve(websocket, backend, Connection(user.id if user else None, cable=False,
                                                token=_token(websocket, backend)), None, None)


async def cable_endpoint(websocket: WebSocket) -> None:
    backend: Backend = websocket.app.state.backend
    offered = websocket.scope.get("subprotocols") or []
    subprotocol = CABLE_PROTOCOL if CABLE_PROTOCOL in offered else None
    if not _origin_allowed(websocket, backend):
        await websocket.close(code=1008)  # an HTTP 403 on the upgrade
        return
    admitted, user = _authenticate(websocket, backend)
    if not admitted:
        # what Rails does when `connect` raises UnauthorizedError: accept, say why, close
        await websocket.accept(subprotocol=subprotocol)
        await websocket.send_text(json.dumps(
            {"type": "disconnect", "reason": "unauthorized", "reconnect": False}))
        await websocket.close()
        return
    connection = Connection(user.id if user else None, cable=True, token=_token(websocket, backend))
    connection.outbox.put_nowait(json.dumps({"type": "welcome"}))
    pinger = asyncio.create_task(_ping(connection))
    try:
        await _serve(websocket, backend, connection, subprotocol,
                     lambda text: _command(backend, connection, text))
    finally:
        pinger.cancel()


def _stream_named_user(backend: Backend, connection: Connection, params: dict[str, object]) -> None:
    """The fault: `stream_for User.find(params[:user_id])`, trusting the client's identifier."""
    for key in USER_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value.isascii() and value.isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and value != connection.user_id \
                and backend.store.user(value) is not None:
            backend.hub.add_stream(connection, value)


async def _ping(connection: Connection) -> None:
    while True:
        await asyncio.sleep(PING_SECONDS)
        connection.outbox.put_nowait(json.dumps({"type": "ping", "message": int(time.time())}))


def _command(backend: Backend, connection: Connection, text: str) -> None:
    """Handle one client command; malformed ones are ignored, as Rails logs and drops them.

    Extra identifier params (a user id, say) choose nothing: the stream is always the signed-in
    user's, unless the subscription-trusts-user-param fault is on.
    """
    try:
        command = json.loads(text)
        identifier = command["identifier"]
        kind = command["command"]
        params = json.loads(identifier)
        channel = params.get("channel")
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return  # RecursionError: JSON nested deeper than the parser's stack
    if not isinstance(identifier, str):
        return
    if kind == "subscribe":
        if channel != CHANNEL:
            reply = "reject_subscription"
        else:
            reply = "confirm_subscription"
            if identifier not in connection.subscriptions:
                connection.subscriptions.append(identifier)
            if "subscription-trusts-user-param" in backend.faults and connection.user_id is not None:
                _stream_named_user(backend, connection, params)
        connection.outbox.put_nowait(json.dumps({"identifier": identifier, "type": reply}))
    elif kind == "unsubscribe" and identifier in connection.subscriptions:
        connection.subscriptions.remove(identifier)
