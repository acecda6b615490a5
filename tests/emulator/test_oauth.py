"""The token endpoint (JWT-bearer grant) and bearer checks on send, with google-auth and raw JWTs."""
from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.emulator.fcm import FcmEmulator, FcmInbox
from harness.emulator.fcm.oauth import GOOGLE_TOKEN_URI, JWT_BEARER

from .helpers import FIREBASE_SCOPES, Sender, error_of, fetch_token

NODE_SCOPES = " ".join(f"https://www.googleapis.com/auth/{s}" for s in (
    "cloud-platform", "firebase.database", "firebase.messaging", "identitytoolkit", "userinfo.email"))


def _assertion(info: dict[str, Any], *, kid: bool = True, key_pem: str | None = None, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": info["client_email"], "aud": GOOGLE_TOKEN_URI, "iat": now, "exp": now + 3600,
              "scope": NODE_SCOPES, **overrides}
    claims = {k: v for k, v in claims.items() if v is not None}
    headers = {"kid": info["private_key_id"]} if kid else None
    return jwt.encode(claims, key_pem or info["private_key"], algorithm="RS256", headers=headers)


def _grant(emulator: FcmEmulator, assertion: str, grant_type: str = JWT_BEARER) -> requests.Response:
    return requests.post(emulator.token_uri, data={"grant_type": grant_type, "assertion": assertion}, timeout=10)


def test_google_auth_obtains_a_token(service_account_info: dict[str, Any]) -> None:
    assert fetch_token(service_account_info).startswith("ya29.")


def test_grant_answers_googles_shape(emulator: FcmEmulator, service_account_info: dict[str, Any]) -> None:
    response = _grant(emulator, _assertion(service_account_info))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599


def test_jwt_without_kid_is_found_by_issuer(emulator: FcmEmulator, service_account_info: dict[str, Any],
                                            inbox: FcmInbox) -> None:
    """Node's google-auth-library signs without `kid`."""
    response = _grant(emulator, _assertion(service_account_info, kid=False))
    assert response.status_code == 200
    sender = Sender(emulator, response.json()["access_token"])
    assert sender.message({"token": "t"}).status_code == 200


def test_token_uri_audience_is_accepted(emulator: FcmEmulator, service_account_info: dict[str, Any]) -> None:
    assert _grant(emulator, _assertion(service_account_info, aud=emulator.token_uri)).status_code == 200


def _other_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.mark.parametrize(("change", "error", "text"), [
    ({"key_pem": "other"}, "invalid_grant", "Invalid JWT Signature."),
    ({"aud": "https://example.com/token"}, "invalid_grant", "Failed audience check"),
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "invalid_grant", "short-lived"),
    ({"exp": int(time.time()) + 7200}, "invalid_grant", "short-lived"),
    ({"iss": "nobody@elsewhere.iam.gserviceaccount.com"}, "invalid_grant", "account not found"),
    ({"scope": None}, "invalid_scope", "Invalid OAuth scope"),
])
def test_bad_assertions_are_refused(emulator: FcmEmulator, service_account_info: dict[str, Any],
                                    change: dict[str, Any], error: str, text: str) -> None:
    if change.get("key_pem") == "other":
        change = {"key_pem": _other_key()}
    response = _grant(emulator, _assertion(service_account_info, **change))
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == error and text in body["error_description"]


def test_wrong_grant_type_and_garbage_are_refused(emulator: FcmEmulator, service_account_info: dict[str, Any]) -> None:
    assert _grant(emulator, _assertion(service_account_info), "client_credentials").json()["error"] == (
        "unsupported_grant_type")
    garbage = _grant(emulator, "not-a-jwt")
    assert garbage.status_code == 400 and garbage.json()["error"] == "invalid_grant"


def test_hs256_assertion_is_refused(emulator: FcmEmulator, service_account_info: dict[str, Any]) -> None:
    forged = jwt.encode({"iss": service_account_info["client_email"], "aud": GOOGLE_TOKEN_URI}, "a-shared-secret-that-is-long-enough-for-hs256",
                        algorithm="HS256")
    assert _grant(emulator, forged).status_code == 400


def test_send_without_bearer_is_401_missing(emulator: FcmEmulator, inbox: FcmInbox) -> None:
    response = Sender(emulator, None).message({"token": "t"})
    error = error_of(response)
    assert response.status_code == 401 and error["status"] == "UNAUTHENTICATED"
    assert error["message"].startswith("Request is missing required authentication credential.")
    assert "details" not in error
    assert response.headers["www-authenticate"].startswith("Bearer")
    [attempt] = inbox.attempts()
    assert (attempt.http_status, attempt.error_code, attempt.token) == (401, "UNAUTHENTICATED", "t")
    assert inbox.messages() == []


def test_send_with_unknown_bearer_is_401_invalid(emulator: FcmEmulator, inbox: FcmInbox) -> None:
    response = Sender(emulator, "ya29.forged").message({"token": "t"})
    assert response.status_code == 401
    assert error_of(response)["message"].startswith("Request had invalid authentication credentials.")


def test_token_without_fcm_scope_is_403(emulator: FcmEmulator, service_account_info: dict[str, Any],
                                        inbox: FcmInbox) -> None:
    token = fetch_token(service_account_info, ["https://www.googleapis.com/auth/userinfo.email"])
    response = Sender(emulator, token).message({"token": "t"})
    error = error_of(response)
    assert response.status_code == 403 and error["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    assert FIREBASE_SCOPES  # the default scopes (cloud-platform) do grant access: see the test above


def test_service_accounts_survive_a_restart_with_state_dir(tmp_path: Any) -> None:
    with FcmEmulator(port=0, state_dir=tmp_path) as first:
        info = first.service_account()
        ca = (tmp_path / "ca.pem").read_bytes()
    with FcmEmulator(port=0, state_dir=tmp_path) as second:
        info = {**info, "token_uri": second.token_uri}
        assert fetch_token(info).startswith("ya29.")
        assert (tmp_path / "ca.pem").read_bytes() == ca
