"""Game session notifications: every state change to both users, absolute ids, the state graph."""
from __future__ import annotations

import pytest

FAMILY = "game-session"
rule = pytest.mark.rule
SCHEDULED = "2026-12-24T18:30:00Z"


def _fields(a, b, created, state_level=0):
    return {"session_id": created.vars["session_id"], "game_id": 7, "user_id": a.id, "partner_id": b.id,
            "game_level": state_level, "scheduled_at": SCHEDULED}


def _step(check, a, b, created, actor, state, level=0):
    if not check.target.supports_transition(_current(check, created), state):
        pytest.skip(f"the target does not support the game transition to {state}")
    result = check.require_ok(check.act("game.transition", actor, b if actor is a else a, state=state, **created.vars))
    check._game_state[created.vars["session_id"]] = state
    fields = _fields(a, b, created, level)
    return check.expect(f"game-session/{state}", result, actor=actor, recipients={a: fields, b: fields})


def _current(check, created):
    return check._game_state.get(created.vars["session_id"], "requested")


def _create(check, a, b):
    created = check.require_ok(check.act("game.create", a, b, game_id=7, game_level=0, scheduled_at=SCHEDULED))
    check._game_state = {created.vars["session_id"]: "requested"}
    fields = _fields(a, b, created)
    check.expect("game-session/requested", created, actor=a, recipients={a: fields, b: fields})
    return created


@rule("GAME-001", "GAME-002", "DLV-001", "DLV-003", "DLV-004", "DLV-007", "PAY-004")
def test_every_state_of_a_full_game_reaches_both_users(check):
    """A creates a scheduled game with B; B accepts; they start, finish, resume and cancel: both receive every state with the same absolute ids."""
    a = check.user("A", connections=2)
    b = check.user("B")
    check.third()
    check.connect()
    created = _create(check, a, b)
    events = [
        _step(check, a, b, created, b, "accepted"),
        _step(check, a, b, created, a, "started"),
        _step(check, a, b, created, b, "finished"),
        _step(check, a, b, created, a, "resumed"),
        _step(check, a, b, created, b, "canceled"),
    ]
    check.expect_order(events)


@rule("GAME-001", "GAME-002", "DLV-001", "DLV-004")
def test_a_rejected_game_reaches_both_users(check):
    """B rejects A's game session: both receive rejected."""
    a = check.user("A")
    b = check.user("B")
    check.third()
    check.connect()
    created = _create(check, a, b)
    _step(check, a, b, created, b, "rejected")


@rule("GAME-003", "DLV-008")
def test_a_transition_outside_the_graph_is_refused_and_silent(check):
    """Finishing a game that was only requested is refused (4xx) and notifies nobody."""
    a = check.user("A")
    b = check.user("B")
    check.third()
    check.connect()
    created = _create(check, a, b)
    result = check.act("game.transition", a, b, state="finished", **created.vars)
    check.expect_refused(result, rule="GAME-003", why="(requested -> finished) ")
