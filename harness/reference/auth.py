"""Who is calling: the running backend and the user behind the request's bearer token."""
from __future__ import annotations

from starlette.requests import Request

from harness.reference.errors import ApiError
from harness.reference.models import User
from harness.reference.state import Backend

#: where the token-header style expects the token (REST requests)
TOKEN_HEADER = "X-Auth-Token"


def backend_of(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


def bearer(header: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value, else None."""
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def request_token(request: Request) -> str:
    """The token the request authenticates with; 401 if there is none."""
    backend = backend_of(request)
    if backend.conventions.token_header:  # the token-header style ignores Authorization
        token = request.headers.get(TOKEN_HEADER, "").strip() or None
        if token is None:
            raise ApiError(401, f"missing token ({TOKEN_HEADER}: <token>)")
    else:
        token = bearer(request.headers.get("authorization", ""))
    if token is None:
        raise ApiError(401, "missing bearer token (Authorization: Bearer <token>)")
    return token


def caller(request: Request) -> tuple[Backend, User]:
    """The backend and the authenticated user; 401 if the token is missing, unknown, expired
    or revoked."""
    backend = backend_of(request)
    token = request_token(request)
    user = backend.store.user_by_token(token)
    if user is None:
        raise ApiError(401, "unknown, expired or revoked token")
    return backend, user
