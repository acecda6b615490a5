"""The values a listener hands out: received messages, refusal verdicts and connect errors."""
from __future__ import annotations

import dataclasses
from typing import Any


class ConnectError(Exception):
    """Could not connect or was refused; str() is one clear line.

    `label` names the listener (or its redacted URL) and `reason` says what went wrong,
    e.g. "HTTP 403 on upgrade of ws://host/ws?token=***" or "ActionCable disconnect (reason unauthorized)".
    """

    def __init__(self, reason: str, *, label: str = "") -> None:
        self.reason = reason
        self.label = label
        super().__init__(f"{label}: {reason}" if label else reason)


class UpgradeRefused(ConnectError):
    """The server answered the WebSocket upgrade with an HTTP status other than 101.

    `url` is the URL it tried, credentials redacted, so a wrong websocket.url shows in the message.
    """

    def __init__(self, status: int, *, label: str = "", hint: str = "", url: str = "") -> None:
        self.status = status
        self.url = url
        super().__init__(f"HTTP {status} on upgrade{f' of {url}' if url else ''}{hint}", label=label)


@dataclasses.dataclass(frozen=True)
class Received:
    """One notification as it arrived on one connection."""

    #: Per-listener order of arrival, from 0 (control frames such as pings are not counted).
    seq: int
    #: `time.monotonic()` at arrival.
    t: float
    #: The decoded notification: the JSON of a plain text frame, or the `message` member of an
    #: ActionCable broadcast. For a frame that could not be decoded, the raw text.
    payload: Any
    #: The frame text as received.
    raw: str
    #: Set when the frame could not be decoded (not JSON, or not a frame of the framing).
    parse_error: str | None


@dataclasses.dataclass(frozen=True)
class Refusal:
    """How a connection attempt without (or with bad) credentials went."""

    refused: bool
    #: e.g. "HTTP 403 on upgrade", "ActionCable disconnect (reason unauthorized)",
    #: "connection closed (code 1008)", or "accepted" when not refused.
    how: str
    #: Anything delivered to the connection before the verdict.
    received: tuple[Received, ...]
    #: The HTTP status the upgrade was answered with, when it was refused there.
    status: int | None = None

    @property
    def as_the_contract_asks(self) -> bool:
        """Refused the way the contract says (AUTH-001/002): HTTP 401/403 on the upgrade, or an
        ActionCable `disconnect` with reason `unauthorized`. Accepting the upgrade and closing
        afterwards, or rejecting only the subscription, is not such a refusal."""
        return self.status in (401, 403) or self.how == "ActionCable disconnect (reason unauthorized)"
