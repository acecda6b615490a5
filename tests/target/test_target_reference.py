"""Target against the real reference backend (subprocess, loopback): users, actions, presence, WebSocket."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import websocket
import yaml

from harness.profile import load_profile
from harness.reference import ReferenceBackend
from harness.target import Target, TargetError, Unsupported
from harness.transcript import Transcript

PROFILES = Path(__file__).resolve().parents[2] / "fixtures" / "profiles"


@pytest.fixture
def target(reference: ReferenceBackend) -> Target:
    profile = load_profile(PROFILES / "reference.yaml", overrides={"base_url": reference.base_url})
    return Target(profile, Transcript())


def test_users_friendship_and_refusal(target: Target) -> None:
    a, b = target.create_user("A"), target.create_user("B")
    assert isinstance(a.id, int) and a.id != b.id and a.name.startswith("A-") and a.name != target.create_user("A").name
    request = target.act("friendship.request", a, b)
    assert (request.ok, request.refused, request.status) == (True, False, 201)
    assert request.vars == {"friendship_id": request.body["id"]} and isinstance(request.vars["friendship_id"], int)
    assert request.body["invitee_id"] == b.id
    accept = target.act("friendship.accept", b, a, **request.vars)
    assert accept.ok and accept.body["status"] == "accepted" and accept.vars == request.vars
    again = target.act("friendship.accept", b, a, **request.vars)  # 409: refused, not an exception
    assert (again.ok, again.refused, again.status) == (False, True, 409) and "error" in again.body
    self_request = target.act("friendship.request", a, a)
    assert (self_request.refused, self_request.status) == (True, 422)


def test_typed_placeholders_reach_the_backend_with_their_types(target: Target) -> None:
    a, b = target.create_user("A"), target.create_user("B")
    game = target.act("game.create", a, b, game_id=3, game_level=2, scheduled_at="2026-11-25T14:00:00Z")
    assert game.ok, game.body
    sent = target.transcript.entries()[-1].data["request_body"]
    assert sent == {"game_id": 3, "partner_id": b.id, "game_level": 2, "scheduled_at": "2026-11-25T14:00:00Z"}
    assert all(type(sent[k]) is int for k in ("game_id", "partner_id", "game_level"))
    # the contract's optional fields get their defaults; the game id comes from the profile's games section
    defaults = target.act("game.create", a, b)
    assert target.transcript.entries()[-1].data["request_body"] == {"game_id": 7, "partner_id": b.id, "game_level": 0, "scheduled_at": None}
    assert defaults.ok and defaults.body["scheduled_at"] is None and defaults.body["game_id"] == target.game_id() == 7
    assert defaults.vars == {"game_id": 7, "game_level": 0, "scheduled_at": None, "session_id": defaults.body["id"]}
    session = defaults.vars["session_id"]
    assert target.act("game.transition", b, a, session_id=session, state="accepted").body["state"] == "accepted"
    invalid = target.act("game.transition", a, b, session_id=session, state="finished")
    assert invalid.refused and invalid.status == 409
    assert target.supports_transition(None, "requested") and target.supports_transition("requested", "accepted")
    assert not target.supports_transition("accepted", "finished")  # not an edge of the contract's graph


def test_a_two_step_action_feeds_extracted_values_forward(target: Target) -> None:
    a, b = target.create_user("A"), target.create_user("B")
    chat = target.act("chat.post", a, b, text="hello {{not a placeholder}}")
    assert chat.ok and chat.body["text"] == "hello {{not a placeholder}}"
    assert chat.vars == {"text": "hello {{not a placeholder}}", "thread_id": chat.body["thread_id"]}
    assert len(chat.curl) == 2 and f"/chat/threads/{chat.vars['thread_id']}/messages" in chat.curl[1]


def test_missing_parameter_is_a_clear_error(target: Target) -> None:
    a, b = target.create_user("A"), target.create_user("B")
    with pytest.raises(TargetError) as caught:
        target.act("friendship.accept", b, a)
    assert str(caught.value).startswith(
        "friendship.accept step 1/1 (actions.friendship.accept[0]): placeholder {{friendship_id}} has no value (known: ")
    with pytest.raises(ValueError, match="unknown action 'friendship.befriend'"):
        target.act("friendship.befriend", a, b)


def test_calls_and_presence_over_a_real_websocket(target: Target) -> None:
    a, b = target.create_user("A"), target.create_user("B")
    assert target.is_online(b) is False
    offline = target.act("call.request", a, b)
    assert offline.body["status"] == "user_not_available"
    assert isinstance(offline.vars["call_session_id"], str) and isinstance(offline.vars["call_id"], int)
    url = target.websocket_url(b)
    assert url == f"{target.profile.base_url.replace('http', 'ws', 1)}/ws?token={b.token}"
    connection = websocket.create_connection(url, timeout=5, header=target.websocket_headers(b))
    try:
        assert target.is_online(b) is True
        ringing = target.act("call.request", a, b)
        assert ringing.body["status"] == "requested"
        assert target.act("call.accept", b, a, **ringing.vars).body["status"] == "accepted"
    finally:
        connection.close()
    target.wait_offline(b, timeout=2.0)
    assert target.is_online(b) is False


@pytest.mark.parametrize("url_of", ["unauthenticated_websocket_url", "bad_credentials_websocket_url"])
def test_credential_free_websocket_urls_are_refused(target: Target, url_of: str) -> None:
    url = getattr(target, url_of)()
    base = target.profile.base_url.replace("http", "ws", 1)
    if url_of == "unauthenticated_websocket_url":
        assert url == f"{base}/ws"
    else:
        assert url.startswith(f"{base}/ws?token=invalid-")
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, timeout=5)
    assert refused.value.status_code in (401, 403)


def test_devices_and_redaction(target: Target) -> None:
    a, b = target.create_user("A"), target.create_user("B")
    target.register_device(a, "device-token-of-a-1")
    request = target.act("friendship.request", a, b)
    recorded = json.dumps(target.transcript.to_json())
    assert a.token not in recorded and b.token not in recorded
    assert '"Authorization": "***"' in recorded and '"token": "***"' in recorded  # POST /users answers
    assert "device-token-of-a-1" in recorded, "device tokens are evidence and stay"
    assert request.curl == (
        f"curl -sS -X POST {target.profile.base_url}/friendships -H 'Authorization: ***' "
        f"-H 'Content-Type: application/json' --data-raw '{{\"friend_id\": {b.id}}}'",)
    entry = target.transcript.entries()[-1]
    assert (entry.kind, entry.label, entry.data["method"], entry.data["status"]) == ("http", "A", "POST", 201)


def test_a_bound_copy_records_into_its_own_transcript(target: Target) -> None:
    a = target.create_user("A")
    check = Transcript()
    bound = target.with_transcript(check)
    bound.act("friendship.request", a, bound.create_user("B"))
    assert len(check.entries()) == 2 and len(target.transcript.entries()) == 1
    assert a.token not in json.dumps(check.to_json())


def test_unsupported_actions_and_cable_urls(reference: ReferenceBackend, tmp_path: Path) -> None:
    document = yaml.safe_load((PROFILES / "reference-cable.yaml").read_text())
    del document["actions"]["call.schedule"]
    path = tmp_path / "partial.yaml"
    path.write_text(yaml.safe_dump(document))
    target = Target(load_profile(path, overrides={"base_url": reference.base_url}))
    a, b = target.create_user("A"), target.create_user("B")
    assert not target.supports("call.schedule") and target.supports("call.request")
    with pytest.raises(Unsupported, match=r"^the profile has no actions\.call\.schedule$"):
        target.act("call.schedule", a, b, scheduled_at="2026-11-25T14:00:00Z")
    assert target.websocket_url(a).endswith(f"/cable?token={a.token}")
    assert target.unauthenticated_websocket_url().endswith("/cable")


def test_unreachable_target_is_one_clear_line(closed_port: int, tmp_path: Path) -> None:
    profile = load_profile(PROFILES / "reference.yaml", overrides={"base_url": f"http://127.0.0.1:{closed_port}"})
    target = Target(profile)
    with pytest.raises(TargetError) as caught:
        target.check_reachable()
    assert str(caught.value) == f"users.create step 1/1: POST http://127.0.0.1:{closed_port}/users: cannot connect: Connection refused"
    entry = target.transcript.entries()[-1]
    assert entry.data["status"] is None and entry.data["error"] == "cannot connect: Connection refused"
