"""Target against a tiny real echo server: auth placement, encoding, odd answers, timeouts, redaction."""
from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from harness.profile import load_profile
from harness.target import Target, TargetError, User
from harness.transcript import Transcript


def make_target(base_url: str, auth: dict[str, Any] | None = None, http_seconds: float = 5, online: str = "/online",
                games: dict[str, Any] | None = None, **actions: list[dict[str, Any]]) -> Target:
    document = {
        "name": "echo", "base_url": base_url, "timeouts": {"http_seconds": http_seconds},
        "auth": auth or {"header": "X-Auth", "format": "Token {{token}}"},
        "users": {"create": [{"method": "POST", "path": "/users/{{name}}", "auth": False,
                              "extract": {"id": "/id", "token": "/token"}}]},
        "presence": {"request": {"method": "GET", "path": "/presence/{{user.id}}"}, "online": online},
        "websocket": {"url": "wss://push.example.test/socket?token={{token}}&v=2",
                      "headers": {"Authorization": "Bearer {{token}}", "Origin": "https://app.example.test"}},
        "games": games or {"game_id": 3},
        "actions": {name.replace("_", "."): steps for name, steps in actions.items()},
    }
    return Target(load_profile(yaml.safe_dump(document) + "\n"), Transcript())


def echoed(target: Target) -> dict[str, Any]:
    """What the echo server saw in the last request."""
    return target.transcript.entries()[-1].data["response_body"]


def test_header_auth_typed_query_and_encoded_path(echo_url: str) -> None:
    target = make_target(echo_url, game_create=[{
        "method": "PUT", "path": "/say/{{scheduled_at}}",
        "query": {"n": "{{game_id}}", "gone": "{{game_level}}", "flag": True},
        "headers": {"X-Trace": "t-{{actor.id}}"}, "json": {"n": "{{game_id}}", "who": "{{other.name}}"},
        "extract": {"session_id": "/id"}}])
    a, b = target.create_user("A"), target.create_user("B")
    assert a.token == f"tok-{a.name}" and a.id == 7
    result = target.act("game.create", a, b, scheduled_at="a b/c", game_id=3, game_level=None)
    seen = result.body
    assert seen["method"] == "PUT" and seen["raw_path"] == "/say/a%20b%2Fc"
    assert seen["query"] == {"n": "3", "flag": "true"}  # None drops the parameter
    assert seen["headers"]["x-auth"] == f"Token {a.token}" and seen["headers"]["x-trace"] == "t-7"
    assert json.loads(seen["body"]) == {"n": 3, "who": b.name}
    recorded = json.dumps(target.transcript.to_json())
    assert a.token not in recorded and '"X-Auth": "***"' in recorded


def test_query_auth_is_sent_and_redacted(echo_url: str) -> None:
    target = make_target(echo_url, auth={"query": "access_token"}, friendship_request=[{"method": "GET", "path": "/x"}])
    a, b = target.create_user("A"), target.create_user("B")
    result = target.act("friendship.request", a, b)
    assert result.body["query"] == {"access_token": a.token}
    assert result.curl == (f"curl -sS -X GET '{echo_url}/x?access_token=***'",)
    assert target.transcript.entries()[-1].data["url"] == f"{echo_url}/x?access_token=***"


def test_tokens_extracted_later_are_secrets_too(echo_url: str) -> None:
    target = make_target(echo_url)
    user = target.create_user("A")
    entry = target.transcript.entries()[-1]
    assert entry.data["response_body"]["token"] == "***" and user.token not in json.dumps(target.transcript.to_json())


def test_refused_and_unexpected_statuses(echo_url: str) -> None:
    target = make_target(echo_url, friendship_cancel=[{"method": "POST", "path": "/status/404"}],
                         friendship_accept=[{"method": "POST", "path": "/x", "expect_status": [202]}],
                         friendship_reject=[{"method": "POST", "path": "/status/409", "expect_status": [200, 409]},
                                            {"method": "POST", "path": "/y"}])
    a, b = target.create_user("A"), target.create_user("B")
    refused = target.act("friendship.cancel", a, b)
    assert (refused.ok, refused.refused, refused.status, refused.body["error"]) == (False, True, 404, "status 404")
    unexpected = target.act("friendship.accept", a, b)
    assert (unexpected.ok, unexpected.refused, unexpected.status) == (False, False, 200)
    expected = target.act("friendship.reject", a, b)
    assert expected.ok and expected.body["path"] == "/y" and len(expected.curl) == 2


def test_server_error_is_a_target_error(echo_url: str) -> None:
    target = make_target(echo_url, chat_post=[{"method": "POST", "path": "/status/503", "json": {"t": "{{token}}"},
                                               "extract": {"thread_id": "/id"}}])
    a, b = target.create_user("A"), target.create_user("B")
    with pytest.raises(TargetError) as caught:
        target.act("chat.post", a, b)
    assert str(caught.value) == (f'chat.post step 1/1: POST {echo_url}/status/503 answered HTTP 503: '
                                 '{"error": "status 503", "token": "tok-refused"}')
    assert "***" in json.dumps(target.transcript.entries()[-1].data["request_body"])  # the token it sent


def test_not_json_and_missing_pointer(echo_url: str) -> None:
    target = make_target(echo_url, call_request=[{"method": "POST", "path": "/html", "extract": {"call_id": "/id", "call_session_id": "/s"}}],
                         call_schedule=[{"method": "POST", "path": "/x", "extract": {"call_id": "/call/id", "call_session_id": "/id"}}])
    a, b = target.create_user("A"), target.create_user("B")
    with pytest.raises(TargetError) as caught:
        target.act("call.request", a, b)
    assert str(caught.value) == (f"call.request step 1/1: POST {echo_url}/html: the answer is not JSON, but "
                                 "actions.call.request[0].extract needs it: <html><body>Welcome to nginx!</body></html>")
    with pytest.raises(TargetError) as caught:
        target.act("call.schedule", a, b)
    assert str(caught.value).startswith(f"call.schedule step 1/1: POST {echo_url}/x: actions.call.schedule[0].extract.call_id: "
                                        "the answer has nothing at /call/id: {")


def test_timeout_is_a_target_error(echo_url: str) -> None:
    target = make_target(echo_url, http_seconds=0.3, chat_post=[{"method": "GET", "path": "/slow", "extract": {"thread_id": "/id"}}])
    a, b = target.create_user("A"), target.create_user("B")
    with pytest.raises(TargetError) as caught:
        target.act("chat.post", a, b)
    assert str(caught.value) == f"chat.post step 1/1: GET {echo_url}/slow: no answer within 0.3 s (timeouts.http_seconds)"


def test_websocket_url_and_headers_variants(echo_url: str) -> None:
    target = make_target(echo_url)
    a = target.create_user("A")
    assert target.websocket_url(a) == f"wss://push.example.test/socket?token={a.token}&v=2"
    assert target.websocket_headers(a) == {"Authorization": f"Bearer {a.token}", "Origin": "https://app.example.test"}
    assert target.unauthenticated_websocket_url() == "wss://push.example.test/socket?v=2"
    assert target.unauthenticated_websocket_headers() == {"Origin": "https://app.example.test"}
    bad_url, bad_headers = target.bad_credentials_websocket_url(), target.bad_credentials_websocket_headers()
    bad = bad_url.split("token=")[1].split("&")[0]
    assert bad.startswith("invalid-") and bad_headers["Authorization"] == f"Bearer {bad}"


def test_presence_must_be_a_boolean(echo_url: str) -> None:
    target = make_target(echo_url)
    user = target.create_user("A")
    assert target.is_online(user) is False
    target.wait_offline(user, timeout=0.5)
    broken = make_target(echo_url, online="/id")
    with pytest.raises(TargetError, match=r"^presence: /id in the answer of /presence/\{\{user\.id\}\} is not true/false: "):
        broken.is_online(user)


def test_a_failed_extraction_does_not_leak_the_token_it_saw(echo_url: str, tmp_path: Any) -> None:
    target = make_target(echo_url)
    document = dict(target.profile.document)
    document["users"] = {"create": [{"method": "POST", "path": "/users/{{name}}", "auth": False,
                                     "extract": {"token": "/token", "id": "/user/id"}}]}
    broken = Target(load_profile(yaml.safe_dump(document) + "\n"), Transcript())
    with pytest.raises(TargetError) as caught:
        broken.create_user("A")
    message = str(caught.value)
    assert "users.create[0].extract.id: the answer has nothing at /user/id: " in message
    assert "tok-A-" not in message
    assert broken.transcript.entries()[-1].data["response_body"]["token"] == "***"
    assert "tok-A-" not in json.dumps(broken.transcript.to_json())


@pytest.mark.parametrize("base", ["/api/v1", "/api/v1/"])
def test_step_paths_append_to_the_path_of_base_url(echo_url: str, base: str) -> None:
    target = make_target(echo_url + base, friendship_request=[{"method": "GET", "path": "/friends/{{other.name}}"}],
                         friendship_cancel=[{"method": "GET", "path": "/"}])
    a, b = target.create_user("A"), target.create_user("B")
    assert echoed(target)["raw_path"] == f"/api/v1/users/{b.name}"
    assert target.act("friendship.request", a, b).body["raw_path"] == f"/api/v1/friends/{b.name}"
    assert target.act("friendship.cancel", a, b).body["raw_path"] == "/api/v1/"


@pytest.mark.parametrize(("base_url", "ws_url", "expected"), [
    ("http://api.example.test:8080/api/v1", "/cable?token={{token}}", "ws://api.example.test:8080/cable?token=T"),
    ("https://api.example.test/api/v1/", "/ws", "wss://api.example.test/ws"),
    ("http://127.0.0.1:3000", "/sockets/{{user.id}}", "ws://127.0.0.1:3000/sockets/5"),
    ("http://api.example.test/api", "https://push.example.test/socket?t={{token}}", "wss://push.example.test/socket?t=T"),
    ("http://api.example.test/api", "http://push.example.test:81/socket", "ws://push.example.test:81/socket"),
    ("https://api.example.test/api", "ws://push.example.test/x/y", "ws://push.example.test/x/y"),
])
def test_the_websocket_url_rule(base_url: str, ws_url: str, expected: str) -> None:
    """A path joins the ORIGIN of base_url (the API prefix is base_url's alone); http(s) URLs become ws(s)."""
    document = {"name": "w", "base_url": base_url, "auth": {"query": "access_token"},
                "users": {"create": [{"method": "POST", "path": "/u", "auth": False, "extract": {"id": "/id", "token": "/t"}}]},
                "websocket": {"url": ws_url}}
    target = Target(load_profile(yaml.safe_dump(document) + "\n"))
    assert target.websocket_url(User("A", 5, "T", "A-1")) == expected


def test_string_ids_render_in_paths_bodies_and_queries(echo_url: str) -> None:
    target = make_target(echo_url, friendship_request=[{"method": "POST", "path": "/users/{{other.id}}/friend",
                                                        "query": {"by": "{{actor.id}}"}, "json": {"friend_id": "{{other.id}}"}}])
    a, b = User("A", "41", "tok-a", "A-1"), User("B", "id/42", "tok-b", "B-1")
    seen = target.act("friendship.request", a, b).body
    assert seen["raw_path"] == "/users/id%2F42/friend" and seen["query"] == {"by": "41"}
    assert json.loads(seen["body"]) == {"friend_id": "id/42"}
