"""Plain framing: every text frame is one notification, a JSON object."""
from __future__ import annotations

import json

from harness.listener.framing import Step, StepKind


def decode_json(text: str) -> Step:
    """A MESSAGE step for one JSON text; undecodable text is delivered raw with `parse_error`."""
    try:
        return Step(StepKind.MESSAGE, payload=json.loads(text))
    except ValueError as exc:
        return Step(StepKind.MESSAGE, payload=text, parse_error=f"not JSON: {exc}")


class PlainFraming:
    """The socket is ready once the upgrade succeeds; the server sends notifications as they are."""

    name = "plain"
    default_subprotocols: list[str] | None = None

    def opened(self) -> Step:
        return Step(StepKind.READY)

    def decode(self, text: str) -> Step:
        return decode_json(text)
