"""The emulator's ASGI application: FCM's routes and the control API, on one Starlette app."""
from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.emulator.fcm.control import ControlApi
from harness.emulator.fcm.fcm_api import FcmApi
from harness.emulator.fcm import topics
from harness.emulator.fcm.responses import GOOGLE_404_HTML, control_error
from harness.emulator.fcm.topics import TopicApi

log = logging.getLogger(__name__)


def build_app(fcm: FcmApi, control: ControlApi) -> Starlette:
    routes = [
        Route("/v1/projects/{project}/messages:send", _Asgi(fcm.send), methods=["POST"]),
        Route("/token", fcm.token, methods=["POST"]),
        Route(topics.ROUTE, TopicApi(fcm).handle, methods=["POST", "DELETE"]),
    ]
    by_path: dict[str, dict[str, Any]] = {}
    for method, path, handler in control.routes():
        by_path.setdefault(path, {})[method] = control.wrap(handler)
    # One route per path, so a 405 lists every method the path has in its Allow header.
    routes += [Route(path, _dispatch(handlers), methods=list(handlers)) for path, handlers in by_path.items()]
    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _unexpected},
    )


class _Asgi:
    """Marks a bound method as a raw ASGI app (Starlette would wrap a method as a request handler)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def _dispatch(handlers: dict[str, Any]) -> Any:
    async def endpoint(request: Request) -> Response:
        response: Response = await handlers["GET" if request.method == "HEAD" else request.method](request)
        return response
    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    path = request.url.path
    if path.startswith("/emulator/"):
        if exc.status_code == 405:
            response = control_error(405, f"method {request.method} is not allowed on {path}")
            response.headers.update(exc.headers or {})  # Allow: the methods that are
            return response
        return control_error(exc.status_code, f"no control operation at {path}; see /emulator/v1/openapi.json")
    # Google's front end answers unknown URLs (the retired /batch and /fcm/send too) with this page.
    return Response(GOOGLE_404_HTML.format(path=path), 404, media_type="text/html; charset=UTF-8")


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("FCM emulator: unexpected error on %s %s", request.method, request.url.path)
    return control_error(500, f"the emulator failed: {type(exc).__name__}: {exc}")
