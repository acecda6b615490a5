"""`b4a emulator fcm` as a process: startup text, --write-credentials, clean stop, exit codes."""
from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import firebase_admin
import pytest
from firebase_admin import credentials, messaging

from harness.emulator.fcm import FcmInbox

B4A = [sys.executable, "-m", "harness"]


def _start(*args: str) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen([*B4A, "emulator", "fcm", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if "stop with Ctrl-C" in line:
            return process, lines
    process.kill()
    raise AssertionError(f"no startup text; got {lines}; stderr: {process.communicate()[1][-2000:]}")


@pytest.mark.filterwarnings("ignore:.*is deprecated. Use .*fid:DeprecationWarning")
def test_cli_serves_and_its_credentials_work_with_firebase_admin(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    sa_path, state = tmp_path / "sa.json", tmp_path / "state"
    process, lines = _start("--project", "cli-project", "--write-credentials", str(sa_path),
                            "--state-dir", str(state))
    try:
        first = re.fullmatch(r"FCM emulator listening on (http://127\.0\.0\.1:\d+) \(project cli-project, .*\)",
                             lines[0])
        assert first, lines
        base = first.group(1)
        proxy = re.search(r"HTTPS_PROXY=(\S+)", "\n".join(lines))
        assert proxy and f"token_uri {base}/token" in lines[1]
        account = json.loads(sa_path.read_text())
        assert account["token_uri"] == f"{base}/token" and account["project_id"] == "cli-project"
        assert oct(sa_path.stat().st_mode & 0o777) == "0o600"
        for name, value in {"HTTPS_PROXY": proxy.group(1), "REQUESTS_CA_BUNDLE": str(state / "ca.pem"),
                            "NO_PROXY": "127.0.0.1,localhost,::1"}.items():
            monkeypatch.setenv(name, value)
        app = firebase_admin.initialize_app(credentials.Certificate(str(sa_path)), name=f"cli-{uuid.uuid4().hex}")
        try:
            name = messaging.send(messaging.Message(token="cli-device", data={"k": "v"}), app=app)
        finally:
            firebase_admin.delete_app(app)
        [captured] = FcmInbox(base, "cli-project").messages()
        assert captured.name == name and name.startswith("projects/cli-project/messages/")
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_cli_busy_port_is_exit_2(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([*B4A, "emulator", "fcm", "--port", str(port)], capture_output=True, text=True,
                              timeout=60)
    assert done.returncode == 2
    assert "cannot listen on 127.0.0.1" in done.stderr and "Address already in use" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("args", "text"), [
    (["--max-messages", "0"], "--max-messages must be at least 1"),
    (["--port", "70000"], "--port must be 0..65535"),
])
def test_cli_bad_options_are_exit_2(args: list[str], text: str) -> None:
    done = subprocess.run([*B4A, "emulator", "fcm", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and text in done.stderr


def test_cli_unwritable_credentials_path_is_exit_2(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "sa.json"
    done = subprocess.run([*B4A, "emulator", "fcm", "--write-credentials", str(target)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert f"cannot write credentials to {target}" in done.stderr
