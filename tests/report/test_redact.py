"""The redaction safety net masks credentials by shape and keeps device tokens and ids."""
from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from harness.report.redact import REDACTED, scrub, scrub_text

DEVICE = "fcm-device-token-abc123"


@pytest.mark.parametrize(("text", "secret"), [
    ("curl -H 'Authorization: Bearer abc.def-ghi'", "abc.def-ghi"),
    ("Authorization: Token token=\"rails-user-token-1\"", "rails-user-token-1"),
    ('{"Authorization": "Basic dXNlcjpwYXNz"}', "dXNlcjpwYXNz"),
    ("GET ws://127.0.0.1:8000/cable?token=s3cr3t-user&x=1", "s3cr3t-user"),
    ("POST /oauth?grant=x&access_token=at-999", "at-999"),
    ("https://fcm.googleapis.com/v1?key=AIzaSyPlanted", "AIzaSyPlanted"),
    ("using ya29.c.Kp6BAbcdef_ghi-jkl now", "Kp6BAbcdef_ghi-jkl"),
    ("emulator gave emu-token-77aa88", "77aa88"),
    ('{"access_token": "opaque-at-1", "expires_in": 3599}', "opaque-at-1"),
    ('{"private_key": "no-pem-just-text"}', "no-pem-just-text"),
    ("assertion eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJzYSJ9.c2lnbmF0dXJl here", "eyJpc3MiOiJzYSJ9"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA"),
    ('"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADAN\\nQC7abc\\n-----END PRIVATE KEY-----\\n"', "MIIEvQIBADAN"),
    ("truncated: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANtrunc", "MIIEvQIBADANtrunc"),
])
def test_text_secrets_are_masked(text: str, secret: str) -> None:
    scrubbed = scrub_text(text)
    assert secret not in scrubbed
    assert REDACTED in scrubbed


@pytest.mark.parametrize("text", [
    "friendship status changed",
    '{"message_type": "api_friendship_status", "status": "new_request", "friend_id": 12, "open_requests": 1}',
    "POST /friendships/7/accept -> 200",
    "the push targets the device token and carries the payload",
    "/friend_id: '12' is not of type integer",
])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert scrub_text(text) == text


def test_structures_mask_secret_keys_and_keep_the_device_token() -> None:
    entry = {
        "request_headers": {"Authorization": "Token abc", "Cookie": "session=1", "X-Auth-Token": "x1", "Accept": "*/*"},
        "request_body": {"private_key": "k", "client_secret": "cs", "password": 1234, "user_id": 12},
        "message": {"token": DEVICE, "data": {"friend_id": "12"}},
        "list": [{"access_token": "a"}, ("refresh_token=r1",)],
        "authorization": None,
    }
    out = scrub(entry)
    assert out["request_headers"] == {"Authorization": REDACTED, "Cookie": REDACTED, "X-Auth-Token": REDACTED, "Accept": "*/*"}
    assert out["request_body"] == {"private_key": REDACTED, "client_secret": REDACTED, "password": REDACTED, "user_id": 12}
    assert out["message"] == {"token": DEVICE, "data": {"friend_id": "12"}}
    assert out["list"] == [{"access_token": REDACTED}, (f"refresh_token={REDACTED}",)]
    assert out["authorization"] is None  # "no header was sent" is evidence
    assert entry["request_body"]["private_key"] == "k"  # the input is not mutated


def test_scrub_is_idempotent() -> None:
    text = "Authorization: Bearer abc ?token=x -----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY----- ya29.zz"
    once = scrub_text(text)
    assert scrub_text(once) == once


_TOKEN68 = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/", min_size=8, max_size=40)
_SEPARATED = st.text(max_size=30).map(lambda s: s + " ")


@settings(max_examples=200, deadline=None)
@given(prefix=_SEPARATED, secret=_TOKEN68, suffix=st.text(max_size=30),
       form=st.sampled_from(["Bearer {}", "Authorization: {}", "?token={}", "&access_token={}", "ya29.{}"]))
def test_any_token68_secret_in_any_text_is_masked(prefix: str, secret: str, suffix: str, form: str) -> None:
    assume(secret not in prefix + suffix)
    text = prefix + form.format(secret) + "\n" + suffix
    assert secret not in scrub_text(text)
