"""A team's workflow: configure the backend for the emulator once, then let `b4a run --target` start it."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from harness.contract import data_dir
from harness.emulator.fcm import FcmEmulator
from harness.reference import ReferenceBackend

PROFILE = str(data_dir("fixtures") / "profiles" / "reference.yaml")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_backend_configured_before_the_run_pushes_to_the_emulator_b4a_run_starts(tmp_path, monkeypatch):
    port, proxy_port, state = _free_port(), _free_port(), tmp_path / "fcm-state"
    # Once, by hand: an emulator on fixed ports writes the CA and a service account into the state dir.
    with FcmEmulator(port=port, proxy_port=proxy_port, state_dir=state) as once:
        credentials = state / "fcm-service-account.json"
        once.write_credentials(credentials)
        backend_env = once.backend_env(credentials)
    clean_env = dict(os.environ)
    for key, value in backend_env.items():  # the backend process inherits its FCM settings
        monkeypatch.setenv(key, value)
    with ReferenceBackend() as backend:
        result = subprocess.run(
            [sys.executable, "-m", "harness", "run", "--target", PROFILE, "--base-url", backend.base_url,
             "--emulator-port", str(port), "--emulator-proxy-port", str(proxy_port), "--emulator-state-dir", str(state),
             "--only", "DLV-002", "-j", "1", "--format", "json", "--report-dir", str(tmp_path / "out")],
            capture_output=True, text=True, timeout=300, env=clean_env,
        )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"export HTTPS_PROXY=http://127.0.0.1:{proxy_port}" in result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    pushes = [row for row in report["delivery"] if row["channel"] == "fcm" and row["expected"] == 1]
    assert pushes and all(row["seen"] == 1 for row in pushes)


def test_emulator_options_without_a_target_are_a_usage_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "harness", "run", "--emulator-port", "9099"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2 and "need --target" in result.stderr


def test_a_base_url_backend_configured_from_an_init_only_state_dir_pushes_through_b4a_run(tmp_path):
    """fcm.mode base_url end to end: `b4a emulator fcm --init-only` prints the env, the backend is
    configured with FCM_BASE_URL and the credentials file before any emulator runs, and
    `b4a run --emulator-state-dir` starts the emulator on the remembered port."""
    port, proxy_port, state = _free_port(), _free_port(), tmp_path / "fcm-state"
    init = subprocess.run([sys.executable, "-m", "harness", "emulator", "fcm", "--state-dir", str(state), "--init-only",
                           "--port", str(port), "--proxy-port", str(proxy_port)], capture_output=True, text=True, timeout=60)
    assert init.returncode == 0, init.stderr
    env = dict(line.removeprefix("export ").split("=", 1) for line in init.stdout.splitlines() if line.startswith("export "))
    assert env["FCM_BASE_URL"] == f"http://127.0.0.1:{port}"
    credentials = env["GOOGLE_APPLICATION_CREDENTIALS"].strip("'")
    assert os.path.exists(credentials)
    profile = tmp_path / "base-url.yaml"
    profile.write_text(open(PROFILE).read().replace("mode: proxy", "mode: base_url"))
    backend = ReferenceBackend()
    backend.command += ["--fcm-base-url", env["FCM_BASE_URL"], "--fcm-credentials", credentials]  # as a team's backend is configured
    with backend:
        result = subprocess.run(
            [sys.executable, "-m", "harness", "run", "--target", str(profile), "--base-url", backend.base_url,
             "--emulator-state-dir", str(state), "--only", "DLV-002", "-j", "1", "--format", "json", "--report-dir", str(tmp_path / "out")],
            capture_output=True, text=True, timeout=300,
        )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"export FCM_BASE_URL=http://127.0.0.1:{port}" in result.stderr  # b4a run prints the base-URL group too
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    pushes = [row for row in report["delivery"] if row["channel"] == "fcm" and row["expected"] == 1]
    assert pushes and all(row["seen"] == 1 for row in pushes)
    assert {r["rule_id"]: r["outcome"] for r in report["rules"]}["DLV-002"] == "PASS"
