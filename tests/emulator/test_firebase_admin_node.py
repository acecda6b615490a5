"""Unmodified firebase-admin for Node (13, Node 20) through the emulator's HTTPS proxy."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.emulator.fcm import FcmEmulator, FcmInbox

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).parent / "node" / "send.js"
NODE = shutil.which("node")
MODULES = ROOT / "node_modules"

pytestmark = pytest.mark.skipif(
    NODE is None or not (MODULES / "firebase-admin").is_dir() or not (MODULES / "https-proxy-agent").is_dir(),
    reason="needs `node` on PATH and `npm install` in the project root (firebase-admin, https-proxy-agent)",
)


def test_node_sdk_sends_through_the_proxy(emulator: FcmEmulator, inbox: FcmInbox, tmp_path: Path) -> None:
    account = emulator.service_account()
    # Node's google-auth-library ignores token_uri and always calls https://oauth2.googleapis.com/token;
    # an unreachable token_uri proves the token came through the proxy from the Google host name.
    account["token_uri"] = "http://127.0.0.1:9/token"
    credentials = tmp_path / "sa.json"
    credentials.write_text(json.dumps(account))
    inbox.revoke_token("node-gone")
    assert emulator.connect_proxy is not None and emulator.proxy_url is not None
    before = len(emulator.connect_proxy.connects)
    env = {"PATH": os.environ.get("PATH", ""), "NODE_PATH": str(MODULES),
           "NODE_EXTRA_CA_CERTS": emulator.ca_cert_path, "HOME": str(tmp_path)}
    done = subprocess.run([str(NODE), str(SCRIPT), str(credentials), emulator.proxy_url], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    steps = {line["step"]: line for line in map(json.loads, done.stdout.splitlines())}
    assert "error" not in steps, steps
    [captured] = inbox.messages()
    assert steps["send"]["name"] == captured.name
    assert captured.message == {"token": "node-device-1", "data": {"kind": "friendship"},
                                "notification": {"title": "From Node"}}
    assert steps["dry_run"]["name"].endswith("/messages/fake_message_id")
    assert steps["node-gone"]["code"] == "messaging/registration-token-not-registered"
    assert steps["node-reserved"]["code"] == "messaging/invalid-argument"
    assert "Invalid data payload key: message_type" in steps["node-reserved"]["message"]
    connects = emulator.connect_proxy.connects[before:]
    assert "oauth2.googleapis.com:443" in connects and "fcm.googleapis.com:443" in connects
