"""Who is a party of what, and which request a notification belongs to (harness/fuzz/resources.py,
harness/fuzz/observer.py `attribute`): the judgements `b4a fuzz` rests on, on plain values."""
from __future__ import annotations

import pytest

from harness.fuzz.observer import Exchange, attribute
from harness.fuzz.resources import Ledger, id_value, notification_resource, path_kind, user_refs
from harness.fuzz.session import is_loopback

A, B, C = 1, 2, 3
DEADLINE = 2.0


@pytest.mark.parametrize(("path", "param", "kind"), [
    ("/friendships/{id}/accept", "id", "friendship"),
    ("/api/v1/friendships/{id}", "id", "friendship"),
    ("/games/sessions/{id}/state", "id", "game"),
    ("/game_sessions/{id}/start", "id", "game"),
    ("/calls/{id}/terminate", "id", "call"),
    ("/chat/threads/{id}/messages", "id", "thread"),
    ("/presence/{user_id}", "user_id", "user"),
    ("/devices/{token}", "token", None),  # a device token names no resource
    ("/friendships", None, "friendship"),  # the collection
    ("/health", None, None),
])
def test_the_resource_a_path_names(path: str, param: str | None, kind: str | None) -> None:
    assert path_kind(path, param) == kind


def test_users_are_the_ids_under_user_naming_keys_at_any_depth() -> None:
    body = {"friend_id": 3, "game_id": 7, "participant_ids": [1, "2"], "thread": {"id": 5, "creator_id": 4.0},
            "session_id": "ses_Ab12", "call_id": 9, "user_id": True}
    assert user_refs(body) == {1, 2, 3, 4}
    assert user_refs([{"partner_id": 8}, "x"]) == {8}
    assert id_value("42") == 42 and id_value(3.0) == 3 and id_value(3.5) is None and id_value(False) is None


@pytest.mark.parametrize(("payload", "subject"), [
    ({"message_type": "api_game_session_status", "session_id": 5}, ("game", 5)),
    ({"message_type": "openvidu_status", "call_id": "6"}, ("call", 6)),
    ({"message_type": "api_chat_message", "thread": {"id": 7}}, ("thread", 7)),
    ({"message_type": "api_friendship_status", "friend_id": 8}, ("friend", 8)),
    ({"message_type": "api_chat", "thread": {"id": 7}}, ("thread", 7)),  # judged even when mistyped
    ({"message_type": "something else"}, None),
    ("not an object", None),
])
def test_what_a_notification_is_about(payload: object, subject: tuple[str, int] | None) -> None:
    assert notification_resource(payload) == subject


def _request(seq: int, t: float, status: int, parties: set[int], *resources: tuple[str, int],
             operation: str = "POST /friendships") -> Exchange:
    return Exchange(seq=seq, operation=operation, method="POST", url="/", actor="P", status=status, t_sent=t,
                    t_done=t + 0.01, parties=parties, resources=set(resources), curl="", scenario=1, stateful=False)


def test_a_late_push_belongs_to_the_request_between_its_two_users_not_the_latest() -> None:
    """A invites B, then A invites C; B's push arrives after the second request was sent: it is the
    first request's (a copy for B naming A), so B is a party and nothing leaked."""
    first = _request(1, 1.0, 201, {A, B}, ("friendship", 0), ("friendship", 11))
    second = _request(2, 1.1, 201, {A, C}, ("friendship", 0), ("friendship", 12))
    copy = {"message_type": "api_friendship_status", "friend_id": A}
    cause, explained = attribute(1.15, copy, B, [first, second], DEADLINE)
    assert cause is first and explained and B in cause.parties


def test_a_copy_to_a_user_no_request_concerned_falls_to_the_request_before_it() -> None:
    post = _request(1, 1.0, 201, {A, B}, ("thread", 4), operation="POST /chat/threads/{id}/messages")
    copy = {"message_type": "api_chat_message", "thread": {"id": 4}}
    cause, explained = attribute(1.02, copy, C, [post], DEADLINE)
    assert cause is post and explained and C not in cause.parties  # the leak DLV-004 names
    friendship = {"message_type": "api_friendship_status", "friend_id": A}
    cause, explained = attribute(1.02, friendship, C, [post], DEADLINE)
    assert cause is post and not explained  # no friendship request between A and C: the one before


def test_a_copy_after_a_refusal_is_the_refusals_unless_an_accepted_request_came_just_before() -> None:
    accepted = _request(1, 1.0, 200, {A, B}, ("friendship", 11), operation="POST /friendships/{id}/accept")
    refused = _request(2, 1.1, 409, {A, B}, ("friendship", 11), operation="POST /friendships/{id}/accept")
    copy = {"message_type": "api_friendship_status", "friend_id": B}
    cause, _ = attribute(1.2, copy, A, [accepted, refused], DEADLINE)
    assert cause is accepted  # a late copy of the accept, not of the refusal
    cause, explained = attribute(5.0, copy, A, [accepted, refused], DEADLINE)
    assert cause is refused and explained and cause.refused  # long after: the refusal's (DLV-008)
    assert attribute(0.5, copy, A, [accepted, refused], DEADLINE) == (None, False)  # before any request


def test_the_ledger_keeps_parties_per_resource() -> None:
    ledger = Ledger()
    ledger.add("game", 5, {A})
    ledger.add("game", 5, {B})
    ledger.add("call", 2, {A, C})
    assert ledger.of(("game", 5)) == {A, B} and ledger.ids("call") == [2] and ledger.of(("call", 9)) == set()


@pytest.mark.parametrize(("url", "loopback"), [
    ("http://127.0.0.1:8080", True), ("http://localhost/api", True), ("http://[::1]:9/", True),
    ("http://127.9.9.9", True), ("https://api.example.com", False), ("http://10.0.0.1", False),
])
def test_only_loopback_targets_are_fuzzed_by_default(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback
