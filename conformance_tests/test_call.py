"""Video call notifications: each status to the right side, presence (user_not_available), the ring timer."""
from __future__ import annotations

import pytest

FAMILY = "call"
rule = pytest.mark.rule
#: How long a presence change may take to register, at most, before a check gives up on it.
PRESENCE_TIMEOUT_S = 5.0


def _call_fields(friend, started):
    return {"friend_id": friend.id, "call_id": started.vars["call_id"], "session_id": started.vars["call_session_id"]}


def _pair(check, **b_endpoints):
    """A caller and a callee (and a bystander, connected throughout), all ready."""
    a = check.user("A")
    b = check.user("B", **b_endpoints)
    check.connect()
    return a, b


def _ring(check, a, b):
    started = check.require_ok(check.act("call.request", a, b))
    check.expect("call/requested", started, actor=a, recipients={b: _call_fields(a, started)})
    return started


def _no_user_not_available(check, a, started):
    """The callee is online: the caller must not hear that it is unavailable (CALL-002)."""
    check.forbid("call/user_not_available", users=[a], identity={"call_id": started.vars["call_id"]}, after=started, rule="CALL-002",
                 why="the caller got user_not_available though the callee had an open connection")


@pytest.mark.parametrize("hangs_up", ["caller", "callee"])
@rule("CALL-001", "DLV-001", "DLV-003", "DLV-004", "DLV-005")
def test_an_answered_call_hung_up_by_either_party(check, hangs_up):
    """A calls B (two connections), B answers, one of them hangs up: B gets requested, A gets accepted, the other party gets terminated, all for the same call."""
    a, b = _pair(check, connections=2)
    started = _ring(check, a, b)
    accepted = check.require_ok(check.act("call.accept", b, a, **started.vars))
    check.expect("call/accepted", accepted, actor=b, recipients={a: _call_fields(b, started)})
    actor, other = (a, b) if hangs_up == "caller" else (b, a)
    ended = check.require_ok(check.act("call.terminate", actor, other, **started.vars))
    check.expect("call/terminated", ended, actor=actor, recipients={other: _call_fields(actor, started)})


@rule("CALL-001", "DLV-001", "DLV-004", "DLV-005")
def test_a_declined_call(check):
    """B declines: A receives rejected with friend_id B."""
    a, b = _pair(check)
    started = _ring(check, a, b)
    rejected = check.require_ok(check.act("call.reject", b, a, **started.vars))
    check.expect("call/rejected", rejected, actor=b, recipients={a: _call_fields(b, started)})


@rule("CALL-002", "CALL-001", "DLV-001", "DLV-004")
def test_calling_a_user_who_never_connected_answers_user_not_available(check):
    """B has no open connection: A's call is answered at once with user_not_available (friend_id B)."""
    a, b = _pair(check, connections=0, devices=0)
    check.target.wait_offline(b.user, timeout=PRESENCE_TIMEOUT_S)
    started = check.require_ok(check.act("call.request", a, b))
    check.expect("call/user_not_available", started, actor=a, recipients={a: _call_fields(b, started)})


@rule("CALL-002", "CALL-001", "DLV-001", "DLV-004")
def test_a_user_who_closed_every_connection_is_not_available(check):
    """B was connected on two connections and closed both: A's call is answered at once with user_not_available."""
    a, b = _pair(check, connections=2, devices=0)
    check.disconnect(b)
    check.target.wait_offline(b.user, timeout=PRESENCE_TIMEOUT_S)
    started = check.require_ok(check.act("call.request", a, b))
    check.expect("call/user_not_available", started, actor=a, recipients={a: _call_fields(b, started)})


@rule("CALL-002", "CALL-001", "DLV-001", "DLV-004", "DLV-005")
def test_a_user_with_one_of_two_connections_closed_is_still_online(check):
    """B closes one of its two connections: A's call rings on B's remaining connection; A gets no user_not_available."""
    a, b = _pair(check, connections=2, devices=0)
    check.disconnect(b, count=1)
    started = _ring(check, a, b)
    _no_user_not_available(check, a, started)
    rejected = check.act("call.reject", b, a, **started.vars)  # ends the ringing before the ring timeout
    if rejected.ok:
        check.expect("call/rejected", rejected, actor=b, recipients={a: _call_fields(b, started)})


@pytest.mark.waits("the ring timeout and the delivery deadline after it")
@rule("CALL-003", "CALL-001", "DLV-001", "DLV-004")
def test_a_settled_call_never_times_out_afterwards(check):
    """Three calls from A to B, settled before the ring timeout: one answered, one declined, one answered then hung up. Past the ring timeout (and the delivery deadline after it), neither user gets user_not_responding for any of them, nor anything else."""
    a, b = _pair(check)
    endings = ("answered", "declined", "answered then hung up")
    calls = []
    for ending in endings:
        started = _ring(check, a, b)
        if ending == "declined":
            rejected = check.require_ok(check.act("call.reject", b, a, **started.vars))
            check.expect("call/rejected", rejected, actor=b, recipients={a: _call_fields(b, started)})
        else:
            accepted = check.require_ok(check.act("call.accept", b, a, **started.vars))
            check.expect("call/accepted", accepted, actor=b, recipients={a: _call_fields(b, started)})
            if ending == "answered then hung up":
                ended = check.require_ok(check.act("call.terminate", a, b, **started.vars))
                check.expect("call/terminated", ended, actor=a, recipients={b: _call_fields(a, started)})
        check.forbid("call/user_not_responding", identity={"call_id": started.vars["call_id"]}, after=started, rule="CALL-003",
                     why=f"user_not_responding came for a call that was {ending} before the ring timeout")
        calls.append(started)
    ring = float(check.target.profile.ring_timeout_seconds)
    # One wait covers the three calls: until the last one's ring timeout and the delivery deadline after it.
    check.wait_until(calls[-1].responded_at + ring + check.ws_deadline, "the ring timeout (and the delivery deadline after it) must pass without a notification")


@pytest.mark.waits("the ring timeout")
@rule("CALL-003", "CALL-001", "DLV-001", "DLV-004")
def test_an_unanswered_call_answers_user_not_responding_after_the_ring_timeout(check):
    """B is online but does not answer: A receives user_not_responding, not before the ring timeout and in time after it."""
    a, b = _pair(check)
    started = _ring(check, a, b)
    ring = float(check.target.profile.ring_timeout_seconds)
    event = check.expect("call/user_not_responding", started, actor=None, recipients={a: _call_fields(b, started)},
                         within=ring + check.ws_deadline)
    for label, received in event.ws.items():
        after = received.t - started.started_at
        if after < ring:
            check.violation("CALL-003", f"user_not_responding arrived {after:.2f} s after the call request, before the ring timeout of {ring:g} s",
                            source=label, variant="call/user_not_responding")


@rule("CALL-001", "DLV-001", "DLV-004", "DLV-005")
def test_a_scheduled_call_reaches_the_callee(check):
    """A schedules a call with B a week ahead: B receives scheduled with friend_id A."""
    a, b = _pair(check)
    scheduled = check.require_ok(check.act("call.schedule", a, b, scheduled_at=check.future_instant()))
    check.expect("call/scheduled", scheduled, actor=a, recipients={b: _call_fields(a, scheduled)})
