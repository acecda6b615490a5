"""REST handlers for video calls, and the ring timer that ends unanswered ones."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse

from harness.reference import payloads
from harness.reference.auth import caller
from harness.reference.errors import conflict, forbidden, not_found
from harness.reference.models import Call, User
from harness.reference.rest import read_body, respond, time_view
from harness.reference.state import Backend, Notification
from harness.reference.styles import Conventions
from harness.reference.validation import other_user, path_id

#: action -> (who may do it, statuses it applies to, new status)
ACTIONS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "accept": ("callee", ("requested",), "accepted"),
    "reject": ("callee", ("requested",), "rejected"),
    "terminate": ("either", ("requested", "accepted"), "terminated"),
}


def view(call: Call, conventions: Conventions) -> dict[str, object]:
    # the envelope style nests the OpenVidu session as a resource of its own
    session: dict[str, object] = ({"session": {"id": call.session_id}} if conventions.envelope
                                  else {"session_id": call.session_id})
    return {"id": call.id, **session, "status": call.status,
            "caller_id": call.caller_id, "callee_id": call.callee_id,
            "scheduled_at": time_view(call.scheduled_at, conventions)}


def _note(backend: Backend, call: Call, status: str, recipient: int) -> list[Notification]:
    return [Notification(recipient, payloads.call_status(status, call, recipient, backend.faults))]


async def _read_callee(request: Request, user: User, backend: Backend,
                       scheduled: bool) -> tuple[int, datetime | None]:
    body = await read_body(request, "call", "callee_id", *(("scheduled_at",) if scheduled else ()))
    callee_id = body.ident("callee_id")
    scheduled_at = body.time("scheduled_at", nullable=False) if scheduled else None
    body.done()
    other_user(backend.store, user.id, "callee_id", callee_id, "callee")
    return callee_id, scheduled_at


async def request_call(request: Request) -> JSONResponse:
    backend, user = caller(request)
    callee_id, _ = await _read_callee(request, user, backend, scheduled=False)
    if not backend.hub.online(callee_id) and "no-user-not-available" not in backend.faults:
        call = backend.store.create_call(user.id, callee_id, "user_not_available")
        await backend.notify(_note(backend, call, "user_not_available", user.id))
        return respond(request, view(call, backend.conventions), 201)
    call = backend.store.create_call(user.id, callee_id, "requested")
    await backend.notify(_note(backend, call, "requested", callee_id))
    if "no-user-not-responding" not in backend.faults:
        ring = backend.ring_timeout / (2 if "ring-too-early" in backend.faults else 1)
        loop = asyncio.get_running_loop()
        backend.ring_timers[call.id] = loop.call_later(
            ring, lambda: backend.spawn(_ring_expired(backend, call)))
    return respond(request, view(call, backend.conventions), 201)


async def _ring_expired(backend: Backend, call: Call) -> None:
    backend.ring_timers.pop(call.id, None)
    with backend.store.transaction() as db:
        ended = backend.store.set_status(db, "calls", call.id, ("requested",), "not_responding")
    if ended or "ring-timer-not-cancelled" in backend.faults:
        await backend.notify(_note(backend, call, "user_not_responding", call.caller_id))


async def schedule(request: Request) -> JSONResponse:
    backend, user = caller(request)
    callee_id, scheduled_at = await _read_callee(request, user, backend, scheduled=True)
    call = backend.store.create_call(user.id, callee_id, "scheduled", scheduled_at)
    await backend.notify(_note(backend, call, "scheduled", callee_id))
    return respond(request, view(call, backend.conventions), 201)


async def transition(request: Request) -> JSONResponse:
    backend, user = caller(request)
    action = request.path_params["action"]
    if action not in ACTIONS:
        raise not_found("endpoint")
    call = backend.store.call(path_id(request, "id", "call"))
    if call is None:
        raise not_found("call")
    role, required, new = ACTIONS[action]
    allowed = (call.callee_id,) if role == "callee" else (call.caller_id, call.callee_id)
    if user.id not in allowed:
        raise forbidden(f"only {'the callee' if role == 'callee' else 'a party'} can {action}"
                        " this call")
    with backend.store.transaction() as db:
        changed = backend.store.set_status(db, "calls", call.id, required, new)
    if not changed:
        current = backend.store.call(call.id)
        raise conflict(f"cannot {action}: the call is {current.status if current else 'gone'}")
    if "ring-timer-not-cancelled" not in backend.faults:
        timer = backend.ring_timers.pop(call.id, None)
        if timer is not None:
            timer.cancel()
    other = call.other(user.id)
    await backend.notify(_note(backend, call, new, other))
    return respond(request, view(replace(call, status=new), backend.conventions))
