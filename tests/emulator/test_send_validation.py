"""Raw-HTTP tests of FCM's validation rules on messages:send, one rule per test."""
from __future__ import annotations

import json

import pytest

from harness.emulator.fcm import FcmEmulator, FcmInbox

from .helpers import Sender, error_of, fcm_code


def test_valid_send_is_captured_with_fcm_name(sender: Sender, inbox: FcmInbox, emulator: FcmEmulator) -> None:
    message = {"token": "tok-A", "data": {"kind": "friendship"}, "notification": {"title": "Hi"}}
    response = sender.message(message)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    name = response.json()["name"]
    assert name.startswith(f"projects/{emulator.project_id}/messages/0:")
    [captured] = inbox.messages()
    assert (captured.token, captured.message, captured.name) == ("tok-A", message, name)


def test_camel_case_and_lowercase_enums_are_accepted(sender: Sender) -> None:
    message = {"token": "t", "android": {"priority": "high", "collapseKey": "c", "ttl": "3.5s",
                                         "notification": {"channelId": "x", "notificationPriority": "PRIORITY_HIGH"}},
               "apns": {"headers": {"apns-priority": "10"}, "payload": {"aps": {"badge": 1}}},
               "fcmOptions": {"analyticsLabel": "l"}}
    assert sender.post({"message": message, "validateOnly": True}).status_code == 200


def test_dry_run_returns_fake_id_and_is_not_captured(sender: Sender, inbox: FcmInbox) -> None:
    response = sender.message({"topic": "news", "data": {"a": "b"}}, validate_only=True)
    assert response.status_code == 200
    assert response.json()["name"].endswith("/messages/fake_message_id")
    assert inbox.messages() == []
    [attempt] = inbox.attempts()
    assert attempt.validate_only and attempt.http_status == 200 and attempt.topic == "news"


@pytest.mark.parametrize("message", [{"data": {"a": "b"}}, {"token": ""}])
def test_no_target_is_rejected(sender: Sender, message: dict) -> None:
    response = sender.message(message)
    error = error_of(response)
    assert response.status_code == 400 and error["status"] == "INVALID_ARGUMENT"
    assert error["message"] == "Recipient of the message is not set."
    assert fcm_code(error) == "INVALID_ARGUMENT"


def test_two_targets_are_rejected(sender: Sender, inbox: FcmInbox) -> None:
    response = sender.message({"token": "t", "topic": "news"})
    error = error_of(response)
    assert response.status_code == 400
    assert "Oneof field 'target' is already set" in error["message"]
    assert inbox.attempts()[0].error_message == "message sets more than one target: token, topic"


def test_non_string_data_value_is_rejected_with_its_index(sender: Sender) -> None:
    response = sender.message({"token": "t", "data": {"a": "x", "count": 12}})
    error = error_of(response)
    assert response.status_code == 400
    assert error["message"] == "Invalid value at 'message.data[1].value' (TYPE_STRING), 12"
    assert error["details"][0]["fieldViolations"][0]["field"] == "message.data[1].value"


@pytest.mark.parametrize("key", ["from", "message_type", "google.sent_time", "gcm.notification.body"])
def test_reserved_data_keys_are_rejected(sender: Sender, key: str) -> None:
    response = sender.message({"token": "t", "data": {key: "v"}})
    error = error_of(response)
    assert response.status_code == 400
    assert error["message"] == f"Invalid data payload key: {key}"
    assert fcm_code(error) == "INVALID_ARGUMENT"


def test_notification_and_collapse_key_are_allowed_data_keys(sender: Sender) -> None:
    assert sender.message({"token": "t", "data": {"notification": "x", "collapse_key": "y"}}).status_code == 200


def test_payload_over_4096_bytes_is_rejected_bare(sender: Sender, inbox: FcmInbox) -> None:
    just_fits = {"k": "v" * 4095}
    assert sender.message({"token": "t", "data": just_fits}).status_code == 200
    response = sender.message({"token": "t", "data": {"k": "v" * 4096}})
    assert response.status_code == 400
    assert response.json() == {"error": {"code": 400, "message": "Request contains an invalid argument.",
                                         "status": "INVALID_ARGUMENT"}}
    assert "4097 bytes" in inbox.attempts()[-1].error_message


def test_topic_payload_limit_is_2048_bytes(sender: Sender) -> None:
    assert sender.message({"topic": "news", "data": {"k": "v" * 2047}}).status_code == 200
    assert sender.message({"topic": "news", "data": {"k": "v" * 2048}}).status_code == 400


@pytest.mark.parametrize("topic", ["/topics/news", "bad topic", "n" * 901, "caf\u00e9"])
def test_invalid_topic_names_are_rejected(sender: Sender, topic: str) -> None:
    response = sender.message({"topic": topic})
    assert response.status_code == 400
    assert error_of(response)["details"][1]["fieldViolations"][0]["field"] == "message.topic"


@pytest.mark.parametrize("condition", [
    "'a' in topics && ('b' in topics || !('c' in topics))",
    "\"a\" in topics || 'b-c_d.e~%' in topics",
])
def test_valid_conditions_are_accepted(sender: Sender, inbox: FcmInbox, condition: str) -> None:
    assert sender.message({"condition": condition}).status_code == 200
    assert inbox.messages()[0].condition == condition


@pytest.mark.parametrize("condition", [
    "'a' in topics &&", "('a' in topics", "'a' in topic", "a in topics",
    " || ".join(f"'t{i}' in topics" for i in range(6)),
])
def test_invalid_conditions_are_rejected(sender: Sender, condition: str) -> None:
    response = sender.message({"condition": condition})
    assert response.status_code == 400
    assert error_of(response)["message"].startswith("Invalid condition expression provided")


@pytest.mark.parametrize("token", [" ", "has space", "x" * 4097, "t\u00f6k"])
def test_malformed_tokens_are_invalid_argument(sender: Sender, token: str) -> None:
    response = sender.message({"token": token})
    error = error_of(response)
    assert response.status_code == 400
    assert error["message"] == "The registration token is not a valid FCM registration token"
    assert fcm_code(error) == "INVALID_ARGUMENT"


def test_unknown_field_is_named(sender: Sender) -> None:
    response = sender.message({"token": "t", "to": "x", "notification": {"title": "a", "data": {}}})
    error = error_of(response)
    assert response.status_code == 400
    assert error["message"] == 'Invalid JSON payload received. Unknown name "to" at \'message\': Cannot find field.'
    nested = sender.message({"token": "t", "notification": {"title": "a", "data": {}}})
    assert "Unknown name \"data\" at 'message.notification'" in error_of(nested)["message"]
    top = sender.post({"message": {"token": "t"}, "dry_run": True})
    assert error_of(top)["message"] == 'Invalid JSON payload received. Unknown name "dry_run": Cannot find field.'


@pytest.mark.parametrize(("message", "where"), [
    ({"token": "t", "android": {"priority": "urgent"}}, "message.android.priority"),
    ({"token": "t", "android": {"ttl": "10 minutes"}}, "message.android.ttl"),
    ({"token": "t", "android": {"direct_boot_ok": "yes"}}, "message.android.direct_boot_ok"),
    ({"token": "t", "notification": {"title": 5}}, "message.notification.title"),
    ({"token": "t", "apns": {"headers": {"apns-priority": 10}}}, "message.apns.headers[0].value"),
    ({"token": "t", "webpush": {"notification": "text"}}, "message.webpush.notification"),
])
def test_wrong_field_types_name_the_field(sender: Sender, message: dict, where: str) -> None:
    response = sender.message(message)
    assert response.status_code == 400
    assert error_of(response)["message"].startswith(f"Invalid value at '{where}'")


def test_ttl_over_four_weeks_is_rejected(sender: Sender) -> None:
    assert sender.message({"token": "t", "android": {"ttl": "2419200s"}}).status_code == 200
    assert sender.message({"token": "t", "android": {"ttl": "2419201s"}}).status_code == 400


@pytest.mark.parametrize("raw", [b"not json", b"[1]", b'{"message": "x"}', b"{}", b'{"message": {}, "validate_only": 1}'])
def test_malformed_bodies_are_400_not_500(sender: Sender, raw: bytes, inbox: FcmInbox) -> None:
    response = sender.post(None, raw=raw)
    assert response.status_code == 400
    assert error_of(response)["status"] == "INVALID_ARGUMENT"
    assert inbox.attempts()[-1].http_status == 400


def test_wrong_project_is_permission_denied(sender: Sender, emulator: FcmEmulator) -> None:
    url = f"{emulator.base_url}/v1/projects/someone-else/messages:send"
    response = sender.post({"message": {"token": "t"}}, url=url)
    error = error_of(response)
    assert response.status_code == 403 and error["status"] == "PERMISSION_DENIED"
    assert "cloudmessaging.messages.create" in error["message"] and "someone-else" in error["message"]


def test_project_number_is_accepted_and_echoed(sender: Sender, emulator: FcmEmulator) -> None:
    url = f"{emulator.base_url}/v1/projects/{emulator.project_number}/messages:send"
    response = sender.post({"message": {"token": "t"}}, url=url)
    assert response.status_code == 200
    assert response.json()["name"].startswith(f"projects/{emulator.project_number}/messages/")


def test_duplicate_keys_last_one_wins(sender: Sender, inbox: FcmInbox) -> None:
    raw = b'{"message": {"token": "first", "token": "second"}}'
    assert sender.post(None, raw=raw).status_code == 200
    assert inbox.messages()[0].token == "second"


def test_retired_endpoints_answer_googles_404_page(sender: Sender, emulator: FcmEmulator) -> None:
    for path in ("/batch", "/fcm/send"):
        response = sender.session.post(emulator.base_url + path, data=json.dumps({"to": "x"}))
        assert response.status_code == 404
        assert "was not found on this server" in response.text
