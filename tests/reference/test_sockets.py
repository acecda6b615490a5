"""WebSocket handshakes: authentication on /ws and the ActionCable protocol on /cable."""
from __future__ import annotations

import json
import time

import pytest
import websocket

from harness.reference import ReferenceBackend

from .support import CABLE_IDENTIFIER, Api, Listeners


@pytest.mark.parametrize("query", ["", "?token=", "?token=not-a-token"])
def test_plain_socket_without_valid_token_is_refused_at_the_upgrade(
        reference: ReferenceBackend, query: str) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(f"{reference.ws_url}/ws{query}", timeout=5)
    assert refused.value.status_code == 403


@pytest.mark.parametrize("query", ["", "?token=not-a-token"])
def test_cable_without_valid_token_gets_disconnect_unauthorized(
        reference: ReferenceBackend, query: str) -> None:
    ws = websocket.create_connection(f"{reference.ws_url}/cable{query}", timeout=5,
                                     subprotocols=["actioncable-v1-json"])
    try:
        assert json.loads(ws.recv()) == {"type": "disconnect", "reason": "unauthorized",
                                         "reconnect": False}
        try:
            rest = ws.recv()  # only the close may follow: no welcome, nothing else
        except websocket.WebSocketConnectionClosedException:
            rest = ""
        assert not rest
    finally:
        ws.close()


def test_cable_negotiates_subprotocol_welcomes_and_rejects_unknown_channels(
        api: Api, reference: ReferenceBackend) -> None:
    user = api.user()
    ws = websocket.create_connection(
        f"{reference.ws_url}/cable?token={user.token}", timeout=5,
        subprotocols=["actioncable-v1-json", "actioncable-unsupported"])
    try:
        assert ws.getsubprotocol() == "actioncable-v1-json"
        assert json.loads(ws.recv()) == {"type": "welcome"}
        unknown = json.dumps({"channel": "ChatChannel"})
        ws.send(json.dumps({"command": "subscribe", "identifier": unknown}))
        assert json.loads(ws.recv()) == {"identifier": unknown, "type": "reject_subscription"}
        ws.send("this is not json")  # ignored, as Rails does
        ws.send(json.dumps({"command": "subscribe", "identifier": CABLE_IDENTIFIER}))
        assert json.loads(ws.recv()) == {"identifier": CABLE_IDENTIFIER,
                                         "type": "confirm_subscription"}
        started = time.monotonic()
        ping = json.loads(ws.recv())
        assert ping["type"] == "ping" and isinstance(ping["message"], int)
        assert 1.0 < time.monotonic() - started < 4.5  # every 3 s
    finally:
        ws.close()


def test_cable_unsubscribed_socket_receives_no_broadcast(api: Api, listen: Listeners,
                                                         reference: ReferenceBackend) -> None:
    a, b = api.user("a"), api.user("b")
    ws = websocket.create_connection(f"{reference.ws_url}/cable?token={b.token}", timeout=5,
                                     subprotocols=["actioncable-v1-json"])
    try:
        assert json.loads(ws.recv())["type"] == "welcome"
        api.ok(a, "/friendships", {"friend_id": b.id}, 201)
        ws.settimeout(0.3)
        with pytest.raises(websocket.WebSocketTimeoutException):
            ws.recv()
    finally:
        ws.close()


@pytest.mark.parametrize("how", ["header", "cookie"])
def test_token_may_come_in_authorization_header_or_cookie(
        api: Api, reference: ReferenceBackend, how: str) -> None:
    user = api.user()
    options = ({"header": [f"Authorization: Bearer {user.token}"]} if how == "header"
               else {"cookie": f"token={user.token}"})
    plain = websocket.create_connection(f"{reference.ws_url}/ws", timeout=5, **options)
    cable = websocket.create_connection(f"{reference.ws_url}/cable", timeout=5,
                                        subprotocols=["actioncable-v1-json"], **options)
    try:
        assert json.loads(cable.recv()) == {"type": "welcome"}
        assert api.get(user, f"/presence/{user.id}").json()["connections"] == 2
    finally:
        plain.close()
        cable.close()
