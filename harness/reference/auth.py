"""Who is calling: the running backend and the user behind the request's bearer token."""
from __future__ import annotations

from starlette.requests import Request

from harness.reference.errors import ApiError
from harness.reference.models import User
from harness.reference.state import Backend


def backend_of(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


def caller(request: Request) -> tuple[Backend, User]:
    """The backend and the authenticated user; 401 if the token is missing or unknown."""
    backend = backend_of(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "missing bearer token (Authorization: Bearer <token>)")
    user = backend.store.user_by_token(token.strip())
    if user is None:
        raise ApiError(401, "unknown or revoked token")
    return backend, user
