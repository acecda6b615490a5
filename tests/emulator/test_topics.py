"""FCM v1 topic subscriptions: firebase-admin's subscribe/unsubscribe through the proxy, raw edge cases."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import firebase_admin
import pytest
from firebase_admin import credentials, messaging

from harness.emulator.fcm import FcmEmulator, FcmInbox

from .helpers import Sender, error_of, fcm_code

TOKENS = ["cXk1:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx", "tok/with/slashes"]


@pytest.fixture()
def app(emulator: FcmEmulator, credentials_file: Path, inbox: FcmInbox,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[firebase_admin.App]:
    for name, value in emulator.backend_env(credentials_file).items():
        monkeypatch.setenv(name, value)
    instance = firebase_admin.initialize_app(credentials.Certificate(str(credentials_file)),
                                             name=f"topics-{uuid.uuid4().hex}")
    yield instance
    firebase_admin.delete_app(instance)


def test_subscribe_and_unsubscribe_with_firebase_admin(app: firebase_admin.App, inbox: FcmInbox) -> None:
    result = messaging.subscribe_to_topic(TOKENS, "news", app=app)
    assert (result.success_count, result.failure_count) == (2, 0)
    assert inbox.subscriptions() == {token: ["news"] for token in TOKENS}
    again = messaging.subscribe_to_topic(TOKENS[:1], "news", app=app)  # 409 counts as success
    assert again.success_count == 1
    gone = messaging.unsubscribe_from_topic(TOKENS + ["never-subscribed"], "news", app=app)
    assert gone.success_count == 3  # allow_missing=true
    assert inbox.subscriptions() == {}


def test_revoked_token_fails_its_subscription(app: firebase_admin.App, inbox: FcmInbox) -> None:
    inbox.revoke_token("old")
    result = messaging.subscribe_to_topic(["old", "fresh"], "sports", app=app)
    assert result.success_count == 1
    assert [(e.index, e.reason) for e in result.errors] == [(0, "UNREGISTERED")]
    assert inbox.subscriptions() == {"fresh": ["sports"]}


def test_raw_subscription_checks(sender: Sender, emulator: FcmEmulator, inbox: FcmInbox) -> None:
    base = f"{emulator.base_url}/v1/projects/{emulator.project_id}/registrations"
    headers = {"Authorization": f"Bearer {sender.token}"}
    bad_topic = sender.session.post(f"{base}/t/topicSubscriptions?topic_name=bad%20topic", headers=headers, json={})
    assert bad_topic.status_code == 400 and fcm_code(error_of(bad_topic)) == "INVALID_ARGUMENT"
    missing = sender.session.delete(f"{base}/t/topicSubscriptions/news", headers=headers)
    assert missing.status_code == 404 and error_of(missing)["status"] == "NOT_FOUND"
    anonymous = sender.session.post(f"{base}/t/topicSubscriptions?topicName=news", json={})
    assert anonymous.status_code == 401
    ok = sender.session.post(f"{base}/t/topicSubscriptions?topicName=news", headers=headers, json={})
    assert ok.status_code == 200 and ok.json()["name"].endswith("/registrations/t/topicSubscriptions/news")
    unknown = sender.session.post(f"{base}/t/somethingElse", headers=headers, json={})
    assert unknown.status_code == 404
