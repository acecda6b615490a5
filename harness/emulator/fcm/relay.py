"""Byte relays behind the emulator's TLS front doors (proxy tunnels and host mode), abortable at stop."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)
QUIET_ERRORS = (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ssl.SSLError, TimeoutError)


class Relays:
    """Tracks client connections so `close()` can end them at once.

    Aborting matters: a TLS connection closed politely waits for the peer's close_notify, and an
    idle keep-alive client (an HTTP/2 one above all) would hold the emulator's shutdown open.
    """

    def __init__(self) -> None:
        self._open: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    async def serve(
        self, writer: asyncio.StreamWriter, work: Callable[[], Awaitable[None]], what: str
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._open[task] = writer
        try:
            await work()
        except QUIET_ERRORS:
            pass
        except asyncio.CancelledError:
            pass  # cancelled by close(); asyncio's stream callback would log it as an error
        except Exception:  # one connection must never take the emulator down
            log.exception("FCM emulator %s: connection failed", what)
        finally:
            self._open.pop(task, None)
            writer.close()

    async def close(self) -> None:
        for task, writer in list(self._open.items()):
            writer.transport.abort()
            task.cancel()
        for task in list(self._open):
            with contextlib.suppress(BaseException):
                await task


#: Linux only; elsewhere the relay just does without.
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def _ack_at_once(sock: socket.socket | None) -> None:
    """Answer the client's segments with an immediate ACK. Clients that reach us through a proxy
    tunnel often write a request's headers and body separately without TCP_NODELAY (requests and
    urllib3 do, and so firebase-admin): Nagle then holds the body until the headers are ACKed,
    and a delayed ACK costs 40 ms per request. Quick-ack mode is not sticky: set after every read."""
    if _QUICKACK is not None and sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        except OSError:
            pass


async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, upstream: tuple[str, int]) -> None:
    """Pipe a (decrypted) client stream to a plain listener of the emulator, both ways."""
    up_reader, up_writer = await asyncio.open_connection(*upstream)
    client = writer.get_extra_info("socket")
    _ack_at_once(client)
    try:
        await asyncio.gather(_pipe(reader, up_writer, client), _pipe(up_reader, writer))
    finally:
        up_writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, acked: socket.socket | None = None) -> None:
    try:
        while data := await reader.read(65536):
            _ack_at_once(acked)
            writer.write(data)
            await writer.drain()
        # A TLS stream cannot half-close: closing it is how the end reaches the client.
        if writer.can_write_eof():
            writer.write_eof()
        else:
            writer.close()
    except (ConnectionError, ssl.SSLError):
        writer.close()


class HostModeTls:
    """Host mode: TLS as the Google host names; HTTP/2 goes to hypercorn, HTTP/1.1 to uvicorn."""

    def __init__(self, h1_upstream: tuple[str, int], h2_upstream: tuple[str, int]) -> None:
        self._h1 = h1_upstream
        self._h2 = h2_upstream
        self.relays = Relays()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tls = writer.get_extra_info("ssl_object")
        upstream = self._h2 if tls is not None and tls.selected_alpn_protocol() == "h2" else self._h1
        await self.relays.serve(writer, lambda: relay(reader, writer, upstream), "host mode")
