"""The Listener against Rails' own ActionCable server: subscribe, broadcast_to, refusals, pings."""
from __future__ import annotations

import pytest

from harness.listener import ConnectError, Listener, connect_all, probe
from harness.transcript import Transcript
from harness.validation import validate

from .conftest import RailsCable

CHANNEL = {"channel": "NotificationsChannel"}
NEW_REQUEST = {"message": "friendship status changed", "message_type": "api_friendship_status",
               "status": "new_request", "friend_id": 2, "open_requests": 1}
MARKER = {"message": "marker", "message_type": "api_chat_message", "thread": {"id": 9}}


def _listener(rails: RailsCable, token: str, label: str, transcript: Transcript | None = None,
              **kwargs: object) -> Listener:
    return Listener(f"{rails.cable_url}?token={token}", framing="actioncable", identifier=CHANNEL,
                    label=label, transcript=transcript, **kwargs)  # type: ignore[arg-type]


def test_every_connection_of_the_recipient_receives_exactly_the_payload(rails_cable: RailsCable) -> None:
    assert validate(NEW_REQUEST) == []
    transcript = Transcript()
    devices = [_listener(rails_cable, "token-user-1", f"user1#{i}", transcript) for i in (1, 2)]
    other = _listener(rails_cable, "token-user-2", "user2", transcript)
    connect_all([*devices, other])
    try:
        response = rails_cable.broadcast(1, NEW_REQUEST)
        assert response.status_code == 202, response.text
        for device in devices:
            got = device.wait_for(lambda r: True, timeout=3)
            assert got is not None, "\n".join(rails_cable.output[-20:])
            assert got.payload == NEW_REQUEST and got.parse_error is None
        # a marker to user 2: once it arrives, a stray copy of user 1's notification would have too
        assert rails_cable.broadcast(2, MARKER).status_code == 202
        assert other.wait_for(lambda r: r.payload == MARKER, timeout=3) is not None
        assert [r.payload for r in other.messages()] == [MARKER]
        assert all([r.payload for r in device.messages()] == [NEW_REQUEST] for device in devices)
    finally:
        for listener in (*devices, other):
            listener.close()
    assert "token-user-1" not in str(transcript.to_json())


def test_bad_or_missing_token_is_refused_with_disconnect_unauthorized(rails_cable: RailsCable) -> None:
    for url in (f"{rails_cable.cable_url}?token=wrong", rails_cable.cable_url):
        verdict = probe(url, framing="actioncable", identifier=CHANNEL)
        assert verdict.refused and verdict.how == "ActionCable disconnect (reason unauthorized)", verdict
    with pytest.raises(ConnectError, match=r"^intruder: ActionCable disconnect \(reason unauthorized\)$"):
        _listener(rails_cable, "wrong", "intruder").connect()


def test_a_foreign_origin_is_refused_and_the_default_origin_accepted(rails_cable: RailsCable) -> None:
    url = f"{rails_cable.cable_url}?token=token-user-1"
    foreign = probe(url, framing="actioncable", identifier=CHANNEL, headers={"Origin": "http://evil.example"})
    assert foreign.refused and foreign.how == "HTTP 404 on upgrade"
    accepted = probe(url, framing="actioncable", identifier=CHANNEL)
    assert not accepted.refused and accepted.how == "accepted"


def test_unknown_channel_is_a_clear_timeout(rails_cable: RailsCable) -> None:
    listener = Listener(f"{rails_cable.cable_url}?token=token-user-1", framing="actioncable",
                        identifier={"channel": "NoSuchChannel"}, label="u1")
    with pytest.raises(ConnectError, match="no confirm_subscription .* is the channel name right"):
        listener.connect(timeout=1.0)


def test_rails_pings_are_recorded_but_never_delivered(rails_cable: RailsCable) -> None:
    transcript = Transcript()
    with _listener(rails_cable, "token-user-1", "u1", transcript) as listener:
        listener.connect()
        # Rails beats every 3 s: in 3.5 s at least one ping arrives, and is no message
        assert listener.wait_for(lambda r: True, timeout=3.5) is None
    pings = [e for e in transcript.entries() if e.kind == "frame" and '"type":"ping"' in e.data["text"]]
    assert pings, [e.to_json() for e in transcript.entries()]
