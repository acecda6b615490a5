"""Friendship notifications: the five statuses, counterpart friend_id, exact open_requests."""
from __future__ import annotations

import pytest

FAMILY = "friendship"
rule = pytest.mark.rule


def _invited(check, **b_endpoints):
    """A invites B (a bystander connected throughout): B receives new_request (open_requests 1)."""
    a = check.user("A")
    b = check.user("B", **b_endpoints)
    check.connect()
    request = check.require_ok(check.act("friendship.request", a, b))
    check.expect("friendship/new_request", request, actor=a, recipients={b: {"friend_id": a.id, "open_requests": 1}})
    return a, b, request


def _befriended(check):
    """A invites B and B accepts: A receives accepted with friend_id B."""
    a, b, request = _invited(check)
    accept = check.require_ok(check.act("friendship.accept", b, a, **request.vars))
    check.expect("friendship/accepted", accept, actor=b, recipients={a: {"friend_id": b.id, "open_requests": 0}})
    return a, b, request


@rule("FRND-001", "FRND-002", "DLV-001", "DLV-002", "DLV-004", "DLV-005", "DLV-006", "PUSH-001", "PUSH-002", "PUSH-003",
      "PAY-001", "PAY-002", "PAY-003", "PAY-004", "PAY-005", "PAY-006")
def test_new_request_reaches_every_connection_and_device_of_the_invitee(check):
    """A invites B: B receives new_request on both connections and one push per device; nobody else receives anything."""
    _invited(check, connections=2, devices=2)


@rule("FRND-001", "FRND-002", "DLV-001", "DLV-003", "DLV-004", "DLV-005", "PAY-002")
def test_canceled_reaches_the_invitee_over_websocket_only(check):
    """A withdraws a pending request: B receives canceled with open_requests back to 0, and no push."""
    a, b, request = _invited(check)
    cancel = check.require_ok(check.act("friendship.cancel", a, b, **request.vars))
    check.expect("friendship/canceled", cancel, actor=a, recipients={b: {"friend_id": a.id, "open_requests": 0}})


@rule("FRND-001", "FRND-002", "DLV-001", "DLV-003", "DLV-004", "DLV-005")
def test_accepted_reaches_the_creator(check):
    """B accepts A's request: A (the creator) receives accepted with friend_id B; B gets no copy."""
    _befriended(check)


@rule("FRND-001", "FRND-002", "DLV-001", "DLV-003", "DLV-004", "DLV-005")
def test_rejected_reaches_the_creator(check):
    """B rejects A's request: A receives rejected with friend_id B."""
    a, b, request = _invited(check)
    reject = check.require_ok(check.act("friendship.reject", b, a, **request.vars))
    check.expect("friendship/rejected", reject, actor=b, recipients={a: {"friend_id": b.id, "open_requests": 0}})


@pytest.mark.parametrize("ender", ["A", "B"])
@rule("FRND-001", "FRND-002", "DLV-001", "DLV-003", "DLV-004", "DLV-005")
def test_terminated_reaches_the_other_friend(check, ender):
    """Either friend ends the friendship: the other receives terminated with friend_id = the one who ended it."""
    a, b, request = _befriended(check)
    actor, other = (a, b) if ender == "A" else (b, a)
    end = check.require_ok(check.act("friendship.terminate", actor, other, **request.vars))
    check.expect("friendship/terminated", end, actor=actor, recipients={other: {"friend_id": actor.id, "open_requests": 0}})


@rule("FRND-002", "FRND-001", "DLV-001", "DLV-004", "DLV-007")
def test_open_requests_is_exact_across_a_sequence(check):
    """Three users invite B and one withdraws, back to back; B accepts one; a fourth invites: every open_requests counts B's pending incoming requests."""
    b = check.user("B")
    senders = [check.user(f"A{n}", connections=0, devices=0) for n in (1, 2, 3)]
    check.connect()
    requests = [check.require_ok(check.act("friendship.request", sender, b)) for sender in senders]
    cancel = check.require_ok(check.act("friendship.cancel", senders[1], b, **requests[1].vars))
    events = [check.expect("friendship/new_request", request, actor=sender, recipients={b: {"friend_id": sender.id, "open_requests": count}})
              for count, (sender, request) in enumerate(zip(senders, requests), start=1)]
    events.append(check.expect("friendship/canceled", cancel, actor=senders[1], recipients={b: {"friend_id": senders[1].id, "open_requests": 2}}))
    check.expect_order(events)
    accept = check.require_ok(check.act("friendship.accept", b, senders[0], **requests[0].vars))
    # A1 has no connection here: the event is recorded so that a copy to B would count as an echo.
    check.expect("friendship/accepted", accept, actor=b, recipients={senders[0]: {"friend_id": b.id, "open_requests": 0}})
    # B accepted A1: B's pending requests are A3's only, so a new request from A4 makes it 2.
    a4 = check.user("A4", connections=0, devices=0)
    again = check.require_ok(check.act("friendship.request", a4, b))
    check.expect("friendship/new_request", again, actor=a4, recipients={b: {"friend_id": a4.id, "open_requests": 2}})


@rule("FRND-002", "FRND-001", "DLV-001", "DLV-004", "DLV-005")
def test_open_requests_never_counts_the_recipients_own_outgoing_requests(check):
    """A and B each have an outgoing pending request of their own, and A one incoming: through request,
    cancel, reject, accept and terminate by either side, every open_requests counts incoming requests only."""
    a = check.user("A")
    b = check.user("B")
    d, e, f = (check.user(label, connections=0, devices=0) for label in ("D", "E", "F"))
    check.connect()

    def request(sender, invitee, incoming):
        result = check.require_ok(check.act("friendship.request", sender, invitee))
        check.expect("friendship/new_request", result, actor=sender, recipients={invitee: {"friend_id": sender.id, "open_requests": incoming}})
        return result

    def change(action, actor, other, status, made, incoming):
        result = check.require_ok(check.act(f"friendship.{action}", actor, other, **made.vars))
        check.expect(f"friendship/{status}", result, actor=actor, recipients={other: {"friend_id": actor.id, "open_requests": incoming}})

    request(b, d, 1)  # B's own outgoing request: never counted for B
    request(a, e, 1)  # A's own outgoing request: never counted for A
    request(f, a, 1)  # A's one incoming request: counted for A throughout
    first = request(a, b, 1)
    change("cancel", a, b, "canceled", first, 0)
    second = request(a, b, 1)
    change("reject", b, a, "rejected", second, 1)
    third = request(a, b, 1)
    change("accept", b, a, "accepted", third, 1)
    change("terminate", b, a, "terminated", third, 1)
    fourth = request(a, b, 1)
    change("accept", b, a, "accepted", fourth, 1)
    change("terminate", a, b, "terminated", fourth, 0)


@rule("DLV-008", "DLV-004", "DLV-006")
def test_a_refused_accept_notifies_nobody(check):
    """B accepts a request twice: if the second accept is refused (4xx), nobody is notified of it;
    if it is accepted, a repeated notification counts as a duplicate."""
    a, b, request = _befriended(check)
    again = check.act("friendship.accept", b, a, **request.vars)
    check.expect_refused(again, variant="friendship/accepted", why="a second time")
