"""Video call notifications: each status to the right side, user_not_available, user_not_responding."""
from __future__ import annotations

import pytest

FAMILY = "call"
rule = pytest.mark.rule


def _call_fields(friend, started):
    return {"friend_id": friend.id, "call_id": started.vars["call_id"], "session_id": started.vars["call_session_id"]}


def _pair(check, *, third=True, **b_endpoints):
    """A caller and a callee (and a third user, connected throughout), all ready."""
    a = check.user("A")
    b = check.user("B", **b_endpoints)
    if third:
        check.third()
    check.connect()
    return a, b


def _ring(check, a, b):
    started = check.require_ok(check.act("call.request", a, b))
    check.expect("call/requested", started, actor=a, recipients={b: _call_fields(a, started)})
    return started


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
def test_calling_an_offline_user_answers_user_not_available(check):
    """B has no open connection: A's call is answered at once with user_not_available (friend_id B)."""
    a, b = _pair(check, connections=0, devices=0)
    check.target.wait_offline(b.user, timeout=5.0)
    started = check.require_ok(check.act("call.request", a, b))
    check.expect("call/user_not_available", started, actor=a, recipients={a: _call_fields(b, started)})


@rule("CALL-003", "CALL-001", "DLV-001")
def test_an_unanswered_call_answers_user_not_responding(check):
    """B is online but does not answer: after the ring timeout A receives user_not_responding."""
    a, b = _pair(check, third=False)
    started = _ring(check, a, b)
    ring = float(check.target.profile.ring_timeout_seconds)
    check.expect("call/user_not_responding", started, actor=None, recipients={a: _call_fields(b, started)}, within=ring + check.ws_deadline)


@rule("CALL-001", "DLV-001", "DLV-004", "DLV-005")
def test_a_scheduled_call_reaches_the_callee(check):
    """A schedules a call with B: B receives scheduled with friend_id A."""
    a, b = _pair(check)
    scheduled = check.require_ok(check.act("call.schedule", a, b, scheduled_at="2026-12-24T18:30:00Z"))
    check.expect("call/scheduled", scheduled, actor=a, recipients={b: _call_fields(a, scheduled)})
