"""Game session notifications: every state change to both users, absolute ids, the state graph."""
from __future__ import annotations

import pytest

FAMILY = "game-session"
rule = pytest.mark.rule
SCHEDULED = "2026-12-24T18:30:00Z"
GAME_ID = 7


class Game:
    """A game session between A (creator) and B (partner), driven through the target's state graph."""

    def __init__(self, check, *, a_connections: int = 1) -> None:
        self.check = check
        self.a = check.user("A", connections=a_connections)
        self.b = check.user("B")
        check.third()
        check.connect()
        self.created = check.require_ok(check.act("game.create", self.a, self.b, game_id=GAME_ID, game_level=0, scheduled_at=SCHEDULED))
        self.state = "requested"
        self._expect("requested", self.created, self.a)

    def fields(self) -> dict:
        """What both users' copies must say: the same absolute ids (GAME-002)."""
        return {"session_id": self.created.vars["session_id"], "game_id": GAME_ID, "user_id": self.a.id,
                "partner_id": self.b.id, "game_level": 0, "scheduled_at": SCHEDULED}

    def _expect(self, state, result, actor):
        return self.check.expect(f"game-session/{state}", result, actor=actor, recipients={self.a: self.fields(), self.b: self.fields()})

    def move(self, actor, state):
        if not self.check.target.supports_transition(self.state, state):
            pytest.skip(f"the target does not support the game transition {self.state} -> {state}")
        other = self.b if actor is self.a else self.a
        result = self.check.require_ok(self.check.act("game.transition", actor, other, state=state, **self.created.vars))
        self.state = state
        return self._expect(state, result, actor)


@rule("GAME-001", "GAME-002", "DLV-001", "DLV-003", "DLV-004", "DLV-007", "PAY-004")
def test_every_state_of_a_full_game_reaches_both_users(check):
    """A creates a scheduled game with B; B accepts; they start, finish, resume and cancel: both receive every state with the same absolute ids."""
    game = Game(check, a_connections=2)
    a, b = game.a, game.b
    events = [game.move(b, "accepted"), game.move(a, "started"), game.move(b, "finished"), game.move(a, "resumed"), game.move(b, "canceled")]
    check.expect_order(events)


@rule("GAME-001", "GAME-002", "DLV-001", "DLV-004")
def test_a_rejected_game_reaches_both_users(check):
    """B rejects A's game session: both receive rejected."""
    game = Game(check)
    game.move(game.b, "rejected")


@rule("GAME-003", "DLV-008")
def test_a_transition_outside_the_graph_is_refused_and_silent(check):
    """Finishing a game that was only requested is refused (4xx) and notifies nobody."""
    game = Game(check)
    result = check.act("game.transition", game.a, game.b, state="finished", **game.created.vars)
    check.expect_refused(result, rule="GAME-003", why="(requested -> finished) ")
