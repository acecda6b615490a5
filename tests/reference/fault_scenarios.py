"""Small scenarios that observe one behaviour each, run against a clean and a faulty backend."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import websocket

from harness.emulator.fcm import FcmInbox, SendAttempt

from .support import Api, Listener, Listeners, User

Observation = dict[str, Any]


@dataclass(frozen=True)
class World:
    """One backend under test, seen through REST, its sockets and the FCM emulator."""

    api: Api
    listen: Listeners
    inbox: FcmInbox
    ring_timeout: float = 1.0  # the backend's, for scenarios timing the ring


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


FRIENDSHIP_KEYS = {"message", "message_type", "status", "friend_id", "open_requests"}


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
        "extra_keys": sorted(set(first) - FRIENDSHIP_KEYS),
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


def friendship_cancel_frame(world: World) -> Observation:
    api = world.api
    a, b = api.user("a"), api.user("b")
    b_ws = world.listen(b)
    friendship = api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    assert b_ws.next()["status"] == "new_request"
    api.ok(a, f"/friendships/{friendship['id']}/cancel")
    done = time.monotonic()
    frame = b_ws.next(timeout=5.0)
    return {"status": frame["status"], "within_2_s": time.monotonic() - done < 2.0}


def friendship_request_with_outgoing(world: World) -> Observation:
    """b has a request of its own pending (to c) when a asks b."""
    api = world.api
    a, b, c = api.user("a"), api.user("b"), api.user("c")
    api.ok(b, "/friendships", {"friend_id": c.id}, 201)
    b_ws = world.listen(b)
    api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    return {"open_requests": b_ws.next()["open_requests"]}


def _frames_within(listener: Listener, timeout: float) -> int:
    try:
        listener.next(timeout)
    except AssertionError:
        return 0
    return 1 + len(listener.quiet(0.1))


def two_connections(world: World) -> Observation:
    api = world.api
    a, b = api.user("a"), api.user("b")
    first, second = world.listen(b), world.listen(b)
    api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    return {"frames_per_connection": [_frames_within(first, 1.0),
                                      _frames_within(second, 1.0)]}


def chat_order(world: World) -> Observation:
    """Three chat messages in a row: the texts in the order they arrive."""
    api = world.api
    a, b = api.user("a"), api.user("b")
    b_ws = world.listen(b)
    thread = api.ok(a, "/chat/threads", {"participant_id": b.id}, 201)
    for text in ("one", "two", "three"):
        api.ok(a, f"/chat/threads/{thread['id']}/messages", {"text": text}, 201)
    return {"texts": [b_ws.next()["message"] for _ in range(3)]}


def _plain_socket(url: str) -> str:
    try:
        websocket.create_connection(url, timeout=5).close()
    except websocket.WebSocketBadStatusException as exc:
        return f"refused {exc.status_code}"
    return "accepted"


def socket_credentials(world: World) -> Observation:
    ws_url = world.listen.ws_url
    cable = websocket.create_connection(f"{ws_url}/cable?token=not-a-token", timeout=5,
                                        subprotocols=["actioncable-v1-json"])
    try:
        cable_first = json.loads(cable.recv())["type"]
    finally:
        cable.close()
    return {"no_token": _plain_socket(f"{ws_url}/ws"),
            "bad_token": _plain_socket(f"{ws_url}/ws?token=not-a-token"),
            "cable_bad_token": cable_first}


def anonymous_socket(world: World) -> Observation:
    """A socket without credentials while a notification goes to someone else."""
    api = world.api
    a, b = api.user("a"), api.user("b")
    try:
        anonymous = Listener(f"{world.listen.ws_url}/ws", cable=False)
    except websocket.WebSocketBadStatusException as exc:
        return {"anonymous": f"refused {exc.status_code}"}
    try:
        api.ok(a, "/friendships", {"friend_id": b.id}, 201)
        return {"anonymous": f"accepted, {_frames_within(anonymous, 1.0)} frame(s)"}
    finally:
        anonymous.close()


def game_unscheduled(world: World) -> Observation:
    api = world.api
    a, b = api.user("a"), api.user("b")
    b_ws = world.listen(b)
    api.ok(a, "/games/sessions", {"game_id": 4, "partner_id": b.id}, 201)
    return {"scheduled_at": b_ws.next().get("scheduled_at", "missing")}


def game_partner_moves(world: World) -> Observation:
    """The partner accepts, then cancels: the states each player sees."""
    api = world.api
    a, b = api.user("a"), api.user("b")
    a_ws, b_ws = world.listen(a), world.listen(b)
    session = api.ok(a, "/games/sessions", {"game_id": 4, "partner_id": b.id}, 201)
    path = f"/games/sessions/{session['id']}/state"
    api.ok(b, path, {"state": "accepted"})
    api.ok(b, path, {"state": "canceled"})
    partner = [b_ws.next()["state"] for _ in range(3)]
    creator = [a_ws.next()["state"] for _ in range(2)]
    return {"creator_saw": creator + [p["state"] for p in a_ws.quiet(0.3)],
            "partner_saw": partner}


def _await_connections(api: Api, asker: User, user: User, count: int) -> None:
    deadline = time.monotonic() + 3.0
    while api.get(asker, f"/presence/{user.id}").json()["connections"] != count:
        assert time.monotonic() < deadline, f"presence never reached {count} connection(s)"
        time.sleep(0.02)


def call_after_closing(world: World) -> Observation:
    """Call a user who closed every connection, then one who closed one of two."""
    api = world.api
    a, b, c = api.user("a"), api.user("b"), api.user("c")
    world.listen(b).close()
    _await_connections(api, a, b, 0)
    after_all = api.ok(a, "/calls", {"callee_id": b.id}, 201)["status"]
    first, _ = world.listen(c), world.listen(c)
    first.close()
    _await_connections(api, a, c, 1)
    after_one = api.ok(a, "/calls", {"callee_id": c.id}, 201)["status"]
    return {"after_closing_all": after_all, "after_closing_one": after_one}


def _frames_until(listener: Listener, deadline: float) -> list[str]:
    statuses = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            statuses.append(listener.next(timeout=left)["status"])
        except AssertionError:
            break
    return statuses


def call_answered(world: World) -> Observation:
    """The caller's frames from an answered call, until well past the ring timeout."""
    api = world.api
    a, b = api.user("a"), api.user("b")
    a_ws, b_ws = world.listen(a), world.listen(b)
    call = api.ok(a, "/calls", {"callee_id": b.id}, 201)
    deadline = time.monotonic() + world.ring_timeout + 0.6
    assert b_ws.next()["status"] == "requested"
    api.ok(b, f"/calls/{call['id']}/accept")
    return {"caller_frames": _frames_until(a_ws, deadline)}


def call_ring_timing(world: World) -> Observation:
    api = world.api
    a, b = api.user("a"), api.user("b")
    a_ws, _ = world.listen(a), world.listen(b)
    api.ok(a, "/calls", {"callee_id": b.id}, 201)
    rung = time.monotonic()
    assert a_ws.next(timeout=world.ring_timeout + 1.0)["status"] == "user_not_responding"
    # the timer starts before the response leaves: allow a little under the full timeout
    return {"not_before_ring_timeout":
            time.monotonic() - rung >= 0.9 * world.ring_timeout}


Scenario = Callable[[World], Observation]
