"""Sign-in sessions and the sockets' security: more tokens per user, expiry, signing out (which
ends the sockets opened with the token), the Origin policy, tampered subscriptions, hostile frames."""
from __future__ import annotations

import json
import time

import pytest
import websocket

from harness.reference import ReferenceBackend

from .support import CABLE_IDENTIFIER, Api, Listener, Listeners, User


def _session(api: Api, user: User, body: object = None) -> User:
    answer = api.post(user, "/sessions", body)
    assert answer.status_code == 201, answer.text
    data = answer.json()
    assert data["user_id"] == user.id
    return User(user.id, user.name, data["token"])


def _sign_out(api: Api, user: User) -> int:
    return api.session.delete(f"{api.base_url}/sessions/current", headers=user.headers, timeout=5).status_code


def _upgrade_status(url: str, **options: object) -> int:
    try:
        websocket.create_connection(url, timeout=5, **options).close()
    except websocket.WebSocketBadStatusException as refused:
        return refused.status_code
    return 101


def test_a_second_token_signs_in_the_same_user_and_one_born_expired_is_refused(api: Api) -> None:
    user = api.user("s")
    second = _session(api, user)
    assert api.get(second, "/me").json()["id"] == user.id
    answer = api.post(user, "/sessions", {"expires_in": 0})
    assert answer.status_code == 201 and answer.json()["expires_at"].endswith("Z")
    expired = User(user.id, user.name, answer.json()["token"])
    assert api.get(expired, "/me").status_code == 401
    assert api.post(user, "/sessions", {"expires_in": -1}).status_code == 422
    assert api.post(user, "/sessions", {"lifetime": 5}).status_code == 422


def test_signing_out_revokes_only_that_token(api: Api, reference: ReferenceBackend) -> None:
    user = api.user("s")
    second = _session(api, user)
    assert _sign_out(api, second) == 204
    assert api.get(second, "/me").status_code == 401
    assert _sign_out(api, second) == 401
    assert api.get(user, "/me").status_code == 200
    assert _upgrade_status(f"{reference.ws_url}/ws?token={second.token}") == 403
    assert _upgrade_status(f"{reference.ws_url}/ws?token={user.token}") == 101


@pytest.mark.parametrize("cable", [False, True], ids=["plain", "cable"])
def test_signing_out_ends_the_open_sockets_of_that_token(api: Api, listen: Listeners, cable: bool) -> None:
    user, friend = api.user("s"), api.user("f")
    second = _session(api, user)
    kept, ended = listen(user, cable), listen(second, cable)
    assert _sign_out(api, second) == 204
    if cable:  # Rails' way: a disconnect frame, then the close
        assert ended.wait_control(lambda f: f.get("type") == "disconnect")["reason"] == "unauthorized"
    ended._thread.join(timeout=2)
    assert not ended._thread.is_alive(), "the revoked socket is still open"
    api.ok(friend, "/friendships", {"friend_id": user.id}, 201)
    assert kept.next()["status"] == "new_request"
    assert ended.payloads.empty()


def test_browser_origins_other_than_the_allowed_ones_are_refused(api: Api, reference: ReferenceBackend) -> None:
    user = api.user("o")
    url = f"{reference.ws_url}/ws?token={user.token}"
    assert _upgrade_status(url, origin="https://evil.b4a.invalid") == 403
    assert _upgrade_status(url.replace("/ws", "/cable"), origin="https://evil.b4a.invalid",
                           subprotocols=["actioncable-v1-json"]) == 403
    assert _upgrade_status(url, origin="https://app.buddy4all.example") == 101
    assert _upgrade_status(url, origin=reference.base_url) == 101  # its own origin
    assert _upgrade_status(url, suppress_origin=True) == 101  # a native app sends none


def _broadcasts(ws: websocket.WebSocket, quiet: float) -> list[dict[str, object]]:
    """The ActionCable broadcasts that arrive until the socket is quiet for `quiet` seconds."""
    found = []
    ws.settimeout(quiet)
    try:
        while True:
            frame = json.loads(ws.recv())
            if "message" in frame:
                found.append(frame)
    except websocket.WebSocketTimeoutException:
        return found


def test_a_user_id_in_the_url_or_the_identifier_chooses_no_other_stream(api: Api, reference: ReferenceBackend) -> None:
    a, b, c, d = api.user("a"), api.user("b"), api.user("c"), api.user("d")
    plain = Listener(f"{reference.ws_url}/ws?token={a.token}&user_id={b.id}", cable=False)
    cable = websocket.create_connection(f"{reference.ws_url}/cable?token={a.token}", timeout=5,
                                        subprotocols=["actioncable-v1-json"])
    try:
        assert json.loads(cable.recv())["type"] == "welcome"
        tampered = json.dumps({"channel": "NotificationsChannel", "user_id": b.id})
        for identifier in (CABLE_IDENTIFIER, tampered):
            cable.send(json.dumps({"command": "subscribe", "identifier": identifier}))
            assert json.loads(cable.recv()) == {"identifier": identifier, "type": "confirm_subscription"}
        api.ok(d, "/friendships", {"friend_id": b.id}, 201)  # for B only
        api.ok(c, "/friendships", {"friend_id": a.id}, 201)  # for A
        assert plain.next()["friend_id"] == c.id and plain.quiet(0.2) == []
        # A's copy once per identifier it subscribed with (its own stream both times), nothing of B's
        frames = _broadcasts(cable, 0.3)
        assert sorted(f["identifier"] for f in frames) == sorted([CABLE_IDENTIFIER, tampered])
        assert {f["message"]["friend_id"] for f in frames} == {c.id}
    finally:
        plain.close()
        cable.close()


def test_hostile_client_frames_disturb_no_other_socket(api: Api, listen: Listeners, reference: ReferenceBackend) -> None:
    a, b = api.user("a"), api.user("b")
    watcher = listen(b)
    rude = websocket.create_connection(f"{reference.ws_url}/cable?token={a.token}", timeout=5,
                                       subprotocols=["actioncable-v1-json"])
    try:
        for frame in ("not json", json.dumps({"command": "explode", "identifier": CABLE_IDENTIFIER}), "x" * 2**20):
            rude.send(frame)
        rude.send_binary(b"\x00\xff" * 100)
        started = time.monotonic()
        api.ok(a, "/friendships", {"friend_id": b.id}, 201)
        watcher.next()
        assert time.monotonic() - started < 1.0
    finally:
        rude.close()


def test_fifty_sockets_of_one_user_each_receive(api: Api, reference: ReferenceBackend) -> None:
    a, b = api.user("a"), api.user("b")
    sockets = [Listener(f"{reference.ws_url}/ws?token={b.token}", cable=False) for _ in range(50)]
    try:
        api.ok(a, "/friendships", {"friend_id": b.id}, 201)
        assert all(s.next()["friend_id"] == a.id for s in sockets)
    finally:
        for listener in sockets:
            listener.close()
