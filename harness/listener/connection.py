"""Listener: one WebSocket connection of one simulated device, read by a background thread."""
from __future__ import annotations

import enum
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import websocket

from harness.listener.framing import Step, StepKind, make_framing
from harness.listener.values import ConnectError, Received, UpgradeRefused
from harness.transcript import Transcript

#: Keep-alive pings recorded in full per listener; later ones are only counted (Rails pings every 3 s).
PINGS_RECORDED = 3
#: A frame we send (send()) longer than this is recorded cut, with its length.
SENT_RECORDED = 4096
#: How long close() waits for the server's answer to our close frame before cutting the socket.
CLOSE_GRACE = 1.0

Predicate = Callable[[Received], bool]


class State(enum.Enum):
    NEW = "new"
    #: Upgrade accepted; waiting for the framing's readiness (ActionCable welcome/confirm).
    OPEN = "open"
    READY = "ready"
    #: The server refused (disconnect, reject_subscription) or closed the socket.
    ENDED = "ended"


def default_origin(url: str) -> str:
    """The http(s) form of the URL's host: what Rails' same-origin check accepts by default."""
    parts = urlsplit(url)
    scheme = "https" if parts.scheme == "wss" else "http"
    return f"{scheme}://{parts.netloc.rpartition('@')[2]}"


class Listener:
    """Records every frame with a monotonic timestamp, decodes the framing, answers pings.

    Use `connect()` (or `connect_all` for several) before triggering any action: it returns only
    when the connection is ready to receive, so no early notification is lost.
    """

    def __init__(self, url: str, *, framing: str = "plain", identifier: dict[str, Any] | str | None = None,
                 headers: dict[str, str] | None = None, subprotocols: list[str] | None = None,
                 label: str = "", transcript: Transcript | None = None) -> None:
        if urlsplit(url).scheme not in ("ws", "wss"):
            raise ValueError(f"WebSocket URL must start with ws:// or wss://, got {url!r}")
        self.url = url
        self._framing = make_framing(framing, identifier)
        self._transcript = transcript
        self._redactor = transcript or Transcript()
        self.label = label or self._redactor.redact_url(url)
        headers = dict(headers or {})
        origins = [k for k in headers if k.lower() == "origin"]
        self._origin = headers.pop(origins[0]) if origins else default_origin(url)
        self._headers = headers
        self._subprotocols = subprotocols if subprotocols is not None else self._framing.default_subprotocols
        self._cond = threading.Condition()
        self._messages: list[Received] = []
        self._state = State.NEW
        self._end_reason = ""
        self._closing = False
        self._pings = 0
        self._ws: websocket.WebSocket | None = None
        self._reader: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def connect(self, timeout: float = 5.0) -> None:
        """Return once ready (ActionCable: welcome and confirm_subscription), else raise ConnectError."""
        deadline = time.monotonic() + timeout
        try:
            self._start(timeout)
        except ConnectError:
            self.close()  # records the "closed" note with the reason
            raise
        state = self._settle(deadline, until=(State.READY, State.ENDED))
        if state is not State.READY:
            reason = self._end_reason if state is State.ENDED else self._timeout_reason(timeout)
            self.close()
            raise ConnectError(reason, label=self.label)

    def _timeout_reason(self, timeout: float) -> str:
        identifier = getattr(self._framing, "identifier", None)
        if identifier is None:
            return f"not ready after {timeout:g} s (no welcome from the server)"
        # Rails only logs "Subscription class not found" for an unknown channel and answers nothing
        return (f"not ready after {timeout:g} s (no confirm_subscription for {identifier} from the server; "
                f"is the channel name right?)")

    def _start(self, timeout: float) -> None:
        """Upgrade the socket and start the reader; raises UpgradeRefused or ConnectError."""
        if self._state is not State.NEW:
            raise RuntimeError(f"listener {self.label} was already started; create a new Listener")
        self._record("note", event="connect", url=self._redactor.redact_url(self.url),
                     framing=self._framing.name, origin=self._origin,
                     headers=self._redactor.redact_headers(self._headers), subprotocols=self._subprotocols)
        ws = websocket.WebSocket(enable_multithread=True)
        try:
            ws.connect(self.url, timeout=timeout, origin=self._origin, header=self._headers,
                       subprotocols=self._subprotocols)
        except websocket.WebSocketBadStatusException as exc:
            self._end(f"HTTP {exc.status_code} on upgrade")
            hint = ""
            if exc.status_code == 404 and self._framing.name == "actioncable":
                hint = " (ActionCable answers 404 when the Origin header is not allowed or the path is not its mount path)"
            raise UpgradeRefused(exc.status_code, label=self.label, hint=hint, url=self._url_for_errors()) from None
        except (OSError, websocket.WebSocketException) as exc:
            reason = self._connect_failure(exc, timeout)
            self._end(reason)
            url = self._url_for_errors()
            raise ConnectError(f"{reason}, tried {url}" if url else reason, label=self.label) from None
        ws.settimeout(None)  # the reader blocks; close() wakes it with a socket shutdown
        with self._cond:
            self._ws = ws
            self._state = State.OPEN
        self._reader = threading.Thread(target=self._read, name=f"listener {self.label}", daemon=True)
        self._reader.start()
        self._apply(self._framing.opened(), text=None)

    def _url_for_errors(self) -> str:
        """The redacted URL tried, for error messages; empty when the label already is that URL."""
        url = self._redactor.redact_url(self.url)
        return "" if url == self.label else url

    def _connect_failure(self, exc: Exception, timeout: float) -> str:
        if isinstance(exc, (socket.timeout, websocket.WebSocketTimeoutException)):
            return f"no upgrade answer within {timeout:g} s"
        if isinstance(exc, ConnectionRefusedError):
            return "connection refused (is the server running?)"
        if isinstance(exc, websocket.WebSocketException) and "Invalid WebSocket Header" in str(exc) and self._subprotocols:
            return (f"bad upgrade answer: the server did not select one of the offered subprotocols "
                    f"{', '.join(self._subprotocols)} (or sent a bad Sec-WebSocket-Accept)")
        return f"could not connect: {type(exc).__name__}: {exc}"

    def close(self) -> None:
        """Close the socket and stop the reader thread; idempotent."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            ws, reader = self._ws, self._reader
        if ws is not None and reader is not None and reader.is_alive():
            try:
                ws.send_close()
            except (OSError, websocket.WebSocketException):
                pass
            reader.join(CLOSE_GRACE)
            if reader.is_alive():
                ws.abort()  # shutdown(SHUT_RDWR) wakes the blocked recv
                reader.join(CLOSE_GRACE)
        if ws is not None:
            ws.shutdown()
        self._end("closed by the harness")
        self._record("note", event="closed", reason=self._end_reason, messages=len(self._messages),
                     pings=self._pings)

    @property
    def end_reason(self) -> str:
        """Why the connection ended ("" while it is open), e.g. "connection closed (code 1008)"."""
        with self._cond:
            return self._end_reason if self._state is State.ENDED else ""

    @property
    def is_open(self) -> bool:
        with self._cond:
            return self._state in (State.OPEN, State.READY) and not self._closing

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------------

    def _read(self) -> None:
        ws = self._ws
        assert ws is not None
        reason = "connection lost"
        try:
            while True:
                opcode, frame = ws.recv_data_frame(control_frame=True)
                t = time.monotonic()
                if opcode == websocket.ABNF.OPCODE_TEXT:
                    text = frame.data.decode("utf-8") if isinstance(frame.data, bytes) else frame.data
                    self._on_text(text, t)
                elif opcode == websocket.ABNF.OPCODE_BINARY:
                    self._on_binary(frame.data, t)
                elif opcode == websocket.ABNF.OPCODE_CLOSE:
                    reason = _close_reason(frame.data)
                    break
                elif opcode == websocket.ABNF.OPCODE_PING:
                    # websocket-client has already sent the pong; count it like a framing ping
                    self._count_ping(f"<WebSocket ping {frame.data!r}>")
        except websocket.WebSocketConnectionClosedException:
            reason = "connection closed without a close frame"
        except (OSError, websocket.WebSocketException) as exc:
            reason = f"connection lost: {type(exc).__name__}: {exc}"
        with self._cond:
            closing = self._closing
        if not closing:
            self._record("note", event="ended", reason=reason)
            self._end(reason)

    def _on_text(self, text: str, t: float) -> None:
        step = self._framing.decode(text)
        if step.kind is StepKind.PING:
            self._count_ping(text)
            return
        self._record_frame("in", text)
        self._apply(step, text=text, t=t)

    def _on_binary(self, data: bytes, t: float) -> None:
        text = data.decode("utf-8", errors="replace")
        self._record_frame("in", f"<binary {len(data)} bytes> {text}")
        self._apply(Step(StepKind.MESSAGE, payload=text,
                         parse_error=f"binary frame ({len(data)} bytes); notifications are text frames"),
                    text=text, t=t)

    def _apply(self, step: Step, *, text: str | None, t: float | None = None) -> None:
        with self._cond:
            if step.kind is StepKind.MESSAGE:
                self._messages.append(Received(len(self._messages), t or time.monotonic(), step.payload,
                                               text or "", step.parse_error))
            elif step.kind is StepKind.READY and self._state is State.OPEN:
                self._state = State.READY
            elif step.kind is StepKind.REFUSED:
                self._state, self._end_reason = State.ENDED, step.reason
            self._cond.notify_all()
        if step.reply is not None:
            self._send(step.reply)

    def send(self, data: str | bytes) -> None:
        """Send a frame of our own (a text frame, or binary for bytes): security probes send
        hostile frames and extra ActionCable commands. Recorded like every frame (a long one cut)."""
        if isinstance(data, str):
            shown = data if len(data) <= SENT_RECORDED else f"{data[:200]}... ({len(data)} characters)"
        else:
            shown = f"<binary {len(data)} bytes>"
        self._record_frame("out", shown)
        try:
            assert self._ws is not None
            if isinstance(data, str):
                self._ws.send(data)
            else:
                self._ws.send_binary(data)
        except (OSError, websocket.WebSocketException) as exc:
            self._end(f"could not send: {type(exc).__name__}: {exc}")

    def _send(self, text: str) -> None:
        self._record_frame("out", text)
        try:
            assert self._ws is not None
            self._ws.send(text)
        except (OSError, websocket.WebSocketException) as exc:
            self._end(f"could not send: {type(exc).__name__}: {exc}")

    def _count_ping(self, text: str) -> None:
        self._pings += 1
        if self._pings <= PINGS_RECORDED:
            self._record_frame("in", text)

    def _end(self, reason: str) -> None:
        with self._cond:
            if self._state is not State.ENDED:
                self._state, self._end_reason = State.ENDED, reason
            self._cond.notify_all()

    # -- recording -----------------------------------------------------------------------------

    def _record(self, kind: str, **data: Any) -> None:
        if self._transcript is not None:
            self._transcript.record(kind, self.label, **data)

    def _record_frame(self, direction: str, text: str) -> None:
        self._record("frame", direction=direction, text=text, framing=self._framing.name)

    # -- waiting -------------------------------------------------------------------------------

    def _settle(self, deadline: float, until: tuple[State, ...]) -> State:
        """Wait (on the condition) until the state is one of `until` or the deadline passes."""
        with self._cond:
            while self._state not in until:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return self._state

    def _end_info(self) -> tuple[State, str]:
        with self._cond:
            return self._state, self._end_reason

    def messages(self) -> list[Received]:
        """A snapshot of the notifications received so far, in arrival order."""
        with self._cond:
            return list(self._messages)

    def wait_for(self, predicate: Predicate, timeout: float) -> Received | None:
        """The first matching message, already received or arriving within `timeout` seconds.

        Returns None on timeout, or earlier once the connection has ended (nothing more can come).
        """
        found = self.wait_count(predicate, 1, timeout)
        return found[0] if found else None

    def wait_count(self, predicate: Predicate, count: int, timeout: float) -> list[Received]:
        """The first `count` matching messages; fewer if the timeout passes or the connection ends."""
        if count <= 0:
            return []
        deadline = time.monotonic() + timeout
        matches: list[Received] = []
        checked = 0
        with self._cond:
            while True:
                for received in self._messages[checked:]:
                    if predicate(received):
                        matches.append(received)
                        if len(matches) == count:
                            return matches
                checked = len(self._messages)
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._state is State.ENDED:
                    return matches
                self._cond.wait(remaining)


def _close_reason(data: bytes) -> str:
    """`connection closed (code 1008)`, with the server's reason text when it gave one."""
    if len(data) < 2:
        return "connection closed (no close code)"
    code = int.from_bytes(data[:2], "big")
    text = data[2:].decode("utf-8", errors="replace")
    return f"connection closed (code {code}{', ' + text if text else ''})"
