"""REST handlers for game sessions: creation and state changes along the contract's graph."""
from __future__ import annotations

import struct
from dataclasses import replace

from starlette.requests import Request
from starlette.responses import JSONResponse

from harness.reference import payloads
from harness.reference.auth import caller
from harness.reference.errors import conflict, forbidden, invalid, not_found
from harness.reference.models import GameSession, User
from harness.reference.rest import read_body, respond, respond_list, time_view
from harness.reference.state import Backend, Notification
from harness.reference.styles import Conventions
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
#: the verbs style: POST /game_sessions/{id}/<verb> -> the state it moves to
VERBS: dict[str, str] = {"accept": "accepted", "reject": "rejected", "start": "started",
                         "finish": "finished", "cancel": "canceled", "resume": "resumed"}
#: the catalogue style: the games this backend knows (GET /games)
CATALOGUE: tuple[dict[str, object], ...] = (
    {"id": 101, "name": "Memory"}, {"id": 102, "name": "Four in a row"},
    {"id": 103, "name": "Quiz"},
)


def view(session: GameSession, conventions: Conventions) -> dict[str, object]:
    return {
        "id": session.id, "game_id": session.game_id, "user_id": session.user_id,
        "partner_id": session.partner_id, "state": session.state,
        "game_level": session.game_level,
        "scheduled_at": time_view(session.scheduled_at, conventions),
    }


def _notifications(backend: Backend, session: GameSession, actor: int) -> list[Notification]:
    """Both users, whoever acted (the same absolute payload for each)."""
    faults = backend.faults
    ms = backend.conventions.ms_dates
    notes = [Notification(session.partner_id, payloads.game_session(session, True, faults, ms))]
    partner_moved = (actor == session.partner_id
                     and session.state not in ("requested", *PARTNER_ONLY))
    if not ("game-one-side" in faults
            or partner_moved and "game-partner-moves-one-side" in faults):
        notes.insert(0, Notification(session.user_id,
                                     payloads.game_session(session, False, faults, ms)))
    return notes


async def catalogue(request: Request) -> JSONResponse:
    """The catalogue style's game list (public: a catalogue is no secret)."""
    return respond_list(request, "games", [dict(game) for game in CATALOGUE])


async def create(request: Request) -> JSONResponse:
    backend, user = caller(request)
    body = await read_body(request, "game_session", "game_id", "partner_id", "game_level",
                           "scheduled_at")
    game_id = body.ident("game_id")
    partner_id = body.ident("partner_id")
    game_level = body.integer("game_level", 0, default=0)
    scheduled_at = body.time("scheduled_at", nullable=True)
    body.done()
    if "level-overflow-crash" in backend.faults:
        struct.pack("<i", game_level)  # the fault: a 32-bit field packed unchecked; 2**31 raises (500)
    conventions = backend.conventions
    if conventions.catalogue and game_id not in {game["id"] for game in CATALOGUE}:
        raise invalid({"game_id": f"is no game of the catalogue (GET {conventions.prefix}/games)"})
    other_user(backend.store, user.id, "partner_id", partner_id, "partner")
    session = backend.store.create_game_session(game_id, user.id, partner_id, game_level,
                                                scheduled_at)
    await backend.notify(_notifications(backend, session, user.id))
    return respond(request, view(session, conventions), 201)


async def change_state(request: Request) -> JSONResponse:
    """POST /games/sessions/{id}/state {"state": S} (default style)."""
    backend, user = caller(request)
    session = _session(request, backend)
    body = await read_body(request, "game_session", "state", "game_level")
    return await _transition(request, backend, user, session, body)


async def patch(request: Request) -> JSONResponse:
    """PATCH /game_sessions/{id} {"game_session": {"state": S}} (patch-state style)."""
    backend, user = caller(request)
    session = _session(request, backend)
    # wrapped whether or not the envelope style is on: it is the PATCH convention
    body = await Body.read(request, "state", "game_level", wrapper="game_session")
    return await _transition(request, backend, user, session, body)


async def verb(request: Request) -> JSONResponse:
    """POST /game_sessions/{id}/<verb>, body optional ({"game_level": N}) (verbs style)."""
    backend, user = caller(request)
    state = VERBS.get(request.path_params["verb"])
    if state is None:
        raise not_found("endpoint")
    session = _session(request, backend)
    body = await read_body(request, "game_session", "game_level", optional=True)
    return await _transition(request, backend, user, session, body, state)


def _session(request: Request, backend: Backend) -> GameSession:
    session = backend.store.game_session(path_id(request, "id", "game session"))
    if session is None:
        raise not_found("game session")
    return session


async def _transition(request: Request, backend: Backend, user: User, session: GameSession,
                      body: Body, state: str | None = None) -> JSONResponse:
    """One state change, whichever endpoint asked for it; `state` None: it is in the body."""
    if state is None:
        state = body.choice("state", STATES)
    game_level = body.optional_integer("game_level", 0)
    body.done()
    if user.id not in (session.user_id, session.partner_id):
        raise forbidden("you are not a player of this game session")
    if state in PARTNER_ONLY and user.id != session.partner_id:
        raise forbidden(f"only the partner can set the state {state}")
    faults = backend.faults
    in_graph = state in GRAPH.get(session.state, ())
    silent = not in_graph and "invalid-transition-silent" in faults
    if "invalid-transition-accepted" in faults or silent:
        expected: tuple[str, ...] = STATES
    elif in_graph:
        expected = (session.state,)
    else:
        raise conflict(f"cannot go from {session.state} to {state}")
    with backend.store.transaction() as db:
        changed = backend.store.update_game_session(db, session.id, expected, state, game_level)
    if not changed:
        raise conflict(f"the session changed meanwhile; it is no longer {session.state}")
    session = replace(session, state=state,
                      game_level=session.game_level if game_level is None else game_level)
    if not silent:
        await backend.notify(_notifications(backend, session, user.id))
    return respond(request, view(session, backend.conventions))
