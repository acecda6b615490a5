"""Convention styles: the reference backend speaking the Node and Rails bundles' conventions over
HTTP and WebSocket (and faults still working under them); style names parsed and listed."""
from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import websocket

from harness.emulator.fcm import FcmEmulator, FcmInbox
from harness.reference import ReferenceBackend
from harness.reference.styles import BUNDLE_PROFILES, BUNDLES, STYLES, Conventions, parse_styles

from .support import Listener

MS_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


class Client:
    """Plain requests against one styled backend: `auth` says where a user's token goes."""

    def __init__(self, backend: ReferenceBackend, auth: str) -> None:
        self.api = backend.api_url
        self.auth = auth
        self.session = requests.Session()

    def headers(self, token: str | None) -> dict[str, str]:
        if token is None:
            return {}
        return {"X-Auth-Token": token} if self.auth == "x-auth-token" else {
            "Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, token: str | None = None,
             body: Any = None) -> requests.Response:
        return self.session.request(method, self.api + path, json=body, timeout=10,
                                    headers=self.headers(token))

    def ok(self, method: str, path: str, token: str | None = None, body: Any = None,
           status: int = 200) -> Any:
        response = self.call(method, path, token, body)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()


# --- parsing and listing ---------------------------------------------------------------------

def test_bundles_expand_and_single_styles_combine() -> None:
    node = parse_styles(["node"])
    assert node == Conventions(prefix="/v2", verbs=True, token_header=True, string_ids=True,
                               ms_dates=True, catalogue=True, upgrade_401=True, names=("node",))
    rails = parse_styles(["rails"])
    assert (rails.prefix, rails.envelope, rails.patch_state, rails.catalogue) == (
        "/api/v1", True, True, True)
    assert not (rails.string_ids or rails.ms_dates or rails.token_header or rails.verbs)
    combined = parse_styles(["verbs,envelope", "prefix=/api/v3/", "default"])
    assert (combined.verbs, combined.envelope, combined.prefix) == (True, True, "/api/v3")
    assert parse_styles([]).is_default and parse_styles(["default"]).is_default
    assert set(BUNDLE_PROFILES) == set(BUNDLES) and set(BUNDLES) <= set(STYLES)


@pytest.mark.parametrize(("names", "message"), [
    (["json-api"], "unknown style: json-api (see `b4a serve --list-styles`)"),
    (["prefix=v1"], "bad style 'prefix=v1': the prefix must be a path such as /api/v1"),
    (["prefix=/a b"], "bad style 'prefix=/a b'"),
    (["rails", "prefix=/v9"], "style 'prefix=/v9' conflicts with prefix=/api/v1"),
])
def test_bad_style_names_are_refused_by_name(names: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_styles(names)


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", "serve", *args],
                          capture_output=True, text=True, timeout=60)


def test_list_styles_help_and_an_unknown_style_on_the_command_line() -> None:
    listed = serve("--list-styles")
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == list(STYLES)
    helped = serve("--help")
    assert "--style NAME" in helped.stdout and "--list-styles" in helped.stdout
    refused = serve("--style", "node,graphql")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "b4a serve: unknown style: graphql (see `b4a serve --list-styles`)")


# --- node: /v2, X-Auth-Token, string ids, ms dates, verbs, catalogue, 401 upgrades -----------

@pytest.fixture(scope="module")
def node(fcm: FcmEmulator) -> Iterator[ReferenceBackend]:
    with ReferenceBackend(styles=("node",), ring_timeout=0.5,
                          fcm_emulator_url=fcm.base_url) as backend:
        yield backend


@pytest.fixture
def node_client(node: ReferenceBackend) -> Client:
    return Client(node, "x-auth-token")


def node_user(client: Client, name: str = "n") -> dict[str, str]:
    user = client.ok("POST", "/users", body={"name": name}, status=201)
    assert isinstance(user["id"], str) and user["id"].isdigit(), user
    return user


def node_socket(node: ReferenceBackend, user: dict[str, str]) -> Listener:
    return Listener(f"{node.ws_url}/ws?access_token={user['token']}", cable=False)


def test_node_serves_its_api_under_the_prefix_and_announces_it(node: ReferenceBackend) -> None:
    assert node.api_url == node.base_url + "/v2"
    assert f"REST API at {node.api_url}" in "".join(node.output)
    assert requests.get(f"{node.base_url}/health", timeout=5).status_code == 200
    assert requests.post(f"{node.base_url}/users", json={"name": "x"}, timeout=5).status_code == 404
    # the committed OpenAPI document describes the default style only
    assert requests.get(f"{node.base_url}/openapi.json", timeout=5).status_code == 404


def test_node_authenticates_with_x_auth_token_only(node_client: Client) -> None:
    user = node_user(node_client)
    bearer = node_client.session.get(f"{node_client.api}/me", timeout=5,
                                     headers={"Authorization": f"Bearer {user['token']}"})
    assert bearer.status_code == 401 and bearer.headers["WWW-Authenticate"] == "Token"
    assert bearer.json() == {"error": "missing token (X-Auth-Token: <token>)"}
    assert node_client.ok("GET", "/me", user["token"]) == {"id": user["id"], "name": "n"}
    assert node_client.call("GET", "/me", "nope").status_code == 401


def test_node_ids_are_strings_in_rest_and_integers_in_payloads(
        node: ReferenceBackend, node_client: Client) -> None:
    a, b, c = node_user(node_client, "a"), node_user(node_client, "b"), node_user(node_client, "c")
    b_ws = node_socket(node, b)
    try:
        as_string = node_client.ok("POST", "/friendships", a["token"], {"friend_id": b["id"]}, 201)
        assert as_string == {"id": as_string["id"], "creator_id": a["id"], "invitee_id": b["id"],
                             "status": "pending"} and isinstance(as_string["id"], str)
        assert b_ws.next()["friend_id"] == int(a["id"])  # the contract's integer
        as_int = node_client.ok("POST", "/friendships", a["token"], {"friend_id": int(c["id"])},
                                201)
        assert as_int["invitee_id"] == c["id"]
        bad = node_client.call("POST", "/friendships", a["token"], {"friend_id": "b"})
        assert bad.status_code == 422
        assert bad.json()["fields"] == {"friend_id": "must be an id: an integer or a string of digits"}
        listing = node_client.ok("GET", "/friendships", b["token"])
        assert listing == {"friendships": [as_string]}
        presence = node_client.ok("GET", f"/presence/{b['id']}", a["token"])
        assert presence == {"user_id": b["id"], "online": True, "connections": 1}
        call = node_client.ok("POST", "/calls", a["token"], {"callee_id": b["id"]}, 201)
        assert isinstance(call["id"], str) and call["session_id"].startswith("ses_")
        assert (call["caller_id"], call["callee_id"]) == (a["id"], b["id"])
        rung = b_ws.next()
        assert (rung["status"], rung["call_id"], rung["friend_id"]) == (
            "requested", int(call["id"]), int(a["id"]))
    finally:
        b_ws.close()


def test_node_catalogue_ms_dates_and_one_endpoint_per_transition(
        node: ReferenceBackend, node_client: Client) -> None:
    games = node_client.ok("GET", "/games")
    assert [game["id"] for game in games["games"]] == ["101", "102", "103"]
    assert all(game["name"] for game in games["games"])
    a, b = node_user(node_client, "a"), node_user(node_client, "b")
    body = {"game_id": 4, "partner_id": b["id"], "scheduled_at": "2026-11-25T15:00:00+01:00"}
    refused = node_client.call("POST", "/game_sessions", a["token"], body)
    assert refused.status_code == 422
    assert refused.json()["fields"] == {"game_id": "is no game of the catalogue (GET /v2/games)"}
    a_ws, b_ws = node_socket(node, a), node_socket(node, b)
    try:
        session = node_client.ok("POST", "/game_sessions", a["token"], {**body, "game_id": "101"},
                                 201)
        assert session["scheduled_at"] == "2026-11-25T14:00:00.000Z"
        assert (session["game_id"], session["user_id"]) == ("101", a["id"])
        payload = a_ws.next()
        assert b_ws.next() == payload
        assert payload["scheduled_at"] == "2026-11-25T14:00:00.000Z"
        assert MS_DATE.fullmatch(payload["scheduled_at"])
        assert (payload["session_id"], payload["game_id"]) == (int(session["id"]), 101)
        path = f"/game_sessions/{session['id']}"
        assert node_client.call("POST", f"{path}/finish", b["token"]).status_code == 409
        assert node_client.call("POST", f"{path}/state", b["token"],
                                {"state": "accepted"}).status_code == 404
        assert node_client.call("POST", f"/games/sessions/{session['id']}/state", b["token"],
                                {"state": "accepted"}).status_code == 404
        for token, verb, state, body_ in ((b, "accept", "accepted", None),
                                          (a, "start", "started", {"game_level": 3}),
                                          (b, "finish", "finished", None),
                                          (a, "resume", "resumed", None),
                                          (b, "cancel", "canceled", None)):
            moved = node_client.ok("POST", f"{path}/{verb}", token["token"], body_)
            assert moved["state"] == state
            assert a_ws.next()["state"] == state and b_ws.next()["state"] == state
        assert moved["game_level"] == 3
        assert node_client.call("POST", f"{path}/dance", a["token"]).status_code == 404
    finally:
        a_ws.close()
        b_ws.close()


@pytest.mark.parametrize("query", ["", "?access_token=not-a-token", "?token={token}"])
def test_node_refuses_a_websocket_upgrade_without_valid_credentials_with_401(
        node: ReferenceBackend, node_client: Client, query: str) -> None:
    user = node_user(node_client)
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(f"{node.ws_url}/ws{query.format(token=user['token'])}",
                                    timeout=5)
    assert refused.value.status_code == 401
    assert refused.value.resp_body and json.loads(refused.value.resp_body) == {
        "error": "missing or unknown token"}
    time.sleep(0.2)  # uvicorn would log its spurious handshake error right after the denial
    assert "ERROR" not in "".join(node.output), "".join(node.output)


def test_node_cable_still_says_disconnect_unauthorized(node: ReferenceBackend) -> None:
    ws = websocket.create_connection(f"{node.ws_url}/cable?access_token=nope", timeout=5,
                                     subprotocols=["actioncable-v1-json"])
    try:
        assert json.loads(ws.recv())["reason"] == "unauthorized"
    finally:
        ws.close()


# --- rails: /api/v1, {"data": ...}, wrapped bodies, PATCH state, catalogue, ActionCable ------

@pytest.fixture(scope="module")
def rails(fcm: FcmEmulator) -> Iterator[ReferenceBackend]:
    with ReferenceBackend(styles=("rails",), ring_timeout=0.5,
                          fcm_emulator_url=fcm.base_url) as backend:
        yield backend


@pytest.fixture
def rails_client(rails: ReferenceBackend) -> Client:
    return Client(rails, "bearer")


def rails_user(client: Client, name: str = "r") -> dict[str, Any]:
    user = client.ok("POST", "/users", body={"user": {"name": name}}, status=201)["data"]
    assert isinstance(user["id"], int), user
    return user


def rails_cable(rails: ReferenceBackend, user: dict[str, Any]) -> Listener:
    listener = Listener(f"{rails.ws_url}/cable?token={user['token']}", cable=True)
    assert listener.ws.getsubprotocol() == "actioncable-v1-json"
    return listener


@pytest.mark.parametrize(("body", "fields"), [
    ({"name": "x"}, {"name": "unknown field",
                     "user": 'is required (the body is {"user": {...}})'}),
    ({"user": "x"}, {"user": "must be a JSON object"}),
    ({"user": {"nme": "x"}}, {"user.nme": "unknown field", "user.name": "is required"}),
])
def test_rails_bodies_must_be_wrapped_and_errors_name_the_nested_key(
        rails_client: Client, body: Any, fields: dict[str, str]) -> None:
    response = rails_client.call("POST", "/users", body=body)
    assert response.status_code == 422 and response.json()["fields"] == fields


def test_rails_envelopes_every_response_and_nests_the_call_session(
        rails: ReferenceBackend, rails_client: Client, inbox: FcmInbox) -> None:
    assert rails.api_url == rails.base_url + "/api/v1"
    games = rails_client.ok("GET", "/games")
    assert [game["id"] for game in games["data"]] == [101, 102, 103]
    a, b = rails_user(rails_client, "a"), rails_user(rails_client, "b")
    device = f"dev-rails-{secrets.token_hex(6)}"  # the emulator is shared by every backend
    registered = rails_client.ok("POST", "/devices", b["token"],
                                 {"device": {"fcm_token": device}}, 201)
    assert registered == {"data": {"fcm_token": device}}
    assert rails_client.ok("GET", "/me", a["token"]) == {"data": {"id": a["id"], "name": "a"}}
    b_cable = rails_cable(rails, b)
    try:
        request = rails_client.ok("POST", "/friendships", a["token"],
                                  {"friendship": {"friend_id": b["id"]}}, 201)["data"]
        assert b_cable.next()["status"] == "new_request"
        [push] = inbox.wait(1, token=device, timeout=5)  # the wrapped fcm_token was registered
        assert push.message["data"]["status"] == "new_request"
        listing = rails_client.ok("GET", "/friendships", b["token"])
        assert listing == {"data": [request]}
        thread = rails_client.ok("POST", "/chat/threads", a["token"],
                                 {"chat_thread": {"participant_id": b["id"]}}, 201)["data"]
        posted = rails_client.ok("POST", f"/chat/threads/{thread['id']}/messages", a["token"],
                                 {"message": {"text": "hi"}}, 201)["data"]
        assert posted == {"id": posted["id"], "thread": {"id": thread["id"]},
                          "sender_id": a["id"], "text": "hi"}
        assert b_cable.next() == {"message": "hi", "message_type": "api_chat_message",
                                  "thread": thread}
        call = rails_client.ok("POST", "/calls", a["token"], {"call": {"callee_id": b["id"]}},
                               201)["data"]
        assert re.fullmatch(r"ses_\S+", call["session"]["id"]) and "session_id" not in call
        rung = b_cable.next()
        assert (rung["session_id"], rung["call_id"]) == (call["session"]["id"], call["id"])
        scheduled = rails_client.ok(
            "POST", "/calls/schedule", a["token"],
            {"call": {"callee_id": b["id"], "scheduled_at": "2026-12-01T09:30:00Z"}}, 201)["data"]
        assert scheduled["scheduled_at"] == "2026-12-01T09:30:00Z"  # seconds, no milliseconds
    finally:
        b_cable.close()


def test_rails_changes_state_with_patch_and_cancels_with_delete(
        rails: ReferenceBackend, rails_client: Client) -> None:
    a, b = rails_user(rails_client, "a"), rails_user(rails_client, "b")
    a_cable, b_cable = rails_cable(rails, a), rails_cable(rails, b)
    try:
        first = rails_client.ok("POST", "/friendships", a["token"],
                                {"friendship": {"friend_id": b["id"]}}, 201)["data"]
        assert b_cable.next()["status"] == "new_request"
        assert rails_client.call("POST", f"/friendships/{first['id']}/accept",
                                 b["token"]).status_code == 404
        bad = rails_client.call("PATCH", f"/friendships/{first['id']}", b["token"],
                                {"friendship": {"status": "friends"}})
        assert bad.status_code == 422 and list(bad.json()["fields"]) == ["friendship.status"]
        canceled = rails_client.ok("DELETE", f"/friendships/{first['id']}", a["token"])
        assert canceled["data"]["status"] == "canceled" and b_cable.next()["status"] == "canceled"
        second = rails_client.ok("POST", "/friendships", a["token"],
                                 {"friendship": {"friend_id": b["id"]}}, 201)["data"]
        assert b_cable.next()["status"] == "new_request"
        for token, status, listener in ((b, "accepted", a_cable), (a, "terminated", b_cable)):
            changed = rails_client.ok("PATCH", f"/friendships/{second['id']}", token["token"],
                                      {"friendship": {"status": status}})
            assert changed["data"]["status"] == status and listener.next()["status"] == status

        session = rails_client.ok("POST", "/game_sessions", a["token"], {"game_session": {
            "game_id": 102, "partner_id": b["id"]}}, 201)["data"]
        assert session["scheduled_at"] is None and session["game_id"] == 102
        assert a_cable.next()["state"] == "requested" and b_cable.next()["state"] == "requested"
        path = f"/game_sessions/{session['id']}"
        assert rails_client.call("POST", f"{path}/accept", b["token"]).status_code == 404
        assert rails_client.call("PATCH", path, a["token"], {"game_session": {
            "state": "accepted"}}).status_code == 403  # the partner accepts
        moved = rails_client.ok("PATCH", path, b["token"], {"game_session": {"state": "accepted"}})
        assert moved["data"]["state"] == "accepted"
        assert a_cable.next()["state"] == "accepted" and b_cable.next()["state"] == "accepted"
        wrong = rails_client.call("POST", "/game_sessions", a["token"], {"game_session": {
            "game_id": 7, "partner_id": b["id"]}})
        assert wrong.status_code == 422
        assert wrong.json()["fields"] == {
            "game_id": "is no game of the catalogue (GET /api/v1/games)"}
    finally:
        a_cable.close()
        b_cable.close()


def test_rails_plain_socket_keeps_the_403_refusal(rails: ReferenceBackend) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(f"{rails.ws_url}/ws?token=nope", timeout=5)
    assert refused.value.status_code == 403


# --- faults under styles ---------------------------------------------------------------------

def test_faults_work_under_the_node_style(fcm: FcmEmulator) -> None:
    with ReferenceBackend(styles=("node",), faults=("swap-order", "accept-bad-token-socket"),
                          fcm_emulator_url=fcm.base_url) as node:
        client = Client(node, "x-auth-token")
        a, b = node_user(client, "a"), node_user(client, "b")
        b_ws = node_socket(node, b)
        stranger = Listener(f"{node.ws_url}/ws?access_token=not-a-token", cable=False)
        try:
            with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                websocket.create_connection(f"{node.ws_url}/ws", timeout=5)
            assert refused.value.status_code == 401  # no token at all: still refused
            thread = client.ok("POST", "/chat/threads", a["token"], {"participant_id": b["id"]},
                               201)
            for text in ("one", "two", "three"):
                client.ok("POST", f"/chat/threads/{thread['id']}/messages", a["token"],
                          {"text": text}, 201)
            assert [b_ws.next()["message"] for _ in range(3)] == ["two", "one", "three"]
            assert stranger.quiet(0.1) == []  # let in, yet an anonymous socket gets nothing
        finally:
            b_ws.close()
            stranger.close()


def test_faults_work_under_the_rails_style(fcm: FcmEmulator) -> None:
    with ReferenceBackend(styles=("rails",), faults=("unknown-status", "anonymous-receives-all"),
                          fcm_emulator_url=fcm.base_url) as rails:
        client = Client(rails, "bearer")
        a, b = rails_user(client, "a"), rails_user(client, "b")
        b_cable = rails_cable(rails, b)
        anonymous = Listener(f"{rails.ws_url}/cable", cable=True)
        try:
            request = client.ok("POST", "/friendships", a["token"],
                                {"friendship": {"friend_id": b["id"]}}, 201)["data"]
            client.ok("DELETE", f"/friendships/{request['id']}", a["token"])
            assert [b_cable.next()["status"] for _ in range(2)] == ["new_request", "cancelled"]
            assert [anonymous.next()["status"] for _ in range(2)] == ["new_request", "cancelled"]
        finally:
            b_cable.close()
            anonymous.close()
