"""REST handlers for sign-in sessions: another token for the caller, and signing out (revoking
the token the request carries, which also ends the sockets opened with it)."""
from __future__ import annotations

from datetime import datetime, timezone

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from harness.reference.auth import caller, request_token
from harness.reference.payloads import format_time
from harness.reference.rest import read_body, respond

#: the longest lifetime a token may ask for (a year); without expires_in a token does not expire
MAX_EXPIRES_IN = 365 * 24 * 3600


async def issue(request: Request) -> JSONResponse:
    """POST /sessions {"expires_in": S}: a second token for the caller (a second device's sign-in);
    `expires_in` 0 gives a token that has already expired (clients test their expiry handling)."""
    backend, user = caller(request)
    body = await read_body(request, "session", "expires_in", optional=True)
    expires_in = body.integer("expires_in", 0, default=None)
    if expires_in is not None and expires_in > MAX_EXPIRES_IN:
        body.errors["expires_in"] = f"must be at most {MAX_EXPIRES_IN} seconds"
    body.done()
    token, expires_at = backend.store.issue_token(user.id, expires_in)
    when = (format_time(datetime.fromtimestamp(expires_at, timezone.utc), backend.conventions.ms_dates)
            if expires_at is not None else None)
    return respond(request, {"user_id": user.id, "token": token, "expires_at": when}, 201)


async def end(request: Request) -> Response:
    """DELETE /sessions/current: sign out; the token is revoked and its open sockets end."""
    backend, _ = caller(request)
    token = request_token(request)
    backend.store.revoke_token(token)
    backend.hub.revoke(token)
    return Response(status_code=204)
