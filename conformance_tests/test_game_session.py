"""Game session notifications: every transition of the graph to both users, from either side, with
absolute ids; transitions outside the graph refused and silent; scheduled_at null or a time."""
from __future__ import annotations

from collections import deque

import pytest

from harness.contract import load_contract
from harness.target import Unsupported

FAMILY = "game-session"
rule = pytest.mark.rule
_GAME = load_contract().family("game-session")
#: (from, to) -> who may make the transition, from the contract's graph (rules.json)
GRAPH = {(t["from"], t["to"]): tuple(t["by"]) for t in _GAME.transitions if t["from"] is not None}
STATES = tuple(v.name for v in _GAME.variants)
#: For each state, transitions the graph forbids from it (tried in order: the first the target
#: has an action for), and who tries: the user who could make that move in a valid game.
INVALID = {
    "requested": ("finished", "started", "resumed"),
    "accepted": ("resumed", "finished", "accepted"),
    "rejected": ("accepted", "started", "canceled"),
    "started": ("resumed", "accepted", "started"),
    "finished": ("started", "canceled", "finished"),
    "canceled": ("started", "accepted", "resumed"),
    "resumed": ("accepted", "started", "resumed"),
}


def _path_to(state):
    """The shortest sequence of transitions from requested to `state` along the graph."""
    queue, seen = deque([("requested", ())]), {"requested"}
    while queue:
        current, path = queue.popleft()
        if current == state:
            return path
        for (src, dst) in GRAPH:
            if src == current and dst not in seen:
                seen.add(dst)
                queue.append((dst, (*path, (src, dst))))
    raise ValueError(f"{state} cannot be reached")


class Game:
    """A game session between A (creator) and B (partner), driven through the target's actions.

    Every value the copies are compared with is one the check sent (level, schedule) or the
    target returned (session id; the game id from the profile or from game.create's answer).
    """

    def __init__(self, check, *, a_connections: int = 1, scheduled_at=None) -> None:
        self.check = check
        self.a = check.user("A", connections=a_connections)
        self.b = check.user("B")
        check.connect()
        params = {"game_level": 0, "scheduled_at": scheduled_at}
        try:
            params["game_id"] = check.target.game_id()
        except Unsupported:
            pass  # the profile's game.create picks the game itself: game.create must tell which
        self.created = check.require_ok(check.act("game.create", self.a, self.b, **params))
        self.vars = {**params, **self.created.vars}
        self.state = "requested"
        self.events = [self._expect("requested", self.created, self.a)]

    def fields(self) -> dict:
        """What both users' copies must say: the same absolute ids (GAME-002)."""
        fields = {"session_id": self.vars["session_id"], "user_id": self.a.id, "partner_id": self.b.id,
                  "game_level": self.vars["game_level"], "scheduled_at": self.vars["scheduled_at"]}
        if self.vars.get("game_id") is not None:
            fields["game_id"] = self.vars["game_id"]
        return fields

    def _expect(self, state, result, actor):
        return self.check.expect(f"game-session/{state}", result, actor=actor, recipients={self.a: self.fields(), self.b: self.fields()})

    def player(self, role):
        return self.a if role == "A" else self.b

    def act(self, to_state, actor=None):
        """Make a transition of the graph (by `actor`, default: the first role allowed to); returns
        (result, actor) without waiting for its notifications."""
        if not self.check.target.supports_transition(self.state, to_state):
            pytest.skip(f"the target does not support the game transition {self.state} -> {to_state}")
        actor = actor or self.player(GRAPH[(self.state, to_state)][0])
        other = self.b if actor is self.a else self.a
        result = self.check.require_ok(self.check.transition(actor, other, from_state=self.state, to_state=to_state, **self.vars))
        self.state = to_state
        return result, actor

    def expect(self, to_state, result, actor):
        event = self._expect(to_state, result, actor)
        self.events.append(event)
        return event

    def move(self, to_state, actor=None):
        return self.expect(to_state, *self.act(to_state, actor))

    def reach(self, state):
        for _, to_state in _path_to(state):
            self.move(to_state)


TRANSITIONS = [pytest.param(src, dst, by, id=f"{src}-to-{dst}-by-{by}") for (src, dst), roles in sorted(GRAPH.items()) for by in roles]


@pytest.mark.parametrize("from_state, to_state, by", TRANSITIONS)
@rule("GAME-001", "GAME-002", "DLV-001", "DLV-003", "DLV-004", "DLV-007", "PAY-004")
def test_every_transition_reaches_both_users_whoever_makes_it(check, from_state, to_state, by):
    """The game is driven to a state, then one player makes a transition of the graph: both receive every state, with the same absolute ids, in order."""
    game = Game(check)
    game.reach(from_state)
    game.move(to_state, actor=game.player(by))
    check.expect_order(game.events)


@rule("GAME-001", "GAME-002", "DLV-001", "DLV-004", "DLV-007")
def test_a_full_game_reaches_both_users_on_every_connection(check):
    """A (two connections) and B play a game through, back to back: accepted, started, finished, resumed, canceled reach every connection of both, in order."""
    game = Game(check, a_connections=2)
    states = ("accepted", "started", "finished", "resumed", "canceled")
    made = [game.act(state) for state in states]
    for state, (result, actor) in zip(states, made):
        game.expect(state, result, actor)
    check.expect_order(game.events)


@rule("GAME-002", "PAY-003", "PAY-004", "GAME-001")
def test_an_unscheduled_game_says_scheduled_at_null(check):
    """A game created without a schedule: both copies carry scheduled_at as JSON null (not "", not absent)."""
    Game(check, scheduled_at=None)


@rule("GAME-002", "PAY-004", "GAME-001")
def test_a_scheduled_game_carries_its_time(check):
    """A game scheduled a week ahead (made at run time): both copies carry that instant as an RFC 3339 date-time."""
    if not check.target.sends("game.create", "scheduled_at"):
        pytest.skip("the profile's game.create does not send {{scheduled_at}}: the target cannot be asked for a schedule")
    Game(check, scheduled_at=check.future_instant())


@pytest.mark.parametrize("state", STATES)
@rule("DLV-008", "GAME-003", "DLV-004")
def test_a_transition_outside_the_graph_is_refused_and_silent(check, state):
    """The game is driven to a state, then a player tries a transition the graph does not allow from there: it should be refused (4xx) and must notify nobody."""
    game = Game(check)
    game.reach(state)
    target = check.target
    choice = next((to for to in INVALID[state] if (state, to) not in GRAPH and target.transition_action(to)), None)
    if choice is None:
        pytest.skip(f"the target has no action for any transition out of {state} that the graph forbids")
    role = next((roles[0] for (src, dst), roles in GRAPH.items() if dst == choice), "A")
    actor = game.player(role)
    other = game.b if actor is game.a else game.a
    result = check.transition(actor, other, from_state=state, to_state=choice, **game.vars)
    check.expect_invalid(result, variant=f"game-session/{choice}", identity={"session_id": game.vars["session_id"]},
                         why=f"({state} -> {choice} by {actor.label})")
