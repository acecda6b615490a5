"""Unmodified firebase-admin (Python) through the emulator's HTTPS proxy: sends, dry runs, errors."""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import firebase_admin
import pytest
from firebase_admin import credentials, exceptions, messaging

from harness.emulator.fcm import FcmEmulator, FcmInbox
from harness.emulator.fcm.oauth import GOOGLE_TOKEN_URI

# The SDK warns that `token` targets are deprecated in favour of `fid`; backends still use tokens.
pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated. Use .*fid:DeprecationWarning")


@pytest.fixture()
def app(emulator: FcmEmulator, credentials_file: Path, inbox: FcmInbox,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[firebase_admin.App]:
    """An app configured only through the environment, as a deployed backend would be."""
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in emulator.backend_env(credentials_file).items():
        monkeypatch.setenv(name, value)
    instance = firebase_admin.initialize_app(credentials.Certificate(str(credentials_file)),
                                             name=f"test-{uuid.uuid4().hex}")
    yield instance
    firebase_admin.delete_app(instance)


def test_send_goes_through_the_proxy(app: firebase_admin.App, inbox: FcmInbox, emulator: FcmEmulator) -> None:
    assert emulator.connect_proxy is not None
    before = len(emulator.connect_proxy.connects)
    message_id = messaging.send(messaging.Message(token="dev-1", data={"type": "friendship"},
                                                  notification=messaging.Notification(title="Hi", body="B")), app=app)
    [captured] = inbox.messages()
    assert captured.name == message_id
    assert captured.message == {"token": "dev-1", "data": {"type": "friendship"},
                                "notification": {"title": "Hi", "body": "B"}}
    assert "fcm.googleapis.com:443" in emulator.connect_proxy.connects[before:]


def test_application_default_credentials(emulator: FcmEmulator, credentials_file: Path, app: firebase_admin.App,
                                         inbox: FcmInbox) -> None:
    """GOOGLE_APPLICATION_CREDENTIALS + GOOGLE_CLOUD_PROJECT alone are enough (credential=None)."""
    default = firebase_admin.initialize_app(name=f"adc-{uuid.uuid4().hex}")
    try:
        messaging.send(messaging.Message(topic="news"), app=default)
    finally:
        firebase_admin.delete_app(default)
    assert inbox.messages()[0].topic == "news"


def test_send_each_and_multicast(app: firebase_admin.App, inbox: FcmInbox) -> None:
    batch = messaging.send_each([messaging.Message(token=f"each-{n}", data={"n": str(n)}) for n in range(5)], app=app)
    assert batch.success_count == 5
    multicast = messaging.send_each_for_multicast(
        messaging.MulticastMessage(tokens=["m-1", "m-2", "m-3"], data={"k": "v"}), app=app)
    assert multicast.success_count == 3
    assert sorted(m.token for m in inbox.messages()) == sorted(
        [f"each-{n}" for n in range(5)] + ["m-1", "m-2", "m-3"])


def test_dry_run_is_validated_not_delivered(app: firebase_admin.App, inbox: FcmInbox) -> None:
    name = messaging.send(messaging.Message(token="dry", data={"a": "b"}), app=app, dry_run=True)
    assert name.endswith("/messages/fake_message_id")
    assert inbox.messages() == []
    assert inbox.attempts()[0].validate_only
    with pytest.raises(exceptions.InvalidArgumentError, match="Invalid data payload key: message_type"):
        messaging.send(messaging.Message(token="dry", data={"message_type": "x"}), app=app, dry_run=True)


def test_each_error_surfaces_as_the_sdks_own_exception(app: firebase_admin.App, inbox: FcmInbox) -> None:
    inbox.revoke_token("gone")
    inbox.set_token_state("foreign", "sender_id_mismatch")
    inbox.inject_fault("QUOTA_EXCEEDED", token="busy")
    inbox.inject_fault("THIRD_PARTY_AUTH_ERROR", token="apns-broken")
    # Retry-After: 1 keeps the SDK's five 503 attempts at about 4 s instead of 7.
    inbox.inject_fault("UNAVAILABLE", token="down", retry_after=1)
    messages = [
        messaging.Message(token="gone"),
        messaging.Message(token="foreign"),
        messaging.Message(token="busy"),
        messaging.Message(token="fine", data={"google.key": "reserved"}),
        messaging.Message(token="down"),
        messaging.Message(token="apns-broken"),
    ]
    started = time.monotonic()
    result = messaging.send_each(messages, app=app)
    elapsed = time.monotonic() - started
    kinds = [type(r.exception) for r in result.responses]
    assert kinds == [messaging.UnregisteredError, messaging.SenderIdMismatchError, messaging.QuotaExceededError,
                     exceptions.InvalidArgumentError, exceptions.UnavailableError, messaging.ThirdPartyAuthError]
    assert elapsed < 15
    per_token = {token: [a.http_status for a in inbox.attempts(token=token)] for token in ("down", "busy", "apns-broken")}
    assert per_token["down"] == [503] * 5  # firebase-admin's retry budget: 1 + 4
    assert per_token["busy"] == [429]  # a 429 without Retry-After is not retried
    assert per_token["apns-broken"] == [401] * 3  # a 401 refreshes the token and resends, twice


def test_503_with_retry_after_is_retried_and_then_succeeds(app: firebase_admin.App, inbox: FcmInbox) -> None:
    inbox.inject_fault("UNAVAILABLE", count=1, retry_after=1)
    started = time.monotonic()
    name = messaging.send(messaging.Message(token="retry-me"), app=app)
    assert time.monotonic() - started >= 1.0  # the SDK honoured Retry-After
    assert [a.http_status for a in inbox.attempts()] == [503, 200]
    assert inbox.messages()[0].name == name


def test_wrong_project_is_permission_denied(emulator: FcmEmulator, credentials_file: Path,
                                            app: firebase_admin.App) -> None:
    other = firebase_admin.initialize_app(credentials.Certificate(str(credentials_file)),
                                          {"projectId": "not-this-one"}, name=f"other-{uuid.uuid4().hex}")
    try:
        with pytest.raises(exceptions.PermissionDeniedError, match="cloudmessaging.messages.create"):
            messaging.send(messaging.Message(token="t"), app=other)
    finally:
        firebase_admin.delete_app(other)


def test_google_token_uri_is_served_through_the_proxy(emulator: FcmEmulator, app: firebase_admin.App,
                                                      inbox: FcmInbox, tmp_path: Path) -> None:
    """A service account with Google's own token_uri: the token request goes to
    oauth2.googleapis.com through the proxy, which serves it too."""
    account = {**emulator.service_account(), "token_uri": GOOGLE_TOKEN_URI}
    path = tmp_path / "google-token-uri.json"
    path.write_text(json.dumps(account))
    assert emulator.connect_proxy is not None
    before = len(emulator.connect_proxy.connects)
    unmodified = firebase_admin.initialize_app(credentials.Certificate(str(path)), name=f"g-{uuid.uuid4().hex}")
    try:
        messaging.send(messaging.Message(token="via-google-oauth"), app=unmodified)
    finally:
        firebase_admin.delete_app(unmodified)
    assert emulator.connect_proxy.connects[before:] == ["oauth2.googleapis.com:443", "fcm.googleapis.com:443"]
    assert inbox.messages()[0].token == "via-google-oauth"
