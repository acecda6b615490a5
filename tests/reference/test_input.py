"""Bad input on every endpoint: 401/403/404/409/422 with a JSON error naming the problem."""
from __future__ import annotations

import pytest

from harness.reference import ReferenceBackend

from .support import Api

PROTECTED = [
    ("GET", "/me"), ("POST", "/devices"), ("DELETE", "/devices/x"), ("GET", "/presence/1"),
    ("GET", "/friendships"), ("POST", "/friendships"), ("POST", "/friendships/1/accept"),
    ("POST", "/games/sessions"), ("POST", "/games/sessions/1/state"), ("POST", "/chat/threads"),
    ("POST", "/chat/threads/1/messages"), ("POST", "/calls"), ("POST", "/calls/schedule"),
    ("POST", "/calls/1/terminate"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc", "Bearer "])
def test_protected_endpoints_need_a_valid_bearer_token(
        api: Api, method: str, path: str, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = api.session.request(method, f"{api.base_url}{path}", headers=headers, json={})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "token" in response.json()["error"]


@pytest.mark.parametrize(("path", "body", "fields"), [
    ("/friendships", {}, {"friend_id": "is required"}),
    ("/friendships", {"friend_id": "2"}, {"friend_id": "must be an integer"}),
    ("/friendships", {"friend_id": True}, {"friend_id": "must be an integer"}),
    ("/friendships", {"friend_id": 0}, {"friend_id": f"must be between 1 and {2**63 - 1}"}),
    ("/friendships", {"friend_id": 2**64}, {"friend_id": f"must be between 1 and {2**63 - 1}"}),
    ("/friendships", {"friend_id": 5, "extra": 1}, {"extra": "unknown field"}),
    ("/devices", {"token": ""}, {"token": "must be 1 to 4096 characters long"}),
    ("/devices", {"token": "x" * 4097}, {"token": "must be 1 to 4096 characters long"}),
    ("/games/sessions", {"game_id": 1, "partner_id": 2, "game_level": -1},
     {"game_level": f"must be between 0 and {2**63 - 1}"}),
    ("/games/sessions", {"game_id": 1, "partner_id": 2, "scheduled_at": "2026-11-25 14:00"},
     {"scheduled_at": "must be an RFC 3339 date-time such as 2026-11-25T14:00:00Z"}),
    ("/games/sessions", {"game_id": 1, "partner_id": 2, "scheduled_at": "2026-02-30T10:00:00Z"},
     {"scheduled_at": "is not a representable date-time (day is out of range for month)"}),
    ("/calls/schedule", {"callee_id": 2}, {"scheduled_at": "is required"}),
    ("/calls/schedule", {"callee_id": 2, "scheduled_at": None},
     {"scheduled_at": "must be an RFC 3339 date-time string"}),
    ("/chat/threads", {"participant_id": []}, {"participant_id": "must be an integer"}),
])
def test_invalid_fields_get_422_naming_each_field(
        api: Api, path: str, body: object, fields: dict[str, str]) -> None:
    response = api.post(api.user(), path, body)
    assert response.status_code == 422, response.text
    assert response.json()["fields"] == fields
    assert response.json()["error"].startswith("invalid input: ")


@pytest.mark.parametrize("raw", [b"{", b"[1]", b"null", b"", b"\xff\xfe"])
def test_body_that_is_not_a_json_object_gets_422(api: Api, raw: bytes) -> None:
    user = api.user()
    response = api.session.post(f"{api.base_url}/friendships", data=raw,
                                headers={**user.headers, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["body"]


def test_lone_surrogate_text_is_refused_not_crashed(api: Api) -> None:
    a, b = api.user(), api.user()
    thread = api.ok(a, "/chat/threads", {"participant_id": b.id}, 201)
    response = api.session.post(
        f"{api.base_url}/chat/threads/{thread['id']}/messages", data=b'{"text": "\\ud800"}',
        headers={**a.headers, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["fields"] == {"text": "must be valid Unicode (no lone surrogates)"}


def test_self_targets_are_422(api: Api) -> None:
    user = api.user()
    for path, key in (("/friendships", "friend_id"), ("/chat/threads", "participant_id"),
                      ("/calls", "callee_id")):
        response = api.post(user, path, {key: user.id})
        assert response.status_code == 422
        assert response.json()["fields"] == {key: "must not be your own id"}


@pytest.mark.parametrize("path", [
    "/friendships/999999/accept", "/friendships/abc/accept", "/friendships/0/accept",
    f"/friendships/{2**70}/accept", "/friendships/1/explode", "/games/sessions/999999/state",
    "/chat/threads/999999/messages", "/calls/999999/accept", "/nowhere",
])
def test_unknown_things_are_404_json(api: Api, path: str) -> None:
    response = api.post(api.user(), path, {})
    assert response.status_code == 404
    assert "not found" in response.json()["error"].lower()


def test_unknown_users_are_404(api: Api) -> None:
    user = api.user()
    assert api.post(user, "/friendships", {"friend_id": 10**12}).json() == {
        "error": "user not found"}
    assert api.get(user, f"/presence/{10**12}").status_code == 404
    assert api.post(user, "/calls", {"callee_id": 10**12}).status_code == 404


def test_wrong_method_is_405_json_with_allow(reference: ReferenceBackend, api: Api) -> None:
    response = api.session.delete(f"{reference.base_url}/friendships")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert response.json() == {"error": "Method Not Allowed"}


def test_friendship_conflicts_and_permissions(api: Api) -> None:
    a, b, c = api.user(), api.user(), api.user()
    friendship = api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    assert api.post(a, "/friendships", {"friend_id": b.id}).status_code == 409
    assert api.post(b, "/friendships", {"friend_id": a.id}).status_code == 409  # either way
    path = f"/friendships/{friendship['id']}"
    assert api.post(a, f"{path}/accept").status_code == 403
    assert api.post(b, f"{path}/cancel").status_code == 403
    assert api.post(c, f"{path}/reject").status_code == 403
    assert api.post(a, f"{path}/terminate").status_code == 409  # not accepted yet
    api.ok(b, f"{path}/accept")
    refused = api.post(b, f"{path}/accept")
    assert refused.status_code == 409
    assert refused.json() == {"error": "cannot accept: the friendship is accepted, not pending"}
    assert api.post(a, "/friendships", {"friend_id": b.id}).status_code == 409  # friends
    api.ok(b, f"{path}/terminate")
    api.ok(a, "/friendships", {"friend_id": b.id}, 201)  # may ask again after it ended


def test_device_delete_is_per_user(api: Api) -> None:
    a, b = api.user(), api.user()
    assert api.post(a, "/devices", {"token": "shared/token:1"}).json() == {
        "token": "shared/token:1"}
    url = f"{api.base_url}/devices/shared/token:1"
    assert api.session.delete(url, headers=b.headers).status_code == 404
    assert api.session.delete(url, headers=a.headers).status_code == 204
    assert api.session.delete(url, headers=a.headers).status_code == 404


def test_users_me_and_health(api: Api, reference: ReferenceBackend) -> None:
    assert api.session.get(f"{reference.base_url}/health").json() == {"status": "ok"}
    user = api.user("Zoë")
    assert api.get(user, "/me").json() == {"id": user.id, "name": "Zoë"}
    response = api.post(None, "/users", {"name": "x" * 65})
    assert response.status_code == 422
    assert response.json()["fields"] == {"name": "must be 1 to 64 characters long"}
