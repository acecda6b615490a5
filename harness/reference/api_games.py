"""REST handlers for game sessions: creation and state changes along the contract's graph."""
from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import JSONResponse

from harness.reference import payloads
from harness.reference.auth import caller
from harness.reference.errors import conflict, forbidden, not_found
from harness.reference.models import GameSession
from harness.reference.state import Backend, Notification
from harness.reference.validation import Body, other_user, path_id

#: state -> the states it may move to (CONTRACT.md, "Game session")
GRAPH: dict[str, tuple[str, ...]] = {
    "requested": ("accepted", "rejected", "canceled"),
    "accepted": ("started", "canceled"),
    "started": ("finished", "canceled"),
    "finished": ("resumed",),
    "resumed": ("finished", "canceled"),
}
STATES = ("requested", "accepted", "rejected", "started", "finished", "canceled", "resumed")
PARTNER_ONLY = ("accepted", "rejected")


def view(session: GameSession) -> dict[str, object]:
    return {
        "id": session.id, "game_id": session.game_id, "user_id": session.user_id,
        "partner_id": session.partner_id, "state": session.state,
        "game_level": session.game_level,
        "scheduled_at": (payloads.format_time(session.scheduled_at)
                         if session.scheduled_at else None),
    }


def _notifications(backend: Backend, session: GameSession) -> list[Notification]:
    """Both users, whoever acted (the same absolute payload for each)."""
    faults = backend.faults
    notes = [Notification(session.partner_id, payloads.game_session(session, True, faults))]
    if "game-one-side" not in faults:
        notes.insert(0, Notification(session.user_id,
                                     payloads.game_session(session, False, faults)))
    return notes


async def create(request: Request) -> JSONResponse:
    backend, user = caller(request)
    body = await Body.read(request, "game_id", "partner_id", "game_level", "scheduled_at")
    game_id = body.integer("game_id", 1)
    partner_id = body.integer("partner_id", 1)
    game_level = body.integer("game_level", 0, default=0)
    scheduled_at = body.time("scheduled_at", nullable=True)
    body.done()
    other_user(backend.store, user.id, "partner_id", partner_id, "partner")
    session = backend.store.create_game_session(game_id, user.id, partner_id, game_level,
                                                scheduled_at)
    await backend.notify(_notifications(backend, session))
    return JSONResponse(view(session), 201)


async def change_state(request: Request) -> JSONResponse:
    backend, user = caller(request)
    session = backend.store.game_session(path_id(request, "id", "game session"))
    if session is None:
        raise not_found("game session")
    body = await Body.read(request, "state", "game_level")
    state = body.choice("state", STATES)
    game_level = body.optional_integer("game_level", 0)
    body.done()
    if user.id not in (session.user_id, session.partner_id):
        raise forbidden("you are not a player of this game session")
    if state in PARTNER_ONLY and user.id != session.partner_id:
        raise forbidden(f"only the partner can set the state {state}")
    if "invalid-transition-accepted" in backend.faults:
        expected: tuple[str, ...] = STATES
    elif state in GRAPH.get(session.state, ()):
        expected = (session.state,)
    else:
        raise conflict(f"cannot go from {session.state} to {state}")
    with backend.store.transaction() as db:
        changed = backend.store.update_game_session(db, session.id, expected, state, game_level)
    if not changed:
        raise conflict(f"the session changed meanwhile; it is no longer {session.state}")
    session = replace(session, state=state,
                      game_level=session.game_level if game_level is None else game_level)
    await backend.notify(_notifications(backend, session))
    return JSONResponse(view(session))
