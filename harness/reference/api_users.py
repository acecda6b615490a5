"""REST handlers for health, users, device tokens and presence."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from harness.reference.auth import backend_of, caller
from harness.reference.errors import not_found
from harness.reference.rest import read_body, respond
from harness.reference.validation import path_id


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def create_user(request: Request) -> JSONResponse:
    backend = backend_of(request)
    body = await read_body(request, "user", "name")
    name = body.string("name", 1, 64)
    body.done()
    user = backend.store.create_user(name)
    return respond(request, {"id": user.id, "name": user.name, "token": user.token}, 201)


async def me(request: Request) -> JSONResponse:
    _, user = caller(request)
    return respond(request, {"id": user.id, "name": user.name})


async def add_device(request: Request) -> JSONResponse:
    backend, user = caller(request)
    # the envelope style names the field as Rails apps do: {"device": {"fcm_token": T}}
    key = "fcm_token" if backend.conventions.envelope else "token"
    body = await read_body(request, "device", key)
    token = body.string(key, 1, 4096)
    body.done()
    backend.store.add_device(user.id, token)
    return respond(request, {key: token}, 201)


async def remove_device(request: Request) -> Response:
    backend, user = caller(request)
    if not backend.store.remove_device(user.id, request.path_params["token"]):
        raise not_found("device token")
    return Response(status_code=204)


async def presence(request: Request) -> JSONResponse:
    backend, _ = caller(request)
    user_id = path_id(request, "user_id", "user")
    if backend.store.user(user_id) is None:
        raise not_found("user")
    connections = backend.hub.count(user_id)
    return respond(request, {"user_id": user_id, "online": connections > 0,
                             "connections": connections})
