"""FCM's error bodies: google.rpc.Status JSON with FcmError details, as the real service sends."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"


@dataclass(frozen=True)
class FcmErrorKind:
    """How FCM answers one FcmError code: HTTP status, canonical status, default message."""

    code: str
    http_status: int
    status: str
    message: str


#: FcmError.errorCode -> answer. Messages are the ones observed from the real service
#: (research doc §1.5); QUOTA_EXCEEDED's text has no primary capture and is a guess.
FCM_ERRORS: dict[str, FcmErrorKind] = {
    kind.code: kind
    for kind in (
        FcmErrorKind("INVALID_ARGUMENT", 400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
        FcmErrorKind("UNREGISTERED", 404, "NOT_FOUND", "Requested entity was not found."),
        FcmErrorKind("SENDER_ID_MISMATCH", 403, "PERMISSION_DENIED", "SenderId mismatch"),
        FcmErrorKind("QUOTA_EXCEEDED", 429, "RESOURCE_EXHAUSTED", "Quota exceeded for this device."),
        FcmErrorKind("UNAVAILABLE", 503, "UNAVAILABLE", "The service is currently unavailable."),
        FcmErrorKind("INTERNAL", 500, "INTERNAL", "Internal error encountered."),
        FcmErrorKind(
            "THIRD_PARTY_AUTH_ERROR", 401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service"
        ),
    )
}

MISSING_CREDENTIALS = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)
INVALID_CREDENTIALS = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
    "or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)


@dataclass(frozen=True)
class FcmRejection:
    """A send FCM refuses: what goes on the wire, plus a precise explanation for the inbox.

    `explanation` is what `SendAttempt.error_message` reports; the wire `message` stays as
    terse as the real service's (the 4 KB error, for one, says only "invalid argument").
    """

    http_status: int
    status: str
    message: str
    error_code: str | None
    details: tuple[dict[str, Any], ...] = ()
    explanation: str = ""
    headers: tuple[tuple[str, str], ...] = field(default=())

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.http_status, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = list(self.details)
        return {"error": error}

    @property
    def reason(self) -> str:
        return self.explanation or self.message


class SendRejected(Exception):
    """Raised inside the send pipeline to stop with a rejection (the value travels inside)."""

    def __init__(self, rejection: FcmRejection) -> None:
        super().__init__(rejection.reason)
        self.rejection = rejection


def fcm_error(
    code: str,
    message: str | None = None,
    *,
    field_path: str | None = None,
    explanation: str = "",
    retry_after: int | None = None,
) -> FcmRejection:
    """An error with an FcmError detail (what firebase-admin maps to its own exception classes)."""
    kind = FCM_ERRORS[code]
    details: list[dict[str, Any]] = [{"@type": FCM_ERROR_TYPE, "errorCode": code}]
    text = message or kind.message
    if field_path is not None:
        details.append(
            {"@type": BAD_REQUEST_TYPE, "fieldViolations": [{"field": field_path, "description": text}]}
        )
    headers = (("Retry-After", str(retry_after)),) if retry_after is not None else ()
    return FcmRejection(
        kind.http_status, kind.status, text, code, tuple(details), explanation or text, headers
    )


def invalid_json(message: str, *, explanation: str = "") -> FcmRejection:
    """A proto3-JSON parse error: 400 with a BadRequest detail and no FcmError (as Google's ESF)."""
    details = ({"@type": BAD_REQUEST_TYPE, "fieldViolations": [{"description": message}]},)
    return FcmRejection(400, "INVALID_ARGUMENT", message, "INVALID_ARGUMENT", details, explanation or message)


def bare_invalid_argument(explanation: str) -> FcmRejection:
    """The over-size payload answer: a bare 400 without details, as observed from FCM."""
    return FcmRejection(
        400, "INVALID_ARGUMENT", FCM_ERRORS["INVALID_ARGUMENT"].message, "INVALID_ARGUMENT", (), explanation
    )


def unauthenticated(missing: bool) -> FcmRejection:
    """401 for a missing or unknown bearer token: Google's generic text, no FcmError."""
    message = MISSING_CREDENTIALS if missing else INVALID_CREDENTIALS
    return FcmRejection(
        401,
        "UNAUTHENTICATED",
        message,
        "UNAUTHENTICATED",
        explanation="no bearer token" if missing else "unknown or expired bearer token",
        headers=(("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/"'),),
    )


def permission_denied(message: str, reason: str, metadata: dict[str, str]) -> FcmRejection:
    """403 from Google's front end (IAM or scopes), before FCM itself looks at the message."""
    details = ({"@type": ERROR_INFO_TYPE, "reason": reason, "domain": "googleapis.com", "metadata": metadata},)
    return FcmRejection(403, "PERMISSION_DENIED", message, "PERMISSION_DENIED", details, message)
