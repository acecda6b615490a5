"""Servers for the target tests: the real reference backend, and a tiny echo app for odd answers."""
from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from harness.reference import ReferenceBackend

PROFILES = Path(__file__).resolve().parents[2] / "fixtures" / "profiles"


@pytest.fixture(scope="session")
def reference() -> Iterator[ReferenceBackend]:
    with ReferenceBackend() as backend:
        yield backend


async def _echo(request: Request) -> Response:
    """Everything the harness sent, so tests can assert the exact request."""
    raw = await request.body()
    return JSONResponse({
        "method": request.method, "path": request.url.path, "raw_path": request.scope["raw_path"].decode(),
        "query": dict(request.query_params), "headers": dict(request.headers), "body": raw.decode(),
        "id": 7, "token": "tok-" + request.url.path.rsplit("/", 1)[-1], "online": False,
    })


async def _status(request: Request) -> Response:
    code = int(request.path_params["code"])
    return JSONResponse({"error": f"status {code}", "token": "tok-refused"}, status_code=code)


async def _html(request: Request) -> Response:
    return HTMLResponse("<html><body>Welcome to nginx!</body></html>")


async def _slow(request: Request) -> Response:
    await asyncio.sleep(2.0)
    return JSONResponse({})


ECHO_APP = Starlette(routes=[
    Route("/status/{code:int}", _status, methods=["GET", "POST"]),
    Route("/html", _html, methods=["GET", "POST"]),
    Route("/slow", _slow, methods=["GET", "POST"]),
    Route("/{rest:path}", _echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
])


@pytest.fixture(scope="session")
def echo_url() -> Iterator[str]:
    """ECHO_APP on real uvicorn, 127.0.0.1, a free port; stopped at the end."""
    server = uvicorn.Server(uvicorn.Config(ECHO_APP, host="127.0.0.1", port=0, log_level="warning", lifespan="off",
                                           timeout_graceful_shutdown=0.2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the echo server did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
