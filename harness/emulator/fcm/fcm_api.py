"""The Google-side endpoints: FCM v1 `messages:send` and the OAuth token endpoint."""
from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from harness.emulator.fcm.errors import (
    FcmRejection,
    SendRejected,
    fcm_error,
    permission_denied,
    unauthenticated,
)
from harness.emulator.fcm.models import CapturedMessage, SendAttempt
from harness.emulator.fcm.oauth import GOOGLE_TOKEN_URI, SEND_SCOPES, OAuthAuthority, TokenError, bearer_token
from harness.emulator.fcm.responses import JSON_TYPE, json_response
from harness.emulator.fcm.state import EmulatorState
from harness.emulator.fcm.validation import SendRequest, parse_send_body


_ids = random.Random()
JSON_TYPE_BYTES = JSON_TYPE.encode()


@dataclass(frozen=True)
class Endpoints:
    """Where the emulator listens, known once its sockets are bound."""

    project_id: str
    project_number: str
    base_url: str
    proxy_url: str | None
    host_mode_url: str | None
    ca_cert_pem: str

    @property
    def token_uri(self) -> str:
        return self.base_url + "/token"


class FcmApi:
    """Handlers for the routes an FCM client calls."""

    def __init__(self, state: EmulatorState, oauth: OAuthAuthority, endpoints: Endpoints) -> None:
        self.state = state
        self.oauth = oauth
        self.endpoints = endpoints

    async def token(self, request: Request) -> Response:
        body = await request.body()
        # google-auth always signs aud = Google's token URL; some clients use the token_uri.
        answer = self.oauth.grant(body, (GOOGLE_TOKEN_URI, self.endpoints.token_uri))
        if isinstance(answer, TokenError):
            return json_response(answer.body(), answer.http_status)
        return json_response(answer, headers={"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate"})

    async def send(self, scope: Scope, receive: Receive, send: Send) -> None:
        """`POST /v1/projects/{project}/messages:send`, as a bare ASGI app.

        The hottest route skips Starlette's Request/Response objects: it is what a backend under
        load hits, and the bench compares it with a bare hello endpoint.
        """
        raw = b""
        while True:
            event = await receive()
            raw += event.get("body", b"")
            if not event.get("more_body", False):
                break
        authorization = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None)
        status, body, headers = await self.handle_send(scope["path_params"]["project"], authorization, raw)
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", JSON_TYPE_BYTES), (b"content-length", str(len(body)).encode()),
            *((name.lower().encode(), value.encode()) for name, value in headers)]})
        await send({"type": "http.response.body", "body": body})

    async def handle_send(
        self, project: str, authorization: str | None, raw: bytes
    ) -> tuple[int, bytes, tuple[tuple[str, str], ...]]:
        """Check, fault-inject and record one send: (HTTP status, JSON body, extra headers)."""
        received_at = time.time()
        seq = self.state.next_seq()
        parsed: SendRequest | None = None
        try:
            self.authorize(authorization, project)
            parsed = parse_send_body(raw)
            await self._deliverability(parsed)
        except SendRejected as rejected:
            rejection = rejected.rejection
            self._record_rejection(seq, received_at, raw, parsed, rejection)
            return rejection.http_status, orjson.dumps(rejection.body()), rejection.headers
        message = parsed.message
        if parsed.validate_only:
            name = f"projects/{project}/messages/fake_message_id"
        else:
            # FCM's id shape, 0:<16 digits>%<16 hex>; unique, not secret (no syscall per send).
            name = f"projects/{project}/messages/0:{time.time_ns() // 1000 % 10**16:016d}%{_ids.getrandbits(64):016x}"
        target = parsed.target
        token = parsed.recipient if target in ("token", "fid") else None
        topic = parsed.recipient if target == "topic" else None
        condition = parsed.recipient if target == "condition" else None
        attempt = SendAttempt(seq, received_at, token, 200, None, None, message, parsed.validate_only, topic, condition)
        delivered = None if parsed.validate_only else CapturedMessage(
            seq, received_at, token, topic, condition, message, name
        )
        self.state.record(attempt, delivered)
        return 200, orjson.dumps({"name": name}), ()

    def authorize(self, authorization: str | None, project: str) -> None:
        """Bearer token, its scope, then the project: Google's checks before FCM's own."""
        token = bearer_token(authorization)
        if token is None:
            raise SendRejected(unauthenticated(missing=True))
        grant = self.oauth.grant_for(token)
        if grant is None:
            raise SendRejected(unauthenticated(missing=False))
        if not grant.scopes & SEND_SCOPES:
            raise SendRejected(permission_denied(
                "Request had insufficient authentication scopes.",
                "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                {"service": "fcm.googleapis.com", "method": "google.firebase.fcm.v1.FcmService.SendMessage"},
            ))
        if project not in (self.endpoints.project_id, self.endpoints.project_number):
            raise SendRejected(permission_denied(
                f"Permission 'cloudmessaging.messages.create' denied on resource "
                f"'//cloudresourcemanager.googleapis.com/projects/{project}' (or it may not exist).",
                "IAM_PERMISSION_DENIED",
                {"permission": "cloudmessaging.messages.create",
                 "resource": f"projects/{project}"},
            ))

    async def _deliverability(self, parsed: SendRequest) -> None:
        """Token state, then injected faults: the checks after the message itself is valid."""
        token = parsed.recipient if parsed.target in ("token", "fid") else None
        if token is not None:
            token_state = self.state.token_state(token)
            if token_state == "unregistered" or (token_state is None and self.state.strict_tokens):
                raise SendRejected(fcm_error(
                    "UNREGISTERED",
                    explanation=f"token {token!r} is "
                    + ("revoked" if token_state else "not registered (the emulator runs with strict tokens)"),
                ))
            if token_state == "sender_id_mismatch":
                raise SendRejected(fcm_error(
                    "SENDER_ID_MISMATCH", explanation=f"token {token!r} belongs to another sender"
                ))
        fault = self.state.take_fault(token)
        if fault is None:
            return
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.code is not None:
            raise SendRejected(fcm_error(
                fault.code, retry_after=fault.retry_after, explanation=f"injected fault {fault.id}: {fault.code}"
            ))

    def _record_rejection(
        self, seq: int, received_at: float, raw: bytes, parsed: SendRequest | None, rejection: FcmRejection
    ) -> None:
        message, validate_only = (parsed.message, parsed.validate_only) if parsed else _peek(raw)
        targets = {name: _target(message, name) for name in ("token", "fid", "topic", "condition")}
        self.state.record(
            SendAttempt(
                seq, received_at, targets["token"] or targets["fid"], rejection.http_status,
                rejection.error_code, rejection.reason, message, validate_only,
                targets["topic"], targets["condition"],
            ),
            None,
        )


def _peek(raw: bytes) -> tuple[dict[str, Any] | None, bool]:
    """Best-effort read of a body that was refused, so the attempt log still shows it."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None, False
    if not isinstance(body, dict):
        return None, False
    message = body.get("message")
    validate_only = body.get("validate_only", body.get("validateOnly", False))
    return (message if isinstance(message, dict) else None), validate_only is True


def _target(message: dict[str, Any] | None, name: str) -> str | None:
    value = message.get(name) if message else None
    return value if isinstance(value, str) else None
