"""The ASGI application: routes, JSON error handling, lifespan."""
from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from importlib import resources

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from harness.reference import api_calls, api_chat, api_friendships, api_games, api_users
from harness.reference.errors import ApiError
from harness.reference.sockets import cable_endpoint, plain_endpoint
from harness.reference.state import Backend

log = logging.getLogger("b4a.reference")


def openapi_text() -> str:
    """The committed OpenAPI document, exactly as served."""
    return resources.files("harness.reference").joinpath("openapi.json").read_text("utf-8")


def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(exc.body(), exc.status, headers=headers)


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, exc.status_code, headers=exc.headers)


def _server_error(request: Request, exc: Exception) -> Response:
    # never expected; logged with its traceback, answered without one
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"error": "internal error"}, 500)


def create_app(backend: Backend) -> Starlette:
    document = openapi_text()

    async def openapi(request: Request) -> Response:
        return Response(document, media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        for timer in backend.ring_timers.values():
            timer.cancel()
        backend.pusher.close()
        backend.store.close()

    routes = [
        Route("/health", api_users.health, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/users", api_users.create_user, methods=["POST"]),
        Route("/me", api_users.me, methods=["GET"]),
        Route("/devices", api_users.add_device, methods=["POST"]),
        Route("/devices/{token:path}", api_users.remove_device, methods=["DELETE"]),
        Route("/presence/{user_id}", api_users.presence, methods=["GET"]),
        Route("/friendships", api_friendships.collection, methods=["GET", "POST"]),
        Route("/friendships/{id}/{action}", api_friendships.transition, methods=["POST"]),
        Route("/games/sessions", api_games.create, methods=["POST"]),
        Route("/games/sessions/{id}/state", api_games.change_state, methods=["POST"]),
        Route("/chat/threads", api_chat.open_thread, methods=["POST"]),
        Route("/chat/threads/{id}/messages", api_chat.post_message, methods=["POST"]),
        Route("/calls", api_calls.request_call, methods=["POST"]),
        Route("/calls/schedule", api_calls.schedule, methods=["POST"]),
        Route("/calls/{id}/{action}", api_calls.transition, methods=["POST"]),
        WebSocketRoute("/ws", plain_endpoint),
        WebSocketRoute("/cable", cable_endpoint),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={ApiError: _api_error, HTTPException: _http_error,
                            Exception: _server_error},
    )
    app.state.backend = backend
    json.loads(document)  # fail at start, not per request, if the packaged document is broken
    return app
