"""`b4a serve` as a process: start-up line, boot time, usage errors, the OpenAPI document."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from harness.reference import ReferenceBackend, ReferenceBackendError
from harness.reference.app import openapi_text
from harness.reference.openapi import render


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", "serve", *args],
                          capture_output=True, text=True, timeout=60)


def test_boots_in_under_two_seconds_and_prints_where_it_listens() -> None:
    started = time.monotonic()
    with ReferenceBackend() as backend:
        elapsed = time.monotonic() - started
        assert backend.output[-1].startswith("b4a serve: listening on http://127.0.0.1:")
        assert requests.get(f"{backend.base_url}/health", timeout=5).json() == {"status": "ok"}
    assert elapsed < 2.0, f"boot took {elapsed:.2f} s"


def test_served_openapi_equals_the_committed_and_the_built_document(
        reference: ReferenceBackend) -> None:
    served = requests.get(f"{reference.base_url}/openapi.json", timeout=5)
    assert served.headers["content-type"] == "application/json"
    assert served.text == openapi_text() == render()
    document = json.loads(served.text)
    assert document["openapi"].startswith("3.1")
    paths = {(path, method) for path, item in document["paths"].items() for method in item}
    assert ("/games/sessions/{id}/state", "post") in paths and ("/sessions/current", "delete") in paths
    assert len(paths) == 23


def test_port_in_use_is_a_clear_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve("--port", str(port))
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--fault", "no-such-fault"], "unknown fault(s): no-such-fault"),
    (["--ring-timeout", "0"], "--ring-timeout must be > 0"),
    (["--port", "0", "--fcm-emulator", "http://127.0.0.1:9"], "cannot reach the FCM emulator"),
    (["--port", "0", "--db", "/nonexistent/dir/x.db"], "cannot open database"),
])
def test_bad_configuration_is_a_clear_exit_2(args: list[str], message: str) -> None:
    result = serve(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_reference_backend_reports_a_failed_start_with_its_output() -> None:
    with pytest.raises(ReferenceBackendError, match="unknown fault"):
        ReferenceBackend(faults=["bogus"]).start()


def test_file_database_keeps_users_across_restarts(tmp_path: Path) -> None:
    db = str(tmp_path / "reference.sqlite3")
    with ReferenceBackend(db=db) as first:
        user = requests.post(f"{first.base_url}/users", json={"name": "kept"}, timeout=5).json()
    with ReferenceBackend(db=db) as second:
        me = requests.get(f"{second.base_url}/me", timeout=5,
                          headers={"Authorization": f"Bearer {user['token']}"})
        assert me.json() == {"id": user["id"], "name": "kept"}
