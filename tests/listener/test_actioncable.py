"""Listener with ActionCable framing against a scripted server that follows Rails' protocol."""
from __future__ import annotations

import json
import time

import pytest

from harness.listener import ConnectError, Listener, probe
from harness.listener.connection import PINGS_RECORDED
from harness.transcript import Transcript

from .scripted_ws import ScriptedServer, broadcast, cable, cable_server, ping

CHANNEL = {"channel": "NotificationsChannel"}
IDENTIFIER = json.dumps(CHANNEL, separators=(",", ":"))
NOTE = {"message_type": "api_chat_message", "message": "hi", "thread": {"id": 3}}


def test_welcome_subscribe_confirm_then_ready() -> None:
    with cable_server(cable()) as server:
        with Listener(server.url("/cable"), framing="actioncable", identifier=CHANNEL) as listener:
            listener.connect()
            assert listener.is_open
    offered = [p.strip() for p in server.requests[0].headers["sec-websocket-protocol"].split(",")]
    assert offered == ["actioncable-v1-json", "actioncable-unsupported"]
    command = json.loads(server.received[0])
    assert command["command"] == "subscribe"
    # the identifier travels as a JSON *string* inside the JSON frame
    assert isinstance(command["identifier"], str) and json.loads(command["identifier"]) == CHANNEL


def test_bare_channel_name_is_a_channel_identifier() -> None:
    with cable_server(cable()) as server:
        with Listener(server.url("/cable"), framing="actioncable", identifier="NotificationsChannel") as listener:
            listener.connect()
    assert json.loads(json.loads(server.received[0])["identifier"]) == CHANNEL


def test_broadcast_is_unwrapped_and_pings_are_not_delivered() -> None:
    frames = (ping(1), broadcast(IDENTIFIER, NOTE), ping(2), ping(3), ping(4), ping(5),
              broadcast(IDENTIFIER, {"n": 2}))
    transcript = Transcript()
    with cable_server(cable(after_confirm=frames)) as server:
        with Listener(server.url("/cable"), framing="actioncable", identifier=CHANNEL,
                      transcript=transcript, label="B") as listener:
            listener.connect()
            got = listener.wait_count(lambda r: True, 2, timeout=2)
            time.sleep(0.1)  # room for a wrongly delivered trailing frame
            assert len(listener.messages()) == 2
    assert [r.payload for r in got] == [NOTE, {"n": 2}]
    assert got[0].raw == frames[1] and got[0].parse_error is None
    recorded_pings = [e for e in transcript.entries()
                      if e.kind == "frame" and '"ping"' in e.data["text"]]
    assert len(recorded_pings) == PINGS_RECORDED
    closed = next(e for e in transcript.entries() if e.data.get("event") == "closed")
    assert closed.data["pings"] == 5
    directions = [(e.data["direction"], json.loads(e.data["text"]).get("type") or json.loads(e.data["text"]).get("command"))
                  for e in transcript.entries() if e.kind == "frame"][:3]
    assert directions == [("in", "welcome"), ("out", "subscribe"), ("in", "confirm_subscription")]


def test_identifiers_are_compared_by_parsed_value() -> None:
    def reserialised(identifier: str) -> str:
        # same value, other spelling: spaces and reversed key order
        return json.dumps(dict(reversed(list(json.loads(identifier).items()))), indent=1)

    identifier = {"channel": "NotificationsChannel", "device": 7}
    with cable_server(cable(echo_identifier=reserialised)) as server:
        with Listener(server.url("/cable"), framing="actioncable", identifier=identifier) as listener:
            listener.connect(timeout=2)


def test_confirmation_for_another_identifier_is_not_readiness() -> None:
    other = json.dumps({"channel": "ChatChannel"})
    with cable_server(cable(echo_identifier=lambda _: other)) as server:
        listener = Listener(server.url("/cable"), framing="actioncable", identifier=CHANNEL, label="A")
        with pytest.raises(ConnectError, match="A: not ready after 0.5 s .no confirm_subscription"):
            listener.connect(timeout=0.5)


def test_reject_subscription_raises() -> None:
    with cable_server(cable(reject=True)) as server:
        listener = Listener(server.url("/cable"), framing="actioncable", identifier=CHANNEL, label="A")
        with pytest.raises(ConnectError) as info:
            listener.connect()
    assert "reject_subscription" in str(info.value) and str(info.value).startswith("A: subscription rejected")


def test_disconnect_unauthorized_raises_and_probe_reports_refusal() -> None:
    with cable_server(cable(unauthorized=True)) as server:
        listener = Listener(server.url("/cable"), framing="actioncable", identifier=CHANNEL, label="A")
        with pytest.raises(ConnectError, match=r"^A: ActionCable disconnect \(reason unauthorized\)$"):
            listener.connect()
        verdict = probe(server.url("/cable"), framing="actioncable", identifier=CHANNEL)
    assert verdict.refused and verdict.how == "ActionCable disconnect (reason unauthorized)"


def test_probe_accepts_after_confirmation_and_reports_missing_welcome() -> None:
    with cable_server(cable()) as server:
        verdict = probe(server.url("/cable"), framing="actioncable", identifier=CHANNEL)
    assert not verdict.refused and verdict.how == "accepted"
    with cable_server(cable(welcome=False)) as server:
        verdict = probe(server.url("/cable"), framing="actioncable", wait=0.3)
    assert not verdict.refused and verdict.how == "open without welcome after 0.3 s"


def test_no_welcome_times_out_clearly() -> None:
    with cable_server(cable(welcome=False)) as server:
        listener = Listener(server.url("/cable"), framing="actioncable", identifier=CHANNEL)
        start = time.monotonic()
        with pytest.raises(ConnectError, match="not ready after 0.4 s"):
            listener.connect(timeout=0.4)
    assert time.monotonic() - start < 2


def test_undecodable_cable_frames_are_delivered_with_parse_error() -> None:
    frames = ("garbage", json.dumps({"unexpected": 1}), json.dumps([1, 2]))
    with cable_server(cable(after_confirm=frames)) as server:
        with Listener(server.url("/cable"), framing="actioncable", identifier=CHANNEL) as listener:
            listener.connect()
            got = listener.wait_count(lambda r: True, 3, timeout=2)
    assert [r.payload for r in got] == list(frames)
    assert [r.parse_error.split(":")[0] if r.parse_error else None for r in got] == [
        "not JSON", "ActionCable frame has neither `type` nor `message`", "ActionCable frame is not a JSON object"]


def test_bad_identifier_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        Listener("ws://127.0.0.1:1/cable", framing="actioncable", identifier="{channel:")
    with pytest.raises(ValueError, match="with a `channel`"):
        Listener("ws://127.0.0.1:1/cable", framing="actioncable", identifier='{"room": 1}')


def test_server_without_the_cable_subprotocol_is_a_clear_connect_error() -> None:
    with ScriptedServer(cable()) as server:  # selects no subprotocol
        listener = Listener(server.url("/cable"), framing="actioncable", identifier=CHANNEL, label="A")
        with pytest.raises(ConnectError, match="did not select one of the offered subprotocols actioncable-v1-json"):
            listener.connect()
