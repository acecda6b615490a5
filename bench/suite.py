"""Suite wall time at -j1 and at the default -j, and the harness's overhead over a raw HTTP drive.

In one run, against one FCM emulator and one reference backend (both on loopback):
  (a) `b4a run -j 1` and (b) `b4a run` at the default concurrency, wall time each (the same
      subprocess command a CI job runs, so interpreter and worker start-up are included);
  (c) a raw drive: the HTTP calls of run (a), read back from its report's transcripts, replayed
      in order with `requests` (fresh users, ids and tokens mapped), with no WebSocket, no
      validation, no waiting for deliveries. The difference (a) - (c) is what the harness adds:
      listeners, readiness barriers, waiting for copies and markers, judging, reports.
Prints the three wall times, the speed-up of (b) over (a), and the overhead ratio (a) / (c).

Run: .venv/bin/python bench/suite.py [--rounds N]
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from harness.contract import data_dir
from harness.emulator.fcm import FcmEmulator
from harness.reference import ReferenceBackend

PROFILE = Path(str(data_dir("fixtures"))) / "profiles" / "reference.yaml"
DEFAULT_JOBS = 4  # b4a run's default


def b4a_run(base_url: str, emulator: str, jobs: int, report_dir: Path) -> float:
    began = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--target", str(PROFILE), "--base-url", base_url, "--emulator", emulator,
         "-j", str(jobs), "--format", "json", "--report-dir", str(report_dir)],
        capture_output=True, text=True, timeout=600,
    )
    took = time.perf_counter() - began
    if result.returncode != 0:
        sys.exit(f"bench/suite.py: b4a run -j {jobs} exited {result.returncode}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return took


class RawDriver:
    """Replays recorded HTTP exchanges against a live backend, remapping users, ids and tokens."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.tokens: dict[str, str] = {}  # user label -> token, per check
        self.ids: dict[tuple[str, int], int] = {}  # (collection, recorded id) -> live id
        self.requests = 0

    def _collection(self, path: str) -> str:
        parts = [p for p in path.split("/") if p and not p.isdigit()]
        return parts[0] if parts else ""

    def _map_path(self, path: str) -> str:
        parts = path.split("/")
        for i, part in enumerate(parts):
            if part.isdigit() and i > 0:
                parts[i] = str(self.ids.get((parts[i - 1] if parts[i - 1] != "users" else "users", int(part)), int(part)))
        return "/".join(parts)

    def _map_body(self, body: Any) -> Any:
        if isinstance(body, dict):
            return {k: (self.ids.get(("users", v), v) if k.endswith("_id") and isinstance(v, int) else v) for k, v in body.items()}
        return body

    def replay(self, entry: dict[str, Any]) -> None:
        path = re.sub(r"^https?://[^/]+", "", entry["url"])
        path = self._map_path(path)
        headers = {}
        token = self.tokens.get(entry["label"])
        if token and not path.startswith("/users"):
            headers["Authorization"] = f"Bearer {token}"
        body = self._map_body(entry.get("request_body"))
        if body is not None and path.split("?")[0] == "/users":
            body = {"name": f"{body.get('name', 'u')}-raw{self.requests}"}
        response = self.session.request(entry["method"], self.base_url + path, json=body, headers=headers, timeout=30)
        self.requests += 1
        recorded = entry.get("response_body")
        live = response.json() if response.headers.get("content-type", "").startswith("application/json") else None
        if isinstance(recorded, dict) and isinstance(live, dict) and isinstance(recorded.get("id"), int) and isinstance(live.get("id"), int):
            collection = self._collection(path.split("?")[0])
            if path.split("?")[0].endswith("/messages"):
                return  # a message id is never used again
            self.ids[(collection if collection != "games" else "sessions", recorded["id"])] = live["id"]
            if collection == "users":
                self.tokens[entry["label"]] = live["token"]


def raw_drive(base_url: str, report: dict[str, Any]) -> tuple[float, int]:
    driver = RawDriver(base_url)
    began = time.perf_counter()
    for check in report["checks"]:
        driver.tokens.clear()
        for entry in check["transcript"]:
            if entry["kind"] == "http":
                driver.replay(entry)
    return time.perf_counter() - began, driver.requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="repeat each measurement and keep the best (default 1)")
    args = parser.parse_args()
    with FcmEmulator() as emulator, ReferenceBackend(fcm_emulator_url=emulator.base_url) as backend, \
            tempfile.TemporaryDirectory() as tmp:
        serial, parallel, raw = [], [], []
        requests_count = 0
        for n in range(args.rounds):
            serial.append(b4a_run(backend.base_url, emulator.base_url, 1, Path(tmp) / f"j1-{n}"))
            parallel.append(b4a_run(backend.base_url, emulator.base_url, DEFAULT_JOBS, Path(tmp) / f"jd-{n}"))
            report = json.loads((Path(tmp) / f"j1-{n}" / "report.json").read_text())
            took, requests_count = raw_drive(backend.base_url, report)
            raw.append(took)
        checks = len(report["checks"])
        print(f"suite: {checks} checks against the reference backend, client: b4a run (subprocess), best of {args.rounds}")
        print(f"b4a run -j 1                 : {min(serial):6.1f} s wall")
        print(f"b4a run -j {DEFAULT_JOBS} (default)       : {min(parallel):6.1f} s wall")
        print(f"raw drive, same {requests_count} HTTP calls: {min(raw):6.1f} s wall (requests, one session, no WebSocket)")
        print(f"speed-up -j {DEFAULT_JOBS} / -j 1          = {min(serial) / min(parallel):.2f}x")
        print(f"overhead -j 1 / raw drive    = {min(serial) / min(raw):.1f}x  (harness adds {min(serial) - min(raw):.1f} s)")


if __name__ == "__main__":
    main()
