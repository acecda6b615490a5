"""Run inside a private network+mount namespace where the Google host names resolve to 127.0.0.1:
starts the emulator in host mode on port 443, then sends with unmodified SDK paths that ignore
proxies (firebase-admin Python's send_each_async over httpx/HTTP2, Node's sendEach over HTTP/2)."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import firebase_admin
from firebase_admin import credentials, messaging

from harness.emulator.fcm import FcmEmulator


def main() -> None:
    node, modules = sys.argv[1], sys.argv[2]
    report: dict[str, object] = {}
    with FcmEmulator(proxy=False, host_mode_port=443) as emulator, tempfile.TemporaryDirectory() as tmp:
        sa = Path(tmp) / "sa.json"
        emulator.write_credentials(sa)
        os.environ.update({"SSL_CERT_FILE": emulator.ca_cert_path, "REQUESTS_CA_BUNDLE": emulator.ca_cert_path})
        app = firebase_admin.initialize_app(credentials.Certificate(str(sa)), name="host-mode")
        batch = asyncio.run(messaging.send_each_async(
            [messaging.Message(token=f"py-h2-{n}", data={"n": str(n)}) for n in range(3)], app=app))
        report["python_async_success"] = batch.success_count
        report["python_errors"] = [str(r.exception) for r in batch.responses if not r.success]
        if node:
            done = subprocess.run(
                [node, str(Path(__file__).parent / "node" / "send_each.js"), str(sa)],
                env={"PATH": os.environ.get("PATH", ""), "NODE_PATH": modules,
                     "NODE_EXTRA_CA_CERTS": emulator.ca_cert_path, "HOME": tmp},
                capture_output=True, text=True, timeout=60)
            report["node"] = json.loads(done.stdout) if done.returncode == 0 else {"stderr": done.stderr[-2000:]}
        report["captured"] = sorted(m.token or "" for m in emulator.inbox().messages())
    print(json.dumps(report))


if __name__ == "__main__":
    main()
