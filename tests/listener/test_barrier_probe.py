"""connect_all (the readiness barrier) and probe (auth refusal) against real servers."""
from __future__ import annotations

import json
import socket
import time

import pytest
from websockets.asyncio.server import ServerConnection

from harness.listener import ConnectError, Listener, connect_all, probe
from harness.transcript import Transcript

from .scripted_ws import ScriptedServer, broadcast, cable, cable_server, hold_open, send_then_hold

CHANNEL = {"channel": "NotificationsChannel"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_nothing_listening_raises_naming_every_label() -> None:
    port = _closed_port()
    listeners = [Listener(f"ws://127.0.0.1:{port}/ws", label=label) for label in ("A", "B")]
    with pytest.raises(ConnectError) as info:
        connect_all(listeners, timeout=2)
    message = str(info.value)
    assert message.startswith("2 of 2 listeners not ready: ")
    assert "A: connection refused" in message and "B: connection refused" in message
    assert f"A: connection refused (is the server running?), tried ws://127.0.0.1:{port}/ws" in message
    assert "\n" not in message


def test_one_failure_closes_the_others_and_names_only_the_failed() -> None:
    with ScriptedServer(hold_open) as good, ScriptedServer(hold_open, refuse_status=403) as bad:
        listeners = [Listener(good.url(), label="A"), Listener(bad.url(), label="B"), Listener(good.url(), label="C")]
        with pytest.raises(ConnectError) as info:
            connect_all(listeners)
        assert str(info.value) == f"1 of 3 listeners not ready: B: HTTP 403 on upgrade of {bad.url()}"
        assert not any(listener.is_open for listener in listeners)


def test_barrier_connects_in_parallel_and_waits_for_every_confirmation() -> None:
    ident = json.dumps(CHANNEL, separators=(",", ":"))
    # each server takes 0.3 s to welcome, then broadcasts right after confirming
    handler = cable(welcome_delay=0.3, after_confirm=(broadcast(ident, {"first": True}),))
    with cable_server(handler) as server:
        listeners = [Listener(server.url("/cable"), framing="actioncable", identifier=CHANNEL, label=f"U{i}")
                     for i in range(4)]
        start = time.monotonic()
        connect_all(listeners)
        elapsed = time.monotonic() - start
        try:
            assert all(listener.is_open for listener in listeners)
            assert 0.3 <= elapsed < 1.0  # serial would take 1.2 s
            for listener in listeners:
                assert listener.wait_for(lambda r: r.payload == {"first": True}, timeout=2) is not None
        finally:
            for listener in listeners:
                listener.close()


def test_connect_all_of_nothing_returns() -> None:
    connect_all([])


def test_probe_plain_refusal_by_status_and_by_close_and_acceptance() -> None:
    async def close_policy(server: ScriptedServer, connection: ServerConnection) -> None:
        await connection.close(code=1008, reason="no token")

    with ScriptedServer(hold_open, refuse_status=401) as server:
        assert probe(server.url()).how == "HTTP 401 on upgrade"
    with ScriptedServer(close_policy) as server:
        verdict = probe(server.url(), wait=1.0)
    assert verdict.refused and verdict.how == "connection closed (code 1008, no token)"
    with ScriptedServer(send_then_hold('{"leak": 1}')) as server:
        start = time.monotonic()
        verdict = probe(server.url(), wait=0.3)
        assert time.monotonic() - start >= 0.3
    assert not verdict.refused and verdict.how == "accepted"
    assert [r.payload for r in verdict.received] == [{"leak": 1}]


def test_probe_records_its_verdict_and_raises_when_nothing_listens() -> None:
    transcript = Transcript()
    with ScriptedServer(hold_open, refuse_status=403) as server:
        probe(server.url("/ws?token=bad-token-1"), label="anon", transcript=transcript)
    notes = [e.data for e in transcript.entries() if e.kind == "note"]
    assert notes[0]["event"] == "connect" and "bad-token-1" not in notes[0]["url"]
    verdicts = [n for n in notes if n["event"] == "probe"]
    assert verdicts == [{"event": "probe", "refused": True, "how": "HTTP 403 on upgrade", "received": 0}]
    with pytest.raises(ConnectError, match="connection refused"):
        probe(f"ws://127.0.0.1:{_closed_port()}/ws")
