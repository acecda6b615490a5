"""Bench: FCM emulator sends/s under wrk, against a bare hello endpoint on the same server stack.

Run: .venv/bin/python bench/fcm_emulator.py [--duration 3] [--rounds 3] [--connections 16]
Both servers run in this process exactly as FcmEmulator runs its plain listener (uvicorn +
httptools on a uvloop event loop in a background thread); wrk (C, multi-threaded) drives them in
turn, alternating, so machine noise hits both alike. Sends carry a real bearer token obtained
through the emulator's JWT-bearer grant.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
import uvicorn
from google.auth.transport.requests import Request as GoogleRequest
from google.oauth2 import service_account
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.emulator.fcm import FcmEmulator
from harness.emulator.fcm.server import new_loop, uvicorn_config

BODY = {"message": {"token": "bench-device-1", "data": {"type": "friendship", "friend_id": "42"},
                    "notification": {"title": "New friend request", "body": "Ada wants to be your buddy"}}}
LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.body = '{body}'
"""


async def hello(request: Request) -> Response:
    return Response(b'{"name":"projects/p/messages/hello"}', media_type="application/json; charset=UTF-8")


class HelloServer:
    """The baseline: one Starlette route on the emulator's uvicorn settings and loop."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hello"
        self.server = uvicorn.Server(uvicorn_config(Starlette(routes=[Route("/hello", hello, methods=["POST"])])))
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        loop = new_loop()
        asyncio.set_event_loop(loop)
        loop.run_until_complete(self.server.serve(sockets=[self.sock]))
        loop.close()

    def __enter__(self) -> HelloServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def wrk(url: str, script: Path, duration: int, connections: int, threads: int) -> tuple[float, int]:
    """(requests/s, non-2xx responses) from one wrk run."""
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "-s", str(script), url],
                         capture_output=True, text=True, timeout=duration + 30, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rate, int(bad.group(1)) if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each target (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    # One wrk thread leaves the second core to the (single-threaded) server; it still drives a
    # bare hello at ~9-10k req/s here, well above the emulator's rate, so it is not the bottleneck.
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench: needs `wrk` (Debian package wrk) on PATH", file=sys.stderr)
        return 2
    with FcmEmulator(proxy=False, max_messages=10_000) as emulator, HelloServer() as baseline, \
            tempfile.TemporaryDirectory() as tmp:
        credentials = service_account.Credentials.from_service_account_info(
            emulator.service_account(), scopes=["https://www.googleapis.com/auth/cloud-platform"])
        session = requests.Session()
        session.trust_env = False
        credentials.refresh(GoogleRequest(session))
        script = Path(tmp) / "post.lua"
        script.write_text(LUA.format(token=credentials.token, body=json.dumps(BODY)))
        send_url = f"{emulator.base_url}/v1/projects/{emulator.project_id}/messages:send"
        check = session.post(send_url, data=json.dumps(BODY), headers={
            "Authorization": f"Bearer {credentials.token}", "Content-Type": "application/json"}, timeout=10)
        assert check.status_code == 200, check.text
        sends: list[float] = []
        hellos: list[float] = []
        for _ in range(args.rounds):
            rate, bad = wrk(baseline.url, script, args.duration, args.connections, args.threads)
            hellos.append(rate)
            rate, bad = wrk(send_url, script, args.duration, args.connections, args.threads)
            if bad:
                print(f"bench: {bad} sends were refused; the numbers would be meaningless", file=sys.stderr)
                return 1
            sends.append(rate)
        inbox = emulator.inbox()
        kept, cursor = len(inbox.messages()), inbox.cursor()
    send_rate, hello_rate = statistics.median(sends), statistics.median(hellos)
    print(f"client: wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.rounds} alternating rounds")
    print(f"FCM emulator messages:send: {send_rate:8.0f} sends/s   (runs: {', '.join(f'{r:.0f}' for r in sends)})")
    print(f"bare hello, same stack:     {hello_rate:8.0f} req/s     (runs: {', '.join(f'{r:.0f}' for r in hellos)})")
    print(f"ratio send/hello:           {send_rate / hello_rate:8.2f}   (medians; target >= 0.5, and >= 1000 sends/s)")
    print(f"store bounded: {cursor} sends seen, {kept} kept (cap {emulator.max_messages})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
