"""Chat notifications: to the addressee only, over WebSocket and FCM, with the text and the thread."""
from __future__ import annotations

import pytest

FAMILY = "chat"
rule = pytest.mark.rule


def _post(check, a, b, text):
    return check.require_ok(check.act("chat.post", a, b, text=text))


def _expect(check, a, b, posted):
    return check.expect("chat/new_message", posted, actor=a, recipients={b: {"message": posted.vars["text"], "thread/id": posted.vars["thread_id"]}})


@rule("CHAT-001", "DLV-001", "DLV-002", "DLV-004", "DLV-005", "DLV-006", "PUSH-001", "PUSH-002", "PUSH-003", "PAY-001", "PAY-003")
def test_a_chat_message_reaches_the_addressee_on_every_connection_and_device(check):
    """A writes to B: B receives the text and the thread on both connections and one push per device; A gets no echo."""
    a = check.user("A", devices=1)
    b = check.user("B", connections=2, devices=2)
    check.connect()
    _expect(check, a, b, _post(check, a, b, "Ready for a rematch? \u2694\ufe0f"))


@rule("CHAT-001", "DLV-007", "PUSH-003", "DLV-004")
def test_chat_messages_arrive_in_the_order_they_were_written(check):
    """A writes three messages to B back to back: B receives them in order, each with its own text."""
    a = check.user("A", connections=0, devices=0)
    b = check.user("B")
    check.connect()
    posted = [_post(check, a, b, f"message {n}") for n in range(1, 4)]
    check.expect_order([_expect(check, a, b, p) for p in posted])
