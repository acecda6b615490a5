"""`b4a emulator fcm` as a process: startup text and env block, --write-credentials before listening,
--init-only and kept state dirs, clean stop, exit codes."""
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
import requests
from firebase_admin import credentials, messaging

from harness.emulator.fcm import FcmEmulator, FcmInbox

from .helpers import fetch_token

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
        text = "\n".join(lines)
        proxy = re.search(r"^export HTTPS_PROXY=(\S+)$", text, re.M)
        assert proxy and f"token_uri {base}/token" in text
        assert f"export FCM_BASE_URL={base}\n" in text
        assert f"export FCM_SEND_URL={base}/v1/projects/cli-project/messages:send\n" in text
        assert f"export GOOGLE_APPLICATION_CREDENTIALS={sa_path}\n" in text
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _connects(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def _exports(stdout: str) -> dict[str, str]:
    """The `export K=V` lines of an env block (values are shell-quoted only when they must be)."""
    return {key: value for key, value in re.findall(r"^export (\w+)=(\S+)$", stdout, re.M)}


def test_credentials_exist_before_any_port_accepts_a_connection(tmp_path: Path) -> None:
    sa_path, port, proxy_port = tmp_path / "sa.json", _free_port(), _free_port()
    process = subprocess.Popen([*B4A, "emulator", "fcm", "--port", str(port), "--proxy-port", str(proxy_port),
                                "--write-credentials", str(sa_path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline, first_seen = time.monotonic() + 30, {}
        while len(first_seen) < 2 and time.monotonic() < deadline and process.poll() is None:
            for name, number in (("plain", port), ("proxy", proxy_port)):
                if name not in first_seen and _connects(number):
                    # read at once, as a CI script that waited for the port would
                    first_seen[name] = json.loads(sa_path.read_text()) if sa_path.exists() else None
        assert set(first_seen) == {"plain", "proxy"}, "the emulator never listened"
        for account in first_seen.values():
            assert account is not None and account["token_uri"] == f"http://127.0.0.1:{port}/token"
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)


def test_init_only_prepares_a_state_dir_that_a_later_run_serves_with_the_same_credentials(
        tmp_path: Path) -> None:
    state, port, proxy_port = tmp_path / "state", _free_port(), _free_port()
    done = subprocess.run([*B4A, "emulator", "fcm", "--state-dir", str(state), "--init-only", "--project", "init",
                           "--port", str(port), "--proxy-port", str(proxy_port)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert all(line.startswith(("# ", "export ")) for line in done.stdout.splitlines()), done.stdout  # eval-able
    env = _exports(done.stdout)
    credentials = state / "fcm-service-account.json"
    assert env["GOOGLE_APPLICATION_CREDENTIALS"] == str(credentials)
    assert env["FCM_SEND_URL"] == f"http://127.0.0.1:{port}/v1/projects/init/messages:send"
    assert env["HTTPS_PROXY"] == f"http://127.0.0.1:{proxy_port}"
    assert env["REQUESTS_CA_BUNDLE"] == str(state / "ca.pem")
    account_text, ca_text = credentials.read_text(), (state / "ca.pem").read_text()
    assert oct(credentials.stat().st_mode & 0o777) == "0o600"
    assert not _connects(port) and not _connects(proxy_port)  # nothing served

    # Later: only the state dir. Same ports (remembered), same CA, same service account, and it works.
    process, lines = _start("--state-dir", str(state), "--project", "init",
                            "--write-credentials", str(credentials))
    try:
        assert lines[0].startswith(f"FCM emulator listening on http://127.0.0.1:{port} ")
        assert f"  CONNECT proxy: http://127.0.0.1:{proxy_port} (CA {state / 'ca.pem'})" in lines
        assert f"  credentials:   {credentials} (kept)" in lines
        assert credentials.read_text() == account_text and (state / "ca.pem").read_text() == ca_text
        account = json.loads(account_text)
        token = fetch_token(account)  # from the token_uri written at init, now served
        response = requests.post(env["FCM_SEND_URL"], json={"message": {"token": "init-device"}},
                                 headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 200, response.text
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)

    # What `b4a run --emulator-state-dir DIR` does: FcmEmulator(state_dir=DIR), ports left at 0.
    with FcmEmulator(project_id="init", state_dir=state, credentials_path=credentials) as again:
        assert (again.base_url, again.proxy_url) == (f"http://127.0.0.1:{port}", f"http://127.0.0.1:{proxy_port}")
        assert again.credentials_kept and credentials.read_text() == account_text


def test_a_changed_port_rewrites_the_credentials_for_the_new_token_uri(tmp_path: Path) -> None:
    state, credentials = tmp_path / "state", tmp_path / "state" / "sa.json"
    with FcmEmulator(state_dir=state, port=_free_port(), proxy=False, credentials_path=credentials) as first:
        assert first.credentials_kept is False
        old = json.loads(credentials.read_text())
    new_port = _free_port()
    with FcmEmulator(state_dir=state, port=new_port, proxy=False, credentials_path=credentials) as second:
        account = json.loads(credentials.read_text())
        assert second.credentials_kept is False and account["token_uri"] == f"http://127.0.0.1:{new_port}/token"
        assert account["private_key_id"] != old["private_key_id"]
    assert json.loads((state / "ports.json").read_text()) == {"port": new_port}


@pytest.mark.parametrize(("args", "error"), [
    (["--init-only"], "--init-only needs --state-dir DIR"),
    (["--init-only", "--state-dir", "{tmp}/s"],
     "--init-only: no fixed port for the plain listener and the CONNECT proxy"),
    (["--init-only", "--state-dir", "{tmp}/s", "--port", "9099"], "no fixed port for the CONNECT proxy"),
    (["--init-only", "--state-dir", "{tmp}/file", "--port", "9099", "--no-proxy"],
     "state directory {tmp}/file exists and is not a directory"),
    (["--init-only", "--state-dir", "{tmp}/file/below", "--port", "9099", "--no-proxy"],
     "cannot create state directory {tmp}/file/below"),
    (["--init-only", "--state-dir", "{tmp}/s", "--port", "9099", "--no-proxy", "--write-credentials",
      "{tmp}/missing/sa.json"], "cannot write credentials to {tmp}/missing/sa.json: No such file or directory"),
    (["--state-dir", "{tmp}/bad-ports"], "{tmp}/bad-ports/ports.json: 'port' must be a port 1..65535"),
    (["--state-dir", "{tmp}/file"], "state directory {tmp}/file exists and is not a directory"),
])
def test_cli_unusable_state_is_one_line_and_exit_2(args: list[str], error: str, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    (tmp_path / "bad-ports").mkdir()
    (tmp_path / "bad-ports" / "ports.json").write_text('{"port": 0}')
    done = subprocess.run([*B4A, "emulator", "fcm", *(a.replace("{tmp}", str(tmp_path)) for a in args)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("b4a emulator fcm: ") and error.replace("{tmp}", str(tmp_path)) in line, line
    assert done.stdout == ""
