"""Helpers for the FCM emulator tests: a raw send client, token fetching, error-body checks."""
from __future__ import annotations

import json
from typing import Any

import requests
from google.auth.transport.requests import Request as GoogleRequest
from google.oauth2 import service_account

from harness.emulator.fcm import FcmEmulator

FIREBASE_SCOPES = [
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/firebase",
]


def fetch_token(info: dict[str, Any], scopes: list[str] | None = None) -> str:
    credentials = service_account.Credentials.from_service_account_info(info, scopes=scopes or FIREBASE_SCOPES)
    session = requests.Session()
    session.trust_env = False
    credentials.refresh(GoogleRequest(session))
    assert credentials.token
    return str(credentials.token)


class Sender:
    """Raw HTTP client for the send endpoint (what a hand-written backend does)."""

    def __init__(self, emulator: FcmEmulator, token: str | None) -> None:
        self.url = f"{emulator.base_url}/v1/projects/{emulator.project_id}/messages:send"
        self.session = requests.Session()
        self.session.trust_env = False
        self.token = token

    def post(self, body: Any, *, raw: bytes | None = None, url: str | None = None,
             token: str | None = None) -> requests.Response:
        headers = {"Content-Type": "application/json"}
        bearer = token if token is not None else self.token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        data = raw if raw is not None else json.dumps(body).encode()
        return self.session.post(url or self.url, data=data, headers=headers, timeout=10)

    def message(self, message: dict[str, Any], **extra: Any) -> requests.Response:
        return self.post({"message": message, **extra})


def error_of(response: requests.Response) -> dict[str, Any]:
    """The google.rpc.Status inside an error response, checked for shape."""
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert error["code"] == response.status_code
    return error


def fcm_code(error: dict[str, Any]) -> str | None:
    for detail in error.get("details", []):
        if detail["@type"] == "type.googleapis.com/google.firebase.fcm.v1.FcmError":
            return str(detail["errorCode"])
    return None
