"""The receiving side of a load run: WebSocket connections and the FCM inbox, read by greenlets.

`harness.listener` runs one OS thread per connection, which is right for a check's handful of
connections and wrong for thousands: here each connection is a websocket-client socket read by
one greenlet (Locust runs under gevent, whose monkey-patching makes the socket cooperative), so
3,000 connections cost 3,000 greenlets in one thread. The framing decoders are the listener's own.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gevent
import websocket

from harness.emulator.fcm import FcmInbox
from harness.emulator.fcm.inbox import FcmInboxError
from harness.listener.framing import Framing, StepKind

#: how long the inbox long-poll waits for a new send attempt before asking again
INBOX_POLL_SECONDS = 1.0


class ConnectError(Exception):
    """A connection could not be opened or was refused; one line."""


class Receiver:
    """One WebSocket connection of a simulated user; `on_payload(receiver, payload, parse_error, t)`."""

    def __init__(self, endpoint: str, recipient: int, framing: Framing,
                 on_payload: Callable[[Receiver, Any, str | None, float], None]) -> None:
        self.endpoint = endpoint
        self.recipient = recipient
        self.framing = framing
        self.on_payload = on_payload
        self.frames = 0
        self._ws: websocket.WebSocket | None = None
        self._reader: gevent.Greenlet | None = None
        self.closed_by_server = False

    def open(self, url: str, headers: dict[str, str], timeout: float) -> None:
        """Connect and pass the framing's readiness (ActionCable: welcome, subscribe, confirm)."""
        try:
            ws = websocket.create_connection(url, timeout=timeout, header=[f"{k}: {v}" for k, v in headers.items()],
                                             subprotocols=self.framing.default_subprotocols,
                                             enable_multithread=False, skip_utf8_validation=True)
        except (OSError, websocket.WebSocketException) as exc:
            raise ConnectError(f"{self.endpoint}: cannot open {url.split('?')[0]}: {exc}") from None
        self._ws = ws
        step = self.framing.opened()
        deadline = time.monotonic() + timeout
        while step.kind is not StepKind.READY:
            if step.kind is StepKind.REFUSED:
                self.close()
                raise ConnectError(f"{self.endpoint}: refused: {step.reason}")
            if step.reply is not None:
                ws.send(step.reply)
            if time.monotonic() > deadline:
                self.close()
                raise ConnectError(f"{self.endpoint}: not ready after {timeout:g} s")
            try:
                step = self.framing.decode(_text(ws.recv()))
            except (OSError, websocket.WebSocketException) as exc:
                self.close()
                raise ConnectError(f"{self.endpoint}: closed before it was ready: {exc}") from None
            if step.kind is StepKind.MESSAGE:  # a notification before readiness still counts
                self.on_payload(self, step.payload, step.parse_error, time.time())
        ws.settimeout(None)  # from now on the reader greenlet blocks until a frame comes
        self._reader = gevent.spawn(self._read)

    def _read(self) -> None:
        ws = self._ws
        assert ws is not None
        while True:
            try:
                text = ws.recv()
            except (OSError, websocket.WebSocketException, AttributeError):
                self.closed_by_server = self._ws is not None
                return
            arrived = time.time()
            if not text:
                self.closed_by_server = self._ws is not None
                return
            step = self.framing.decode(_text(text))
            if step.kind is StepKind.MESSAGE:
                self.frames += 1
                self.on_payload(self, step.payload, step.parse_error, arrived)
            elif step.reply is not None:
                ws.send(step.reply)

    def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.close(timeout=0.5)
            except (OSError, websocket.WebSocketException):
                pass
        if self._reader is not None:
            self._reader.kill(block=False)


class PushFollower:
    """Follows the emulator's send attempts (long-poll, cursor) and hands each one to `on_attempt`."""

    def __init__(self, inbox: FcmInbox, on_attempt: Callable[[Any], None]) -> None:
        self.inbox = inbox
        self.on_attempt = on_attempt
        self.cursor = inbox.cursor()
        self.errors = 0
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._follow)

    def catch_up(self) -> None:
        """Read whatever is in the inbox now (used once more before the counts are final)."""
        self._deliver(self.inbox.attempts(after=self.cursor))

    def _follow(self) -> None:
        while True:
            try:
                attempts = self.inbox.wait_attempts(count=1, after=self.cursor, timeout=INBOX_POLL_SECONDS)
            except FcmInboxError:
                self.errors += 1
                gevent.sleep(0.5)
                continue
            self._deliver(attempts)

    def _deliver(self, attempts: list[Any]) -> None:
        for attempt in attempts:
            if attempt.seq <= self.cursor:
                continue
            self.cursor = attempt.seq
            self.on_attempt(attempt)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)


def _text(frame: str | bytes) -> str:
    """Notifications are text frames; a binary one is decoded so its framing error names it."""
    return frame if isinstance(frame, str) else frame.decode("utf-8", errors="replace")
