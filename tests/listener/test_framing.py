"""The pure parts: identifier spelling, default Origin, frame decoding without a socket."""
from __future__ import annotations

import json

import pytest

from harness.listener.actioncable import ActionCableFraming, identifier_text
from harness.listener.connection import default_origin
from harness.listener.framing import StepKind


@pytest.mark.parametrize(("url", "origin"), [
    ("ws://127.0.0.1:3000/cable?token=x", "http://127.0.0.1:3000"),
    ("wss://api.example.com/cable", "https://api.example.com"),
    ("wss://user:pw@api.example.com:8443/ws", "https://api.example.com:8443"),
])
def test_default_origin(url: str, origin: str) -> None:
    assert default_origin(url) == origin


def test_identifier_spellings() -> None:
    assert identifier_text({"channel": "NotificationsChannel"}) == '{"channel":"NotificationsChannel"}'
    assert identifier_text("NotificationsChannel") == '{"channel":"NotificationsChannel"}'
    given = '{ "channel": "NotificationsChannel", "room": 1 }'
    assert identifier_text(given) == given  # sent exactly as given
    assert identifier_text(None) is None
    with pytest.raises(ValueError, match="empty"):
        identifier_text("  ")


def test_disconnect_reasons_are_named() -> None:
    framing = ActionCableFraming.from_identifier("NotificationsChannel")
    step = framing.decode(json.dumps({"type": "disconnect", "reason": "server_restart", "reconnect": True}))
    assert step.kind is StepKind.REFUSED and step.reason == "ActionCable disconnect (reason server_restart)"


def test_welcome_without_identifier_is_ready_and_unknown_types_are_ignored() -> None:
    framing = ActionCableFraming.from_identifier(None)
    assert framing.decode('{"type":"welcome"}').kind is StepKind.READY
    step = framing.decode('{"type":"future_thing"}')
    assert step.kind is StepKind.CONTROL and "future_thing" in step.reason
