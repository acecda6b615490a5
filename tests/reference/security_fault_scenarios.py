"""The security faults' behaviour cases (rules SEC-001 to SEC-010): each scenario observes one
thing a clean backend does and the faulty one does not, through REST and raw sockets."""
from __future__ import annotations

import json
import queue
import time
from typing import Any

import websocket

from . import fault_scenarios as s
from .support import CABLE_IDENTIFIER, Listener, User

#: what the scenarios count as a socket that got a notification: one within this many seconds
WITHIN = 0.5


def _upgrade(url: str, **options: Any) -> str:
    try:
        websocket.create_connection(url, timeout=5, **options).close()
    except websocket.WebSocketBadStatusException as exc:
        return f"refused {exc.status_code}"
    return "accepted"


def _receives(listener: Listener) -> bool:
    """A notification within WITHIN seconds (at once when one comes; "no" takes the window)."""
    try:
        listener.payloads.get(timeout=WITHIN)
    except queue.Empty:
        return False
    return True


def _session(world: s.World, user: User, body: dict[str, Any] | None = None) -> User:
    answer = world.api.ok(user, "/sessions", body if body is not None else {}, 201)
    return User(user.id, user.name, answer["token"])


def _sign_out(world: s.World, user: User) -> None:
    api = world.api
    assert api.session.delete(f"{api.base_url}/sessions/current", headers=user.headers, timeout=5).status_code == 204


def tampered_streams(world: s.World) -> s.Observation:
    """A's socket naming B in the URL, and A's socket carrying B's token in a header: does either
    get B's friendship request?"""
    api, url = world.api, world.listen.ws_url
    a, b, c = api.user("a"), api.user("b"), api.user("c")
    named = Listener(f"{url}/ws?token={a.token}&user_id={b.id}", cable=False)
    mixed = Listener(f"{url}/ws?token={a.token}", cable=False, header=[f"Authorization: Bearer {b.token}"])
    try:
        api.ok(c, "/friendships", {"friend_id": b.id}, 201)
        return {"user_param": _receives(named), "mixed": _receives(mixed)}
    finally:
        named.close()
        mixed.close()


def wildcard_token(world: s.World) -> s.Observation:
    world.api.user("first")  # someone for '%' to match
    return {"percent": _upgrade(f"{world.listen.ws_url}/ws?token=%25")}


def expired_token(world: s.World) -> s.Observation:
    user = world.api.user("e")
    expired = _session(world, user, {"expires_in": 0})
    return {"expired": _upgrade(f"{world.listen.ws_url}/ws?token={expired.token}")}


def revoked_token(world: s.World) -> s.Observation:
    user = world.api.user("r")
    second = _session(world, user)
    _sign_out(world, second)
    return {"revoked": _upgrade(f"{world.listen.ws_url}/ws?token={second.token}")}


def socket_of_revoked_token(world: s.World) -> s.Observation:
    """A socket of a second token, signed out: is it closed, and does it still receive?"""
    api = world.api
    user, friend = api.user("r"), api.user("f")
    second = _session(world, user)
    socket = world.listen(second)
    _sign_out(world, second)
    socket._thread.join(timeout=1.0)
    closed = not socket._thread.is_alive()
    api.ok(friend, "/friendships", {"friend_id": user.id}, 201)
    return {"closed": closed, "receives_after": _receives(socket)}


def oversized_frame(world: s.World) -> s.Observation:
    """A 1 MiB frame on /cable, then a subscribe: how long until its confirm (the server read the
    big frame before it)."""
    user = world.api.user("o")
    ws = websocket.create_connection(f"{world.listen.ws_url}/cable?token={user.token}", timeout=10,
                                     subprotocols=["actioncable-v1-json"])
    try:
        assert json.loads(ws.recv())["type"] == "welcome"
        started = time.monotonic()
        ws.send("x" * 2**20)
        ws.send(json.dumps({"command": "subscribe", "identifier": CABLE_IDENTIFIER}))
        while json.loads(ws.recv()).get("type") != "confirm_subscription":
            pass
        return {"stalled": time.monotonic() - started > 2.0}
    finally:
        ws.close()


def many_sockets(world: s.World) -> s.Observation:
    api = world.api
    a, b = api.user("a"), api.user("b")
    sockets = [Listener(f"{world.listen.ws_url}/ws?token={b.token}", cable=False) for _ in range(25)]
    try:
        api.ok(a, "/friendships", {"friend_id": b.id}, 201)
        return {"receiving": sum(_receives(socket) for socket in sockets)}
    finally:
        for socket in sockets:
            socket.close()


def after_reconnect_storm(world: s.World) -> s.Observation:
    """B keeps one socket while 120 more of B's open and close; then A invites B."""
    api = world.api
    a, b = api.user("a"), api.user("b")
    kept = world.listen(b)
    for _ in range(120):
        websocket.create_connection(f"{world.listen.ws_url}/ws?token={b.token}", timeout=5).close()
    api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    return {"kept_receives": _receives(kept)}


def foreign_origin(world: s.World) -> s.Observation:
    user = world.api.user("o")
    return {"foreign": _upgrade(f"{world.listen.ws_url}/ws?token={user.token}", origin="https://evil.b4a.invalid")}


def big_level(world: s.World) -> s.Observation:
    api = world.api
    a, b = api.user("a"), api.user("b")
    answer = api.post(a, "/games/sessions", {"game_id": 7, "partner_id": b.id, "game_level": 2**31})
    return {"status_code": answer.status_code}


#: fault -> (scenario, observation key, value on the clean backend, value with the fault)
SECURITY_FAULT_CASES: dict[str, tuple[s.Scenario, str, Any, Any]] = {
    "subscription-trusts-user-param": (tampered_streams, "*", {"user_param": False, "mixed": False},
                                       {"user_param": True, "mixed": False}),
    "mixed-credentials-both-streams": (tampered_streams, "*", {"user_param": False, "mixed": False},
                                       {"user_param": False, "mixed": True}),
    "token-wildcard": (wildcard_token, "percent", "refused 403", "accepted"),
    "expired-token-accepted": (expired_token, "expired", "refused 403", "accepted"),
    "revoked-token-accepted": (revoked_token, "revoked", "refused 403", "accepted"),
    "revoked-socket-still-receives": (socket_of_revoked_token, "*", {"closed": True, "receives_after": False},
                                      {"closed": False, "receives_after": True}),
    "revoked-socket-kept-open": (socket_of_revoked_token, "*", {"closed": True, "receives_after": False},
                                 {"closed": False, "receives_after": False}),
    "oversized-frame-blocks-loop": (oversized_frame, "stalled", False, True),
    "deaf-beyond-connection-limit": (many_sockets, "receiving", 25, 20),
    "flood-guard-deafens": (after_reconnect_storm, "kept_receives", True, False),
    "any-origin": (foreign_origin, "foreign", "refused 403", "accepted"),
    "level-overflow-crash": (big_level, "status_code", 201, 500),
}
