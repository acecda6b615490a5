"""Pushes captured at the FCM emulator, sent by the backend through unmodified firebase-admin."""
from __future__ import annotations

import json
import time

from harness.emulator.fcm import FcmInbox

from .support import Api, Listeners


def test_new_request_is_pushed_once_to_every_device_of_the_invitee(
        api: Api, listen: Listeners, inbox: FcmInbox) -> None:
    a, b = api.user("a"), api.user("b")
    a_device, b_one, b_two = api.device(a), api.device(b), api.device(b)
    assert api.post(b, "/devices", {"token": b_one}).status_code == 201  # idempotent
    b_ws = listen(b)
    api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    ws_payload = b_ws.next()
    for token in (b_one, b_two):
        [push] = inbox.wait(1, token=token, timeout=5)
        assert push.message["token"] == token
        assert push.message["data"] == {
            "message": "friendship status changed", "type": "api_friendship_status",
            "status": "new_request", "friend_id": str(a.id), "open_requests": "1"}
        decoded = dict(push.message["data"], message_type=push.message["data"]["type"],
                       friend_id=a.id, open_requests=1)
        del decoded["type"]
        assert decoded == ws_payload
    time.sleep(0.3)
    for token in (b_one, b_two):
        assert len(inbox.attempts(token=token)) == 1
    assert inbox.attempts(token=a_device) == []


def test_websocket_only_events_cause_no_fcm_request(
        api: Api, listen: Listeners, inbox: FcmInbox) -> None:
    a, b = api.user("a"), api.user("b")
    a_device, b_device = api.device(a), api.device(b)
    a_ws, b_ws = listen(a), listen(b)
    first = api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    assert len(inbox.wait(1, token=b_device)) == 1
    after = inbox.cursor()
    api.ok(a, f"/friendships/{first['id']}/cancel")
    second = api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    api.ok(b, f"/friendships/{second['id']}/accept")
    api.ok(a, f"/friendships/{second['id']}/terminate")
    session = api.ok(a, "/games/sessions", {"game_id": 3, "partner_id": b.id}, 201)
    api.ok(b, f"/games/sessions/{session['id']}/state", {"state": "accepted"})
    call = api.ok(a, "/calls", {"callee_id": b.id}, 201)
    api.ok(b, f"/calls/{call['id']}/reject")
    api.ok(a, "/calls/schedule", {"callee_id": b.id, "scheduled_at": "2027-01-01T10:00:00Z"}, 201)
    # marker: a push-carrying event to the same devices; once it is in, the rest would be too
    thread = api.ok(a, "/chat/threads", {"participant_id": b.id}, 201)
    api.ok(a, f"/chat/threads/{thread['id']}/messages", {"text": "marker"}, 201)
    api.ok(b, f"/chat/threads/{thread['id']}/messages", {"text": "marker"}, 201)
    # pushes leave from a pool of workers: their order at FCM is not promised
    pushed = inbox.wait(2, token=b_device, after=after)
    assert sorted(m.message["data"].get("status", m.message["data"]["message"]) for m in pushed) \
        == ["marker", "new_request"]
    assert [m.message["data"]["message"] for m in inbox.wait(1, token=a_device, after=after)] \
        == ["marker"]
    assert len(inbox.attempts(after=after, token=b_device)) == 2
    assert len(inbox.attempts(after=after, token=a_device)) == 1
    assert b_ws.quiet(0) and a_ws.quiet(0)  # the WebSocket side did get those events


def test_chat_push_data_is_flat_strings_and_decodes_to_the_websocket_payload(
        api: Api, listen: Listeners, inbox: FcmInbox) -> None:
    a, b = api.user("a"), api.user("b")
    b_device = api.device(b)
    b_ws = listen(b)
    thread = api.ok(a, "/chat/threads", {"participant_id": b.id}, 201)
    api.ok(a, f"/chat/threads/{thread['id']}/messages", {"text": "see you at 5"}, 201)
    ws_payload = b_ws.next()
    [push] = inbox.wait(1, token=b_device)
    data = push.message["data"]
    assert data == {"message": "see you at 5", "type": "api_chat_message",
                    "thread": json.dumps(thread, separators=(",", ":"))}
    assert {"message": data["message"], "message_type": data["type"],
            "thread": json.loads(data["thread"])} == ws_payload
    assert push.message["notification"]["title"]


def test_unregistered_token_is_dropped_and_never_used_again(
        api: Api, listen: Listeners, inbox: FcmInbox) -> None:
    a, b = api.user("a"), api.user("b")
    dead, alive = api.device(b), api.device(b)
    inbox.revoke_token(dead)
    b_ws = listen(b)
    api.ok(a, "/friendships", {"friend_id": b.id}, 201)  # the failed push does not fail this
    assert b_ws.next()["status"] == "new_request"
    assert len(inbox.wait(1, token=alive)) == 1
    deadline = time.monotonic() + 5  # the two devices' pushes leave from different workers
    while not inbox.attempts(token=dead) and time.monotonic() < deadline:
        time.sleep(0.02)
    [attempt] = inbox.attempts(token=dead)
    assert (attempt.http_status, attempt.error_code) == (404, "UNREGISTERED")
    # The backend drops the token on its push worker once FCM's answer is in; no endpoint shows
    # that moment, so give the worker a beat before the next push.
    time.sleep(0.5)
    thread = api.ok(a, "/chat/threads", {"participant_id": b.id}, 201)
    api.ok(a, f"/chat/threads/{thread['id']}/messages", {"text": "again"}, 201)
    assert len(inbox.wait(2, token=alive)) == 2
    assert len(inbox.attempts(token=dead)) == 1
    # the token was deleted from the user's devices
    response = api.session.delete(f"{api.base_url}/devices/{dead}", headers=b.headers)
    assert response.status_code == 404


def test_failing_fcm_neither_fails_the_action_nor_delays_websocket_delivery(
        api: Api, listen: Listeners, inbox: FcmInbox) -> None:
    a, b = api.user("a"), api.user("b")
    b_device = api.device(b)
    # 503 with Retry-After 1: firebase-admin retries for seconds before giving up
    inbox.inject_fault("UNAVAILABLE", count=5, retry_after=1, token=b_device)
    b_ws = listen(b)
    started = time.monotonic()
    response = api.post(a, "/friendships", {"friend_id": b.id})
    assert response.status_code == 201
    assert b_ws.next(timeout=1.0)["status"] == "new_request"
    assert time.monotonic() - started < 1.0
    time.sleep(0.5)
    assert inbox.attempts(token=b_device)[0].http_status == 503


def test_removed_device_gets_no_push(api: Api, inbox: FcmInbox) -> None:
    a, b = api.user("a"), api.user("b")
    kept, removed = api.device(b), api.device(b)
    response = api.session.delete(f"{api.base_url}/devices/{removed}", headers=b.headers)
    assert response.status_code == 204
    api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    assert len(inbox.wait(1, token=kept)) == 1
    time.sleep(0.2)
    assert inbox.attempts(token=removed) == []
