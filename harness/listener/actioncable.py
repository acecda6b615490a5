"""ActionCable framing (Rails' actioncable-v1-json): welcome, subscribe, confirm, broadcasts, pings."""
from __future__ import annotations

import dataclasses
import json
from typing import Any, ClassVar

from harness.listener.framing import Step, StepKind
from harness.listener.plain import decode_json

#: What @rails/actioncable offers; Rails picks the first, the second marks a client it cannot serve.
PROTOCOLS = ["actioncable-v1-json", "actioncable-unsupported"]


def identifier_text(identifier: dict[str, Any] | str | None) -> str | None:
    """The identifier as the JSON string ActionCable carries inside its frames.

    A dict is serialised compactly, as @rails/actioncable's `JSON.stringify` does; a string is
    either such a JSON object text (sent as given) or a bare channel name.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return json.dumps(identifier, separators=(",", ":"))
    if identifier.lstrip().startswith("{"):
        try:
            parsed = json.loads(identifier)
        except ValueError as exc:
            raise ValueError(f"ActionCable identifier {identifier!r} is not valid JSON: {exc}") from None
        if not isinstance(parsed, dict) or "channel" not in parsed:
            raise ValueError(f"ActionCable identifier {identifier!r} is not an object with a `channel`")
        return identifier
    if not identifier.strip():
        raise ValueError("ActionCable identifier is empty: give a channel name, e.g. NotificationsChannel")
    return json.dumps({"channel": identifier}, separators=(",", ":"))


def _parsed(identifier: Any) -> Any:
    """Identifiers are compared by parsed value: the server may reorder or re-space the keys."""
    if not isinstance(identifier, str):
        return None
    try:
        return json.loads(identifier)
    except ValueError:
        return None


@dataclasses.dataclass(frozen=True)
class ActionCableFraming:
    """Ready after `welcome`, or, with an identifier, after `confirm_subscription` for it."""

    name: ClassVar[str] = "actioncable"
    default_subprotocols: ClassVar[list[str] | None] = PROTOCOLS

    #: The JSON string sent in `subscribe`; None: connect only (no subscription).
    identifier: str | None

    @classmethod
    def from_identifier(cls, identifier: dict[str, Any] | str | None) -> ActionCableFraming:
        return cls(identifier_text(identifier))

    def subscribe_frame(self) -> str:
        return json.dumps({"command": "subscribe", "identifier": self.identifier})

    def _ours(self, frame: dict[str, Any]) -> bool:
        return self.identifier is not None and _parsed(frame.get("identifier")) == _parsed(self.identifier)

    def opened(self) -> Step:
        return Step(StepKind.CONTROL, reason="upgrade accepted; waiting for welcome")

    def decode(self, text: str) -> Step:
        step = decode_json(text)
        if step.parse_error is not None:
            return step
        frame = step.payload
        if not isinstance(frame, dict):
            return Step(StepKind.MESSAGE, payload=text, parse_error="ActionCable frame is not a JSON object")
        kind = frame.get("type")
        if kind == "ping":
            return Step(StepKind.PING)
        if kind == "welcome":
            if self.identifier is None:
                return Step(StepKind.READY)
            return Step(StepKind.CONTROL, reason="welcome; subscribing", reply=self.subscribe_frame())
        if kind == "disconnect":
            return Step(StepKind.REFUSED, reason=f"ActionCable disconnect (reason {frame.get('reason')})")
        if kind == "confirm_subscription" and self._ours(frame):
            return Step(StepKind.READY)
        if kind == "reject_subscription" and self._ours(frame):
            return Step(StepKind.REFUSED, reason=f"subscription rejected (reject_subscription for {self.identifier})")
        if kind is None and "message" in frame:
            # a broadcast: the notification is the `message` member
            return Step(StepKind.MESSAGE, payload=frame["message"])
        if kind is None:
            return Step(StepKind.MESSAGE, payload=text,
                        parse_error="ActionCable frame has neither `type` nor `message`")
        return Step(StepKind.CONTROL, reason=f"ActionCable frame of type {kind!r} ignored")
