"""The HTTPS CONNECT proxy: terminates TLS for Google's FCM/OAuth hosts, refuses everything else."""
from __future__ import annotations

import asyncio
import ssl

from harness.emulator.fcm.relay import Relays, relay
from harness.emulator.fcm.tls import GOOGLE_HOSTS

MAX_HEAD_BYTES = 16 * 1024
HEAD_TIMEOUT = 10.0
MAX_CONNECT_LOG = 10_000


class ConnectProxy:
    """Answers `CONNECT fcm.googleapis.com:443`, speaks TLS as that host with the emulator's
    certificate, and relays the decrypted HTTP/1.1 stream to the emulator's plain listener.

    Nothing leaves the machine: any other host or port gets a 403 naming what is served.
    """

    def __init__(self, tls_context: ssl.SSLContext, upstream: tuple[str, int]) -> None:
        self._tls = tls_context
        self._upstream = upstream
        self.connects: list[str] = []  # "host:port" of every CONNECT, refused ones too (bounded)
        self.relays = Relays()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self.relays.serve(writer, lambda: self._serve(reader, writer), "proxy")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
        if len(head) > MAX_HEAD_BYTES:
            await _refuse(writer, 431, "Request Header Fields Too Large", "request head too large")
            return
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        if len(parts) != 3 or parts[0] != "CONNECT":
            await _refuse(writer, 403, "Forbidden", (
                f"this proxy only tunnels HTTPS (CONNECT) to {', '.join(GOOGLE_HOSTS)}; "
                f"refused {request_line[:200]!r}; nothing leaves this machine"))
            return
        authority = parts[1]
        if len(self.connects) < MAX_CONNECT_LOG:
            self.connects.append(authority)
        host, _, port = authority.rpartition(":")
        if host.lower() not in GOOGLE_HOSTS or port != "443":
            await _refuse(writer, 403, "Forbidden", (
                f"the FCM emulator proxy refuses CONNECT {authority}: it serves only "
                f"{', '.join(h + ':443' for h in GOOGLE_HOSTS)}, and nothing leaves this machine"))
            return
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        await writer.drain()
        await writer.start_tls(self._tls)
        await relay(reader, writer, self._upstream)


async def _refuse(writer: asyncio.StreamWriter, status: int, reason: str, message: str) -> None:
    body = (message + "\n").encode()
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
    )
    await writer.drain()
