"""Property tests: whatever a backend posts to messages:send, the answer is FCM-shaped, never a 5xx."""
from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.emulator.fcm import FcmInbox

from .helpers import Sender

SCALARS = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False,
                                                                               allow_infinity=False) | st.text(max_size=12)
FIELD_NAMES = st.sampled_from([
    "token", "topic", "condition", "fid", "data", "notification", "android", "apns", "webpush", "fcm_options",
    "fcmOptions", "name", "title", "body", "priority", "ttl", "headers", "payload", "collapse_key", "x",
])
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(FIELD_NAMES, inner,
                                                                                           max_size=4), max_leaves=12)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


def _check(response: Any) -> None:
    assert response.status_code in (200, 400, 404), response.text
    body = response.json()
    if response.status_code == 200:
        assert body["name"].startswith("projects/")
    else:
        assert set(body["error"]) >= {"code", "message", "status"}
        assert body["error"]["code"] == response.status_code


def test_any_message_object_gets_an_fcm_answer(sender: Sender, inbox: FcmInbox) -> None:
    @SETTINGS
    @given(st.dictionaries(FIELD_NAMES, JSON, max_size=5), st.booleans())
    def check(message: dict[str, Any], dry_run: bool) -> None:
        _check(sender.message(message, validate_only=dry_run))

    check()


def test_any_body_bytes_get_an_fcm_answer(sender: Sender, inbox: FcmInbox) -> None:
    @SETTINGS
    @given(st.binary(max_size=64) | JSON.map(lambda value: json.dumps(value).encode()))
    def check(raw: bytes) -> None:
        _check(sender.post(None, raw=raw))

    check()
    assert all(a.http_status < 500 for a in inbox.attempts())
