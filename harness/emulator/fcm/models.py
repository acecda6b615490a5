"""The values the emulator records and its inbox returns: captured messages and send attempts."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class CapturedMessage:
    """A push FCM accepted for delivery (dry runs are not captured)."""

    seq: int
    received_at: float  # time.time() when the send arrived
    token: str | None  # the registration token (or FID) it targets
    topic: str | None
    condition: str | None
    message: dict[str, Any]  # the v1 message object exactly as the backend sent it
    name: str  # "projects/{p}/messages/{id}", as returned to the sender

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CapturedMessage:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class SendAttempt:
    """Any request to the send endpoint, including rejected ones and dry runs."""

    seq: int
    received_at: float
    token: str | None
    http_status: int
    error_code: str | None  # FcmError code, else the canonical status (e.g. UNAUTHENTICATED)
    error_message: str | None  # why it was refused, more precise than FCM's wire message
    message: dict[str, Any] | None  # the message object if the body held one
    validate_only: bool
    topic: str | None = None
    condition: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SendAttempt:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})
