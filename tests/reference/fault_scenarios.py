"""Small scenarios that observe one behaviour each, run against a clean and a faulty backend."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import websocket

from harness.emulator.fcm import FcmInbox, SendAttempt

from .support import Api, Listeners, User

Observation = dict[str, Any]


@dataclass(frozen=True)
class World:
    """One backend under test, seen through REST, its sockets and the FCM emulator."""

    api: Api
    listen: Listeners
    inbox: FcmInbox


def attempts(world: World, token: str, count: int, timeout: float = 2.0) -> list[SendAttempt]:
    """The send attempts for `token`, once there are `count` of them or at `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        found = world.inbox.attempts(token=token)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def who(value: Any, **people: User) -> str:
    """Name the user an id denotes ("str:" prefix if it came as a string)."""
    for name, user in people.items():
        if value == user.id:
            return name
        if value == str(user.id):
            return f"str:{name}"
    return repr(value)


def pushes_before_marker(world: World, sender: User, recipient: User,
                         token: str) -> list[SendAttempt]:
    """Send a chat marker (a push) and return the other attempts on `token` once it is in.

    Pushes leave from a worker pool, so an earlier push may land just after the marker:
    wait a little past it rather than a blind, long sleep.
    """
    _chat(world.api, sender, recipient, "marker")
    deadline, settled = time.monotonic() + 10.0, None
    while time.monotonic() < deadline:
        found = world.inbox.attempts(token=token)
        if any("thread" in (a.message or {}).get("data", {}) for a in found):
            settled = settled or time.monotonic() + 0.5
            if time.monotonic() > settled:
                break
        time.sleep(0.05)
    else:
        raise AssertionError("the marker push never reached the emulator")
    return [a for a in found if "thread" not in (a.message or {}).get("data", {})]


def friendship_request(world: World) -> Observation:
    api = world.api
    a, b = api.user("a"), api.user("b")
    b_device = world.api.device(b)
    a_ws, b_ws = world.listen(a), world.listen(b)
    response = api.post(a, "/friendships", {"friend_id": b.id})
    first = b_ws.next()
    frames = [first, *b_ws.quiet(0.3)]
    to_actor = len(a_ws.quiet(0))
    sent = pushes_before_marker(world, a, b, b_device)
    return {
        "status_code": response.status_code,
        "friend_id": who(first.get("friend_id"), actor=a, recipient=b),
        "open_requests": first.get("open_requests", "missing"),
        "message": first.get("message"),
        "frames_to_invitee": len(frames),
        "frames_to_actor": to_actor,
        "pushes": len(sent),
        "push_status": sent[0].http_status if sent else None,
        "push_keys": sorted((sent[0].message or {}).get("data", {})) if sent else None,
    }


def push_failure(world: World) -> Observation:
    api = world.api
    a, b = api.user("a"), api.user("b")
    world.inbox.revoke_token(world.api.device(b))
    b_ws = world.listen(b)
    response = api.post(a, "/friendships", {"friend_id": b.id})
    return {"status_code": response.status_code, "delivered": b_ws.next()["status"]}


def _chat(api: Api, sender: User, recipient: User, text: str) -> dict[str, Any]:
    thread = api.post(sender, "/chat/threads", {"participant_id": recipient.id}).json()
    assert api.post(sender, f"/chat/threads/{thread['id']}/messages",
                    {"text": text}).status_code == 201
    return thread


def friendship_cancel(world: World) -> Observation:
    api = world.api
    a, b = api.user("a"), api.user("b")
    b_device = world.api.device(b)
    friendship = api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    assert len(attempts(world, b_device, 1, timeout=10)) == 1
    api.ok(a, f"/friendships/{friendship['id']}/cancel")
    sent = pushes_before_marker(world, a, b, b_device)
    return {"pushes_besides_request_and_marker": len(sent) - 1}


def refused_accept(world: World) -> Observation:
    api = world.api
    a, b = api.user("a"), api.user("b")
    friendship = api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    a_ws = world.listen(a)
    api.ok(b, f"/friendships/{friendship['id']}/accept")
    assert a_ws.next()["status"] == "accepted"
    refused = api.post(b, f"/friendships/{friendship['id']}/accept")
    return {"status_code": refused.status_code, "frames_after_refusal": len(a_ws.quiet(0.3))}


def unauthenticated_sockets(world: World) -> Observation:
    ws_url = world.listen.ws_url
    try:
        websocket.create_connection(f"{ws_url}/ws", timeout=5).close()
        plain = "accepted"
    except websocket.WebSocketBadStatusException as exc:
        plain = f"refused {exc.status_code}"
    cable = websocket.create_connection(f"{ws_url}/cable?token=bad", timeout=5,
                                        subprotocols=["actioncable-v1-json"])
    try:
        first = json.loads(cable.recv())["type"]
    finally:
        cable.close()
    return {"plain": plain, "cable_first_frame": first}


def chat(world: World) -> Observation:
    api = world.api
    a, b, c = api.user("a"), api.user("b"), api.user("c")
    b_ws, c_ws = world.listen(b), world.listen(c)
    thread = _chat(api, a, b, "hello")
    payload = b_ws.next()
    return {"message_type": payload["message_type"],
            "thread_id_offset": payload["thread"]["id"] - thread["id"],
            "frames_to_third_user": len(c_ws.quiet(0.3))}


def game(world: World) -> Observation:
    api = world.api
    a, b = api.user("a"), api.user("b")
    a_ws, b_ws = world.listen(a), world.listen(b)
    api.ok(a, "/games/sessions", {"game_id": 4, "partner_id": b.id,
                                  "scheduled_at": "2026-11-25T14:00:00Z"}, 201)
    partner_copy = b_ws.next()
    return {"frames_to_creator": len(a_ws.quiet(0.3)),
            "scheduled_at": partner_copy["scheduled_at"],
            "partner_copy_user_id": who(partner_copy["user_id"], creator=a, partner=b)}


def game_invalid_transition(world: World) -> Observation:
    api = world.api
    a, b = api.user("a"), api.user("b")
    session = api.ok(a, "/games/sessions", {"game_id": 4, "partner_id": b.id}, 201)
    a_ws = world.listen(a)
    response = api.post(b, f"/games/sessions/{session['id']}/state", {"state": "finished"})
    return {"status_code": response.status_code, "frames": len(a_ws.quiet(0.3))}


def call_online(world: World) -> Observation:
    api = world.api
    a, b = api.user("a"), api.user("b")
    b_ws = world.listen(b)
    api.ok(a, "/calls", {"callee_id": b.id}, 201)
    return {"friend_id": who(b_ws.next()["friend_id"], caller=a, callee=b)}


def call_offline(world: World) -> Observation:
    api = world.api
    a, b = api.user("a"), api.user("b")
    a_ws = world.listen(a)
    created = api.ok(a, "/calls", {"callee_id": b.id}, 201)
    # well inside the ring timeout of every backend here (>= 0.5 s)
    return {"status": created["status"],
            "caller_frames": [p["status"] for p in a_ws.quiet(0.25)]}


def call_unanswered(world: World) -> Observation:
    api = world.api
    a, b = api.user("a"), api.user("b")
    a_ws, b_ws = world.listen(a), world.listen(b)
    api.ok(a, "/calls", {"callee_id": b.id}, 201)
    assert b_ws.next()["status"] == "requested"
    try:  # ring timeouts here are <= 1 s
        return {"caller_frames": [a_ws.next(timeout=1.8)["status"]]}
    except AssertionError:
        return {"caller_frames": []}


def unregistered_token(world: World) -> Observation:
    api = world.api
    a, b = api.user("a"), api.user("b")
    dead, alive = world.api.device(b), world.api.device(b)
    world.inbox.revoke_token(dead)
    api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    assert len(attempts(world, alive, 1, timeout=10)) == 1
    _chat(api, a, b, "second push")
    assert len(attempts(world, alive, 2, timeout=10)) == 2
    time.sleep(0.2)  # both pushes of each event leave together; give the dead one a moment
    return {"attempts_on_unregistered_token": len(world.inbox.attempts(token=dead))}


Scenario = Callable[[World], Observation]
