"""Delivery across flows: ordering per recipient, late connections, several devices."""
from __future__ import annotations

import pytest

FAMILY = "delivery"
rule = pytest.mark.rule


@rule("DLV-007", "DLV-001", "DLV-004", "DLV-006", "FRND-002")
def test_notifications_to_one_recipient_keep_the_order_of_their_actions(check):
    """A invites B, withdraws, invites again, back to back: B's connections receive new_request, canceled, new_request in that order."""
    a = check.user("A", connections=0, devices=0)
    b = check.user("B", connections=2)
    check.connect()
    first = check.require_ok(check.act("friendship.request", a, b))
    cancel = check.require_ok(check.act("friendship.cancel", a, b, **first.vars))
    second = check.require_ok(check.act("friendship.request", a, b))
    check.expect_order([
        check.expect("friendship/new_request", first, actor=a, recipients={b: {"friend_id": a.id, "open_requests": 1}}),
        check.expect("friendship/canceled", cancel, actor=a, recipients={b: {"friend_id": a.id, "open_requests": 0}}),
        check.expect("friendship/new_request", second, actor=a, recipients={b: {"friend_id": a.id, "open_requests": 1}}),
    ])


@rule("DLV-001", "DLV-004", "CHAT-001")
def test_a_connection_opened_later_receives_later_notifications(check, listener):
    """B opens a second connection between two chats: the second chat reaches both connections."""
    a = check.user("A", connections=0, devices=0)
    b = check.user("B", devices=0)
    check.connect()
    first = check.require_ok(check.act("chat.post", a, b, text="first"))
    check.expect("chat/new_message", first, actor=a, recipients={b: {"message": "first", "thread/id": first.vars["thread_id"]}})
    listener(b)
    second = check.require_ok(check.act("chat.post", a, b, text="second"))
    check.expect("chat/new_message", second, actor=a, recipients={b: {"message": "second", "thread/id": second.vars["thread_id"]}})
