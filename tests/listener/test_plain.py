"""Listener with plain framing against a real WebSocket server on loopback."""
from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from websockets.asyncio.server import ServerConnection

from harness.listener import ConnectError, Listener, UpgradeRefused
from harness.transcript import Transcript

from .scripted_ws import ScriptedServer, hold_open, send_then_hold


def test_delivers_frames_in_order_with_monotonic_timestamps() -> None:
    frames = [json.dumps({"n": n}) for n in range(5)]
    with ScriptedServer(send_then_hold(*frames)) as server:
        before = time.monotonic()
        with Listener(server.url(), label="A") as listener:
            listener.connect()
            got = listener.wait_count(lambda r: True, 5, timeout=2)
        after = time.monotonic()
    assert [r.seq for r in got] == [0, 1, 2, 3, 4]
    assert [r.payload for r in got] == [{"n": n} for n in range(5)]
    assert [r.raw for r in got] == frames
    assert all(r.parse_error is None for r in got)
    times = [r.t for r in got]
    assert times == sorted(times)
    assert before <= times[0] and times[-1] <= after


def test_non_json_frame_is_delivered_raw_with_parse_error() -> None:
    with ScriptedServer(send_then_hold("hello, not json", '{"ok": 1}')) as server:
        with Listener(server.url()) as listener:
            listener.connect()
            got = listener.wait_count(lambda r: True, 2, timeout=2)
    assert got[0].payload == "hello, not json" and got[0].raw == "hello, not json"
    assert got[0].parse_error is not None and got[0].parse_error.startswith("not JSON")
    assert got[1].payload == {"ok": 1} and got[1].parse_error is None


def test_binary_frame_is_flagged() -> None:
    async def handler(server: ScriptedServer, connection: ServerConnection) -> None:
        await connection.send(b'{"n": 1}')
        await hold_open(server, connection)

    with ScriptedServer(handler) as server, Listener(server.url()) as listener:
        listener.connect()
        got = listener.wait_for(lambda r: True, timeout=2)
    assert got is not None and got.parse_error is not None and "binary frame" in got.parse_error


def test_http_403_on_upgrade_raises_naming_label_and_status() -> None:
    with ScriptedServer(hold_open, refuse_status=403) as server:
        listener = Listener(server.url(), label="B#1")
        with pytest.raises(UpgradeRefused) as info:
            listener.connect()
    assert info.value.status == 403
    assert str(info.value) == f"B#1: HTTP 403 on upgrade of {server.url()}"
    assert not listener.is_open


def test_wait_for_times_out_with_none_in_about_the_timeout() -> None:
    with ScriptedServer(send_then_hold('{"n": 1}')) as server, Listener(server.url()) as listener:
        listener.connect()
        start = time.monotonic()
        assert listener.wait_for(lambda r: r.payload == {"n": 2}, timeout=0.3) is None
        elapsed = time.monotonic() - start
    assert 0.28 <= elapsed < 0.8


def test_wait_for_wakes_when_a_matching_message_arrives() -> None:
    with ScriptedServer(hold_open) as server, Listener(server.url()) as listener:
        listener.connect()
        timer = threading.Timer(0.2, server.send_all, args=('{"late": true}',))
        timer.start()
        start = time.monotonic()
        got = listener.wait_for(lambda r: r.payload == {"late": True}, timeout=5)
        elapsed = time.monotonic() - start
        timer.join()
    assert got is not None and got.seq == 0
    assert 0.15 <= elapsed < 1.5  # woken by the arrival, not by the 5 s timeout


def test_wait_count_returns_what_arrived_when_short() -> None:
    with ScriptedServer(send_then_hold('{"n": 1}', '{"n": 2}')) as server, Listener(server.url()) as listener:
        listener.connect()
        got = listener.wait_count(lambda r: True, 3, timeout=0.3)
    assert [r.payload for r in got] == [{"n": 1}, {"n": 2}]


def test_wait_returns_early_when_the_server_closes() -> None:
    async def close_soon(server: ScriptedServer, connection: ServerConnection) -> None:
        await asyncio.sleep(0.2)
        await connection.close(code=1001)

    transcript = Transcript()
    with ScriptedServer(close_soon) as server, Listener(server.url(), transcript=transcript, label="A") as listener:
        listener.connect()
        start = time.monotonic()
        assert listener.wait_for(lambda r: True, timeout=5) is None
        assert time.monotonic() - start < 2
        assert not listener.is_open
    ended = [e for e in transcript.entries() if e.data.get("event") == "ended"]
    assert ended and ended[0].data["reason"].startswith("connection closed (code 1001")


def test_default_origin_is_the_http_form_of_the_host_and_can_be_overridden() -> None:
    with ScriptedServer(hold_open) as server:
        with Listener(server.url()) as listener:
            listener.connect()
        with Listener(server.url(), headers={"origin": "https://app.example", "X-Device": "1"}) as listener:
            listener.connect()
    assert server.requests[0].headers["origin"] == f"http://127.0.0.1:{server.port}"
    assert server.requests[1].headers["origin"] == "https://app.example"
    assert server.requests[1].headers["x-device"] == "1"


def test_a_labelled_refusal_names_the_redacted_url_it_tried() -> None:
    with ScriptedServer(hold_open, refuse_status=404) as server:
        listener = Listener(server.url("/cable?token=abcd1234&v=2"), label="A#1")
        with pytest.raises(UpgradeRefused) as info:
            listener.connect()
    assert str(info.value) == f"A#1: HTTP 404 on upgrade of {server.url('/cable?token=***&v=2')}"
    assert info.value.url == server.url("/cable?token=***&v=2") and "abcd1234" not in str(info.value)


def test_token_is_redacted_in_the_transcript_and_errors() -> None:
    transcript = Transcript()
    transcript.add_secret("s3cr3t-bearer")
    with ScriptedServer(hold_open, refuse_status=401) as server:
        url = server.url("/ws?token=s3cr3t-token&device=7")
        listener = Listener(url, headers={"Authorization": "Bearer s3cr3t-bearer"}, transcript=transcript)
        with pytest.raises(ConnectError) as info:
            listener.connect()
    dumped = json.dumps(transcript.to_json())
    assert "s3cr3t" not in dumped and "s3cr3t" not in str(info.value)
    # the message names the URL it tried, its token redacted
    assert str(info.value) == f"{server.url('/ws?token=***&device=7')}: HTTP 401 on upgrade"
    connect = next(e for e in transcript.entries() if e.data.get("event") == "connect")
    assert "token=***" in connect.data["url"] and "device=7" in connect.data["url"]
    assert connect.data["headers"]["Authorization"] == "***"


def test_frames_are_recorded_in_the_transcript() -> None:
    transcript = Transcript()
    with ScriptedServer(send_then_hold('{"n": 1}')) as server:
        with Listener(server.url(), transcript=transcript, label="A") as listener:
            listener.connect()
            assert listener.wait_for(lambda r: True, timeout=2) is not None
    frames = [e for e in transcript.entries() if e.kind == "frame"]
    assert [(e.label, e.data["direction"], e.data["text"], e.data["framing"]) for e in frames] == [
        ("A", "in", '{"n": 1}', "plain")]


def test_websocket_pings_are_answered() -> None:
    # the server closes the connection when a pong is late: answering keeps it open
    with ScriptedServer(hold_open, ping_interval=0.05, ping_timeout=0.3) as server:
        with Listener(server.url()) as listener:
            listener.connect()
            time.sleep(0.8)
            assert listener.is_open
            server.send_all('{"after": "pings"}')
            assert listener.wait_for(lambda r: r.payload == {"after": "pings"}, timeout=2) is not None


def test_close_is_idempotent_and_stops_the_reader() -> None:
    with ScriptedServer(hold_open) as server:
        listener = Listener(server.url())
        listener.connect()
        assert listener.is_open
        listener.close()
        listener.close()
        assert not listener.is_open
        assert server.disconnected.wait(2)
    assert listener._reader is not None and not listener._reader.is_alive()


def test_bad_arguments_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="ws:// or wss://"):
        Listener("http://127.0.0.1:1/ws")
    with pytest.raises(ValueError, match="unknown framing 'sse'"):
        Listener("ws://127.0.0.1:1/ws", framing="sse")
    with pytest.raises(ValueError, match="plain framing takes none"):
        Listener("ws://127.0.0.1:1/ws", identifier={"channel": "X"})


def test_wait_count_of_zero_returns_at_once() -> None:
    with ScriptedServer(hold_open) as server, Listener(server.url()) as listener:
        listener.connect()
        start = time.monotonic()
        assert listener.wait_count(lambda r: True, 0, timeout=5) == []
        assert time.monotonic() - start < 0.5
