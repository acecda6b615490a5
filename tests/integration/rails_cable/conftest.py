"""Starts the minimal Rails ActionCable app (app/config.ru) under puma on a free loopback port."""
from __future__ import annotations

import dataclasses
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

APP_DIR = Path(__file__).parent / "app"
BOOT_TIMEOUT = 30.0
_LISTENING = re.compile(r"Listening on http://127\.0\.0\.1:(\d+)")


@dataclasses.dataclass(frozen=True)
class RailsCable:
    base_url: str
    cable_url: str
    output: list[str]  # puma's and Rails' log lines, for failure messages

    def broadcast(self, user_id: int, payload: Any) -> requests.Response:
        """NotificationsChannel.broadcast_to(user, payload) inside the Rails process."""
        return requests.post(f"{self.base_url}/test/broadcast", json={"user_id": user_id, "payload": payload},
                             timeout=5)


def _missing() -> str | None:
    """Why the Rails test cannot run here, or None."""
    if not shutil.which("ruby") or not shutil.which("puma"):
        return "ruby or puma is not installed (CI installs them with .ci/install-rails.sh)"
    check = subprocess.run(["ruby", "-e", 'require "rails"; require "action_cable"'],
                           capture_output=True, text=True, timeout=60)
    if check.returncode != 0:
        last = (check.stderr.strip().splitlines() or ["?"])[-1]
        return f"Rails/ActionCable cannot be loaded ({last}); run .ci/install-rails.sh"
    return None


def _pump(stream: object, lines: list[str], found: queue.Queue[int]) -> None:
    """Drain the server's output (so its pipe never fills) and report the bound port."""
    for line in stream:  # type: ignore[attr-defined]
        lines.append(line.rstrip())
        match = _LISTENING.search(line)
        if match:
            found.put(int(match.group(1)))


@pytest.fixture(scope="package")
def rails_cable() -> Iterator[RailsCable]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    env = {**os.environ, "RAILS_ENV": "production", "B4A_RAILS_LOG_LEVEL": "warn"}
    process = subprocess.Popen(["puma", "-b", "tcp://127.0.0.1:0", "--dir", str(APP_DIR), "config.ru"],
                               cwd=APP_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    found: queue.Queue[int] = queue.Queue()
    pump = threading.Thread(target=_pump, args=(process.stdout, lines, found), daemon=True)
    pump.start()
    try:
        try:
            port = found.get(timeout=BOOT_TIMEOUT)
        except queue.Empty:
            pytest.fail(f"puma did not report a listening port within {BOOT_TIMEOUT:g} s:\n" + "\n".join(lines[-30:]))
        server = RailsCable(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/cable", lines)
        _await_up(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        pump.join(5)  # the pipe reaches EOF once puma has exited
        assert process.stdout is not None
        process.stdout.close()


def _await_up(server: RailsCable, process: subprocess.Popen[str]) -> None:
    """Puma binds before Rails can answer: wait (bounded) for GET /up."""
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{server.base_url}/up", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    pytest.fail("the Rails app did not answer GET /up:\n" + "\n".join(server.output[-30:]))
