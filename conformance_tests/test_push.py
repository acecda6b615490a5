"""Push robustness: an FCM failure never fails the action nor delays WebSocket delivery; UNREGISTERED tokens are dropped."""
from __future__ import annotations

import time

import pytest

from harness.target import TargetError

FAMILY = "push"
rule = pytest.mark.rule
#: How much longer than the target's WebSocket deadline FCM takes before failing (without a retry:
#: 429 without Retry-After), so that a push made inside the request or before the socket shows.
SLOWER_THAN_THE_DEADLINE_S = 0.5


@pytest.mark.waits("FCM failing slower than the delivery deadline")
@rule("PUSH-004", "DLV-001")
def test_a_slow_failing_fcm_neither_fails_the_action_nor_delays_websocket_delivery(check):
    """FCM is slow and then refuses B's push: A's request still succeeds at once and B's WebSocket copy arrives in time."""
    check.require_pushes()
    a = check.user("A", connections=0, devices=0)
    b = check.user("B")
    check.connect()
    slow = check.ws_deadline + SLOWER_THAN_THE_DEADLINE_S
    check.fail_pushes(b, "QUOTA_EXCEEDED", latency_ms=int(slow * 1000))
    began = time.monotonic()
    try:
        request = check.act("friendship.request", a, b)
    except TargetError as exc:
        check.violation("PUSH-004", f"the action failed while FCM was failing: {exc}")
        check.allow_unexpected("friendship/new_request")  # whether a failed action still notified is not this check's question
        return
    if not request.ok:
        check.violation("PUSH-004", f"the action was refused (HTTP {request.status}) while FCM was failing")
        check.allow_unexpected("friendship/new_request")
        return
    took = request.responded_at - began
    check.judge("PUSH-004")
    if took > check.ws_deadline:
        check.violation("PUSH-004", f"the action took {took:.1f} s while FCM took {slow:.1f} s to fail: the push held up the response")
    event = check.expect("friendship/new_request", request, actor=a, recipients={b: {"friend_id": a.id, "open_requests": 1}}, push=False)
    for label, received in event.ws.items():
        if received.t - began > check.ws_deadline:
            check.violation("PUSH-004", f"{label} got its WebSocket copy {received.t - began:.1f} s after the action began: the push delayed it", source=label)


@pytest.mark.waits("the UNREGISTERED grace period")
@rule("PUSH-005", "DLV-002")
def test_a_token_fcm_reports_unregistered_is_not_used_again(check):
    """B's first device is uninstalled (FCM answers UNREGISTERED): after that answer the backend sends nothing more to it."""
    check.require_pushes()
    a = check.user("A", connections=0, devices=0)
    b = check.user("B", devices=2)
    check.connect()
    check.revoke(b, b.devices[0])
    request = check.require_ok(check.act("friendship.request", a, b))
    # This push teaches the backend: device 1 answers UNREGISTERED, device 2 receives it.
    check.expect("friendship/new_request", request, actor=a, recipients={b: {"friend_id": a.id, "open_requests": 1}})
    check.after_unregistered_grace()
    posted = check.require_ok(check.act("chat.post", a, b, text="are you there?"))
    check.expect("chat/new_message", posted, actor=a, recipients={b: {"message": "are you there?", "thread/id": posted.vars["thread_id"]}})
