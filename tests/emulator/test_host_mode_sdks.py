"""Host mode with unmodified SDK paths that ignore proxies, inside a private namespace whose
/etc/hosts points fcm.googleapis.com and oauth2.googleapis.com at the emulator on 127.0.0.1:443."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNSHARE = shutil.which("unshare")
IP = shutil.which("ip")


def _namespaces_work() -> bool:
    if UNSHARE is None or IP is None:
        return False
    probe = subprocess.run([UNSHARE, "--net", "--mount", "true"], capture_output=True, timeout=10)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(
    not _namespaces_work(), reason="needs `unshare --net --mount` (root or user namespaces) and `ip`")


def test_python_async_and_node_send_each_reach_host_mode(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n127.0.0.1 fcm.googleapis.com oauth2.googleapis.com\n")
    node = shutil.which("node") or ""
    modules = ROOT / "node_modules"
    if not (modules / "firebase-admin").is_dir():
        node = ""
    script = (
        f"{IP} link set lo up && mount --bind {hosts} /etc/hosts && "
        f"exec {sys.executable} -m tests.emulator.host_mode_probe '{node}' '{modules}'"
    )
    done = subprocess.run([str(UNSHARE), "--net", "--mount", "sh", "-c", script], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["python_async_success"] == 3, report
    expected = [f"py-h2-{n}" for n in range(3)]
    if node:
        assert report["node"] == {"success": 2, "errors": []}, report
        expected += ["node-h2-1", "node-h2-2"]
    assert report["captured"] == sorted(expected)
