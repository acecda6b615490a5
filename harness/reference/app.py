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
from starlette.routing import BaseRoute, Route, WebSocketRoute

from harness.reference import api_calls, api_chat, api_friendships, api_games, api_sessions, api_users
from harness.reference.errors import ApiError
from harness.reference.sockets import cable_endpoint, plain_endpoint
from harness.reference.state import Backend
from harness.reference.styles import Conventions

log = logging.getLogger("b4a.reference")


def openapi_text() -> str:
    """The committed OpenAPI document, exactly as served."""
    return resources.files("harness.reference").joinpath("openapi.json").read_text("utf-8")


def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    token_header = request.app.state.backend.conventions.token_header
    headers = ({"WWW-Authenticate": "Token" if token_header else "Bearer"}
               if exc.status == 401 else None)
    return JSONResponse(exc.body(), exc.status, headers=headers)


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, exc.status_code, headers=exc.headers)


def _server_error(request: Request, exc: Exception) -> Response:
    # never expected; logged with its traceback, answered without one
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"error": "internal error"}, 500)


class _DenialIsAHandshake(logging.Filter):
    """uvicorn's websockets-sansio protocol logs "ASGI callable returned without completing
    handshake" after a denial response (its flag is set only for accept and close), though the
    client got its HTTP 401. Drop that one line; only the upgrade-401 style installs this."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing handshake" not in record.getMessage()


def create_app(backend: Backend) -> Starlette:
    document = openapi_text()
    if backend.conventions.upgrade_401:
        logging.getLogger("uvicorn.error").addFilter(_DenialIsAHandshake())

    async def openapi(request: Request) -> Response:
        return Response(document, media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        for timer in (*backend.ring_timers.values(), *backend.delayed):
            timer.cancel()
        backend.pusher.close()
        backend.store.close()

    routes: list[BaseRoute] = [Route("/health", api_users.health, methods=["GET"])]
    if backend.conventions.is_default:  # the document describes the default style only
        routes.append(Route("/openapi.json", openapi, methods=["GET"]))
    routes += [*_api_routes(backend.conventions),
               WebSocketRoute("/ws", plain_endpoint),
               WebSocketRoute("/cable", cable_endpoint)]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={ApiError: _api_error, HTTPException: _http_error,
                            Exception: _server_error},
    )
    app.state.backend = backend
    json.loads(document)  # fail at start, not per request, if the packaged document is broken
    return app


def _api_routes(conventions: Conventions) -> list[Route]:
    """The REST routes under the active conventions: one handler per endpoint, styles choose
    paths and methods (default: exactly the routes of openapi.json)."""
    p = conventions.prefix
    routes = [
        Route(p + "/users", api_users.create_user, methods=["POST"]),
        Route(p + "/me", api_users.me, methods=["GET"]),
        Route(p + "/devices", api_users.add_device, methods=["POST"]),
        Route(p + "/devices/{token:path}", api_users.remove_device, methods=["DELETE"]),
        Route(p + "/presence/{user_id}", api_users.presence, methods=["GET"]),
        Route(p + "/sessions", api_sessions.issue, methods=["POST"]),
        Route(p + "/sessions/current", api_sessions.end, methods=["DELETE"]),
        Route(p + "/friendships", api_friendships.collection, methods=["GET", "POST"]),
    ]
    if conventions.patch_state:
        routes.append(Route(p + "/friendships/{id}", api_friendships.patch_or_delete,
                            methods=["PATCH", "DELETE"]))
    else:
        routes.append(Route(p + "/friendships/{id}/{action}", api_friendships.transition,
                            methods=["POST"]))
    if conventions.catalogue:
        routes.append(Route(p + "/games", api_games.catalogue, methods=["GET"]))
    sessions = p + conventions.game_sessions_path
    routes.append(Route(sessions, api_games.create, methods=["POST"]))
    if conventions.verbs:
        routes.append(Route(sessions + "/{id}/{verb}", api_games.verb, methods=["POST"]))
    if conventions.patch_state:
        routes.append(Route(sessions + "/{id}", api_games.patch, methods=["PATCH"]))
    if not (conventions.verbs or conventions.patch_state):
        routes.append(Route(sessions + "/{id}/state", api_games.change_state, methods=["POST"]))
    return routes + [
        Route(p + "/chat/threads", api_chat.open_thread, methods=["POST"]),
        Route(p + "/chat/threads/{id}/messages", api_chat.post_message, methods=["POST"]),
        Route(p + "/calls", api_calls.request_call, methods=["POST"]),
        Route(p + "/calls/schedule", api_calls.schedule, methods=["POST"]),
        Route(p + "/calls/{id}/{action}", api_calls.transition, methods=["POST"]),
    ]
