"""Each flow driven through the REST API, with the frames checked on /ws and on /cable."""
from __future__ import annotations

import re
import time

import pytest
from jsonschema import Draft202012Validator

from .support import Api, Listeners

FRAMINGS = [pytest.param(False, id="ws"), pytest.param(True, id="cable")]
SESSION_ID = re.compile(r"ses_[A-Za-z0-9_-]{16}")


def friendship(status: str, friend_id: int, open_requests: int) -> dict[str, object]:
    return {"message": "friendship status changed", "message_type": "api_friendship_status",
            "status": status, "friend_id": friend_id, "open_requests": open_requests}


@pytest.mark.parametrize("cable", FRAMINGS)
def test_friendship_request_reaches_every_connection_of_the_invitee_only(
        api: Api, listen: Listeners, cable: bool,
        notification_validator: Draft202012Validator) -> None:
    a, b, c = api.user("a"), api.user("b"), api.user("c")
    a_ws, b_one, b_two, c_ws = listen(a, cable), listen(b, cable), listen(b, not cable), listen(c)
    api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    for connection in (b_one, b_two):
        payload = connection.next()
        assert payload == friendship("new_request", a.id, 1)
        notification_validator.validate(payload)
    assert a_ws.quiet(0.2) == [] and c_ws.quiet(0) == [] and b_one.quiet(0) == []


@pytest.mark.parametrize("cable", FRAMINGS)
def test_friendship_statuses_go_to_the_counterpart_with_open_requests(
        api: Api, listen: Listeners, cable: bool,
        notification_validator: Draft202012Validator) -> None:
    a, b, c = api.user("a"), api.user("b"), api.user("c")
    a_ws, b_ws = listen(a, cable), listen(b, cable)
    # c asks b too, so b's open_requests counts more than the request at hand
    api.ok(c, "/friendships", {"friend_id": b.id}, 201)
    assert b_ws.next() == friendship("new_request", c.id, 1)
    first = api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    assert b_ws.next() == friendship("new_request", a.id, 2)

    assert api.ok(a, f"/friendships/{first['id']}/cancel")["status"] == "canceled"
    assert b_ws.next() == friendship("canceled", a.id, 1)
    second = api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    assert b_ws.next() == friendship("new_request", a.id, 2)
    assert api.ok(b, f"/friendships/{second['id']}/reject")["status"] == "rejected"
    assert a_ws.next() == friendship("rejected", b.id, 0)
    third = api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    assert b_ws.next() == friendship("new_request", a.id, 2)
    assert api.ok(b, f"/friendships/{third['id']}/accept")["status"] == "accepted"
    accepted = a_ws.next()
    assert accepted == friendship("accepted", b.id, 0)
    assert api.ok(a, f"/friendships/{third['id']}/terminate")["status"] == "terminated"
    terminated = b_ws.next()
    assert terminated == friendship("terminated", a.id, 1)  # c's request is still open
    for payload in (accepted, terminated):
        notification_validator.validate(payload)
    assert a_ws.quiet(0.2) == [] and b_ws.quiet(0) == []  # the actor never gets a copy
    listing = api.get(b, "/friendships").json()["friendships"]
    assert [f["status"] for f in listing] == ["pending", "canceled", "rejected", "terminated"]


@pytest.mark.parametrize("cable", FRAMINGS)
def test_game_session_changes_reach_both_players_with_absolute_ids(
        api: Api, listen: Listeners, cable: bool,
        notification_validator: Draft202012Validator) -> None:
    a, b, c = api.user("a"), api.user("b"), api.user("c")
    a_ws, b_ws, c_ws = listen(a, cable), listen(b, cable), listen(c, cable)
    session = api.ok(a, "/games/sessions", {"game_id": 7, "partner_id": b.id, "game_level": 2,
                                            "scheduled_at": "2026-11-25T15:00:00+01:00"}, 201)
    assert session["scheduled_at"] == "2026-11-25T14:00:00Z"
    expected = {"message_type": "api_game_session_status", "session_id": session["id"],
                "game_id": 7, "user_id": a.id, "partner_id": b.id, "state": "requested",
                "game_level": 2, "scheduled_at": "2026-11-25T14:00:00Z"}
    assert a_ws.next() == expected and b_ws.next() == expected
    notification_validator.validate(expected)
    path = f"/games/sessions/{session['id']}/state"
    for actor, state, level in ((b, "accepted", None), (a, "started", 3), (b, "finished", None),
                                (a, "resumed", None), (b, "canceled", None)):
        body = {"state": state} if level is None else {"state": state, "game_level": level}
        assert api.ok(actor, path, body)["state"] == state
        expected = {**expected, "state": state, "game_level": level or expected["game_level"]}
        assert a_ws.next() == expected and b_ws.next() == expected
    assert c_ws.quiet(0.2) == []


def test_game_session_refuses_transitions_outside_the_graph_silently(
        api: Api, listen: Listeners) -> None:
    a, b = api.user("a"), api.user("b")
    session = api.ok(a, "/games/sessions", {"game_id": 1, "partner_id": b.id}, 201)
    assert session["scheduled_at"] is None and session["game_level"] == 0
    a_ws, b_ws = listen(a), listen(b)
    path = f"/games/sessions/{session['id']}/state"
    assert api.post(a, path, {"state": "accepted"}).status_code == 403  # only the partner
    assert api.post(b, path, {"state": "finished"}).status_code == 409  # requested -> finished
    assert api.post(b, path, {"state": "requested"}).status_code == 409
    assert api.post(api.user("x"), path, {"state": "canceled"}).status_code == 403
    assert a_ws.quiet(0.3) == [] and b_ws.quiet(0) == []


@pytest.mark.parametrize("cable", FRAMINGS)
def test_chat_message_reaches_the_other_participant_only(
        api: Api, listen: Listeners, cable: bool,
        notification_validator: Draft202012Validator) -> None:
    a, b, c = api.user("a"), api.user("b"), api.user("c")
    a_ws, b_ws, c_ws = listen(a, cable), listen(b, cable), listen(c, cable)
    thread = api.ok(a, "/chat/threads", {"participant_id": b.id}, 201)
    assert api.ok(b, "/chat/threads", {"participant_id": a.id}, 200) == thread
    assert sorted(thread["participant_ids"]) == sorted([a.id, b.id])
    posted = api.ok(a, f"/chat/threads/{thread['id']}/messages", {"text": "hi \u00e9 \U0001f600"},
                    201)
    assert posted["sender_id"] == a.id and posted["thread_id"] == thread["id"]
    payload = b_ws.next()
    assert payload == {"message": "hi \u00e9 \U0001f600", "message_type": "api_chat_message",
                       "thread": thread}
    notification_validator.validate(payload)
    assert api.post(c, f"/chat/threads/{thread['id']}/messages", {"text": "x"}).status_code == 403
    assert a_ws.quiet(0.2) == [] and c_ws.quiet(0) == []


def call(status: str, friend_id: int, created: dict[str, object]) -> dict[str, object]:
    return {"message_type": "openvidu_status", "message": "openvidu_session_status_changed",
            "status": status, "friend_id": friend_id, "session_id": created["session_id"],
            "call_id": created["id"]}


@pytest.mark.parametrize("cable", FRAMINGS)
def test_call_requested_accepted_terminated(
        api: Api, listen: Listeners, cable: bool,
        notification_validator: Draft202012Validator) -> None:
    a, b = api.user("a"), api.user("b")
    a_ws, b_ws = listen(a, cable), listen(b, cable)
    created = api.ok(a, "/calls", {"callee_id": b.id}, 201)
    assert created["status"] == "requested" and SESSION_ID.fullmatch(created["session_id"])
    assert b_ws.next() == call("requested", a.id, created)
    assert api.ok(b, f"/calls/{created['id']}/accept")["status"] == "accepted"
    accepted = a_ws.next()
    assert accepted == call("accepted", b.id, created)
    assert api.ok(b, f"/calls/{created['id']}/terminate")["status"] == "terminated"
    assert a_ws.next() == call("terminated", b.id, created)
    notification_validator.validate(accepted)
    assert api.post(a, f"/calls/{created['id']}/terminate").status_code == 409
    assert a_ws.quiet(0.2) == [] and b_ws.quiet(0) == []


def test_call_rejected_and_terminated_while_ringing(api: Api, listen: Listeners) -> None:
    a, b = api.user("a"), api.user("b")
    a_ws, b_ws = listen(a), listen(b)
    first = api.ok(a, "/calls", {"callee_id": b.id}, 201)
    assert b_ws.next() == call("requested", a.id, first)
    assert api.post(a, f"/calls/{first['id']}/reject").status_code == 403  # callee only
    assert api.ok(b, f"/calls/{first['id']}/reject")["status"] == "rejected"
    assert a_ws.next() == call("rejected", b.id, first)
    second = api.ok(a, "/calls", {"callee_id": b.id}, 201)
    assert b_ws.next() == call("requested", a.id, second)
    assert api.ok(a, f"/calls/{second['id']}/terminate")["status"] == "terminated"
    assert b_ws.next() == call("terminated", a.id, second)
    assert a_ws.quiet(0.8) == []  # no user_not_responding once the ringing ended (timeout 0.5)


@pytest.mark.parametrize("cable", FRAMINGS)
def test_call_to_offline_user_is_user_not_available_at_once(
        api: Api, listen: Listeners, cable: bool) -> None:
    a, b = api.user("a"), api.user("b")
    a_ws = listen(a, cable)
    created = api.ok(a, "/calls", {"callee_id": b.id}, 201)
    assert created["status"] == "user_not_available"
    assert a_ws.next(timeout=0.5) == call("user_not_available", b.id, created)


def test_unanswered_call_is_user_not_responding_after_the_ring_timeout(
        api: Api, listen: Listeners) -> None:
    a, b = api.user("a"), api.user("b")
    a_ws, b_ws = listen(a), listen(b)
    created = api.ok(a, "/calls", {"callee_id": b.id}, 201)
    assert b_ws.next() == call("requested", a.id, created)
    assert a_ws.quiet(0.3) == []  # ring timeout of the session backend is 0.5 s
    assert a_ws.next(timeout=1.5) == call("user_not_responding", b.id, created)
    assert api.post(b, f"/calls/{created['id']}/accept").status_code == 409
    assert b_ws.quiet(0.1) == []


@pytest.mark.parametrize("cable", FRAMINGS)
def test_scheduled_call_notifies_the_callee(
        api: Api, listen: Listeners, cable: bool,
        notification_validator: Draft202012Validator) -> None:
    a, b = api.user("a"), api.user("b")
    a_ws, b_ws = listen(a, cable), listen(b, cable)
    created = api.ok(a, "/calls/schedule",
                     {"callee_id": b.id, "scheduled_at": "2026-12-01T09:30:00Z"}, 201)
    assert created["status"] == "scheduled"
    assert created["scheduled_at"] == "2026-12-01T09:30:00Z"
    payload = b_ws.next()
    assert payload == call("scheduled", a.id, created)
    notification_validator.validate(payload)
    assert a_ws.quiet(0.2) == []


def test_presence_counts_connections_of_both_framings(api: Api, listen: Listeners) -> None:
    a, b = api.user("a"), api.user("b")
    assert api.get(a, f"/presence/{b.id}").json() == {"user_id": b.id, "online": False,
                                                      "connections": 0}
    plain, cable = listen(b), listen(b, cable=True)
    assert api.get(a, f"/presence/{b.id}").json()["connections"] == 2
    plain.close()
    cable.close()
    for _ in range(50):
        if api.get(a, f"/presence/{b.id}").json()["connections"] == 0:
            break
        time.sleep(0.02)
    assert api.get(a, f"/presence/{b.id}").json() == {"user_id": b.id, "online": False,
                                                      "connections": 0}
