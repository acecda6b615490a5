"""The flows a simulated user runs: friendship, game, chat and call, as a person would use the app.

Each flow drives the profile's actions through `Target` (acting as either side of the pair) and,
after every action the backend accepted, tells the session which copies rules.json now expects:
the variant, its recipients, the identity the copies must carry and the fields the flow dictates.
A flow looks at `population.stopping` before each action, so a stopping run never leaves an
action half-sent: what the backend did is always what the ledger expects.
"""
from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.flow_values import canonical, future_instant
from harness.load.population import Friendship, Member
from harness.target import Unsupported

if TYPE_CHECKING:
    from harness.load.session import LoadSession

Flow = Callable[["LoadSession", Member, random.Random], None]

#: the next game state from each state, with weights (None: the flow leaves the session there)
GAME_WALK: dict[str, tuple[tuple[str | None, int], ...]] = {
    "requested": (("accepted", 6), ("rejected", 1), ("canceled", 1)),
    "accepted": (("started", 5), ("canceled", 1)),
    "started": (("finished", 5), ("canceled", 1)),
    "finished": (("resumed", 1), (None, 3)),
    "resumed": (("finished", 3), ("canceled", 1)),
}


def _pick(rng: random.Random, weighted: list[tuple[Any, int]]) -> Any:
    return rng.choices([value for value, _ in weighted], weights=[weight for _, weight in weighted])[0]


def friendship(session: LoadSession, me: Member, rng: random.Random) -> None:
    """Ask someone (mostly strangers) to be friends and settle it, or end a friendship."""
    other = session.population.partner(me, rng, friends_first=0.3)
    if other is None:
        return
    lock = session.population.lock_pair(me, other)
    if lock is None:
        return  # a flow of this pair is under way: a friendship has one state at a time
    try:
        current = session.population.friendships.get(frozenset((me.uid, other.uid)))
        if current is None:
            befriend(session, me, other, rng, settle=None)
        elif current.state == "friends":
            _terminate(session, me, other, rng, current)
        else:  # a request left pending by an earlier flow: its invitee answers now
            requester = me if current.requester == me.uid else other
            _settle(session, requester, other if requester is me else me, current.friendship_id, "accept")
    finally:
        lock.release()


def befriend(session: LoadSession, me: Member, other: Member, rng: random.Random, settle: str | None) -> None:
    """friendship.request, then (after a pause) accept, reject or cancel; `settle` forces the answer."""
    pair = frozenset((me.uid, other.uid))
    result = session.act("friendship.request", me, other)
    if result is None:
        return
    session.parties("friendship", None, (me, other))
    session.expect("friendship/new_request", result, me, [other], (me.uid,), {"friend_id": me.uid})
    friendship_id = result.vars.get("friendship_id")
    if friendship_id is None:
        return  # the profile does not extract it: the request stays pending
    session.population.friendships[pair] = Friendship("pending", me.uid, friendship_id)
    session.pause(rng)
    answers = [(name, weight) for name, weight in (("accept", 6), ("reject", 2), ("cancel", 2))
               if session.supports(f"friendship.{name}")]
    if not answers:
        return
    _settle(session, me, other, friendship_id, settle or _pick(rng, answers))


def _settle(session: LoadSession, requester: Member, invitee: Member, friendship_id: Any, answer: str) -> None:
    if session.population.stopping or not session.supports(f"friendship.{answer}"):
        return
    pair = frozenset((requester.uid, invitee.uid))
    if answer == "cancel":
        result = session.act("friendship.cancel", requester, invitee, friendship_id=friendship_id)
        if result is not None:
            session.population.friendships.pop(pair, None)
            session.expect("friendship/canceled", result, requester, [invitee], (requester.uid,),
                           {"friend_id": requester.uid})
        return
    result = session.act(f"friendship.{answer}", invitee, requester, friendship_id=friendship_id)
    if result is None:
        return
    variant = "friendship/accepted" if answer == "accept" else "friendship/rejected"
    session.expect(variant, result, invitee, [requester], (invitee.uid,), {"friend_id": invitee.uid})
    if answer == "accept":
        session.population.befriend(requester, invitee, friendship_id)
    else:
        session.population.friendships.pop(pair, None)


def _terminate(session: LoadSession, me: Member, other: Member, rng: random.Random, current: Friendship) -> None:
    if not session.supports("friendship.terminate") or session.population.stopping:
        return
    actor, counterpart = (me, other) if rng.random() < 0.5 else (other, me)
    result = session.act("friendship.terminate", actor, counterpart, friendship_id=current.friendship_id)
    if result is None:
        return
    session.population.unfriend(me, other)
    session.expect("friendship/terminated", result, actor, [counterpart], (actor.uid,), {"friend_id": actor.uid})


def chat(session: LoadSession, me: Member, rng: random.Random) -> None:
    """One message to a friend (or anyone); each text is unique, so each copy is told apart."""
    other = session.population.partner(me, rng)
    if other is None:
        return
    text = f"load {uuid.uuid4().hex[:12]}"
    result = session.act("chat.post", me, other, text=text)
    if result is None:
        return
    thread_id = result.vars.get("thread_id")
    identity = (canonical(thread_id), text)
    session.parties("chat", identity, (me, other))
    session.expect("chat/new_message", result, me, [other], identity, {"thread/id": thread_id, "message": text})


def game(session: LoadSession, me: Member, rng: random.Random) -> None:
    """Create a game session with someone and play it along the contract's graph."""
    other = session.population.partner(me, rng)
    if other is None:
        return
    params: dict[str, Any] = {"game_level": rng.randint(0, 5), "scheduled_at": None}
    try:
        params["game_id"] = me.target.game_id()
    except Unsupported:
        pass  # the profile's game.create picks the game itself
    created = session.act("game.create", me, other, **params)
    if created is None:
        return
    variables = {**params, **created.vars}
    identity = (canonical(variables.get("session_id")),)
    fields = {"session_id": variables.get("session_id"), "user_id": me.uid, "partner_id": other.uid}
    session.parties("game-session", identity, (me, other))
    session.expect("game-session/requested", created, me, [me, other], identity, fields)
    roles = {"A": me, "B": other}
    moves = {(t["from"], t["to"]): t["by"] for t in session.contract.family("game-session").transitions}
    state = "requested"
    while not session.population.stopping:
        choices = [(to, weight) for to, weight in GAME_WALK.get(state, ())
                   if to is None or me.target.supports_transition(state, to)]
        to_state = _pick(rng, choices) if choices else None
        if to_state is None:
            return
        session.pause(rng)
        if session.population.stopping:
            return
        actor = roles[rng.choice(moves[(state, to_state)])]
        counterpart = other if actor is me else me
        result = session.act_transition(actor, counterpart, state, to_state, variables)
        if result is None:
            return
        session.expect(f"game-session/{to_state}", result, actor, [me, other], identity, fields)
        state = to_state


def call(session: LoadSession, me: Member, rng: random.Random) -> None:
    """Call someone: answered (then hung up), declined, hung up while ringing or left to ring out;
    now and then a call scheduled for later."""
    other = session.population.partner(me, rng)
    if other is None:
        return
    if session.supports("call.schedule") and rng.random() < 0.15:
        result = session.act("call.schedule", me, other, scheduled_at=future_instant(1))
        if result is not None:
            identity = (canonical(result.vars.get("call_id")),)
            session.parties("call", identity, (me, other))
            session.expect("call/scheduled", result, me, [other], identity,
                           {"friend_id": me.uid, "call_id": result.vars.get("call_id")})
        return
    requested = session.act("call.request", me, other)
    if requested is None:
        return
    call_id = requested.vars.get("call_id")
    identity = (canonical(call_id),)
    session.parties("call", identity, (me, other))
    session.expect("call/requested", requested, me, [other], identity, {"friend_id": me.uid, "call_id": call_id})
    ring = session.ring_timeout

    def rang_out() -> None:  # the ring timer ended the call (the contract's user_not_responding)
        session.expect("call/user_not_responding", requested, me, [me], identity,
                       {"friend_id": other.uid, "call_id": call_id}, extra_delay=ring)

    answers = [(name, weight) for name, weight in (("accept", 5), ("reject", 2), ("terminate", 2))
               if session.supports(f"call.{name}")] + [("ring", 2)]
    answer = _pick(rng, answers)
    if answer == "ring" or session.population.stopping:
        rang_out()
        return
    # answered at once: the ring timeout of a test target is short (0.5 s); a refusal (409) means
    # the timer was first, and then the caller is owed user_not_responding instead
    actor, counterpart = (me, other) if answer == "terminate" else (other, me)
    result = session.act(f"call.{answer}", actor, counterpart, expect_refusal=True, **requested.vars)
    if result is None or result.refused:
        # refused: the ring timer was first; failed (no answer, a dropped connection): the answer
        # most likely never reached the backend, which then ends the call when the ring times out
        rang_out()
        return
    variant = {"accept": "call/accepted", "reject": "call/rejected", "terminate": "call/terminated"}[answer]
    session.expect(variant, result, actor, [counterpart], identity, {"friend_id": actor.uid, "call_id": call_id})
    if answer != "accept" or not session.supports("call.terminate"):
        return
    session.pause(rng, longer=True)
    if session.population.stopping:
        return
    actor, counterpart = (me, other) if rng.random() < 0.5 else (other, me)
    result = session.act("call.terminate", actor, counterpart, **requested.vars)
    if result is not None:
        session.expect("call/terminated", result, actor, [counterpart], identity, {"friend_id": actor.uid, "call_id": call_id})


#: flow name -> (the flow, its weight, the action it needs)
FLOWS: dict[str, tuple[Flow, int, str]] = {
    "friendship": (friendship, 2, "friendship.request"),
    "game": (game, 2, "game.create"),
    "chat": (chat, 4, "chat.post"),
    "call": (call, 2, "call.request"),
}
