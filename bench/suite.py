"""Suite wall time: -j 1 against the default -j, against a sequential baseline, and where time goes.

In one run, against one FCM emulator and one reference backend (both on loopback), the backend
driven as an external target (`b4a run --target reference.yaml --base-url ... --emulator ...`):
  (a) `b4a run -j 1` and (b) `b4a run` at the default concurrency (`-j auto`), wall time each (the
      same subprocess command a CI job runs, so interpreter and worker start-up are included);
  (c) the baseline of the issue "Speed", goal 2: the same flows driven sequentially, one check at a
      time, with a fixed 0.35 s quiet window per negative check. It replays the HTTP calls of run (a)
      (read back from its report's transcripts; fresh users, ids and tokens mapped), waits 0.35 s
      after every event that has a negative expectation (someone who must receive nothing), and
      keeps the checks' deliberate waits (the ring timeout);
  (d) the floor: the same HTTP calls replayed with nothing else.
Prints the wall times, "default / -j 1" (goal: never above 1), "b4a run / baseline" (goal: at most
0.5, while b4a judges the rules it counts), and where the suite's time goes (per phase, and the
slowest checks: the `b4a run --profile-time` table of run (b)).

Run: .venv/bin/python bench/suite.py [--rounds N]
"""
from __future__ import annotations

import argparse
import io
import json
import os
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
QUIET_WINDOW = 0.35  # the baseline's wait per negative check (issue "Speed", goal 2)


def b4a_run(base_url: str, emulator: str, jobs: str, report_dir: Path) -> float:
    began = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--target", str(PROFILE), "--base-url", base_url, "--emulator", emulator,
         "-j", jobs, "--format", "json", "--report-dir", str(report_dir)],
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


def raw_drive(base_url: str, report: dict[str, Any], quiet_window: float = 0.0) -> tuple[float, int, int]:
    """Replay every check's HTTP calls in order; with `quiet_window`, the sequential baseline: that
    long after each event with a negative expectation, and the checks' deliberate waits kept."""
    driver = RawDriver(base_url)
    windows = 0
    began = time.perf_counter()
    for check in report["checks"]:
        driver.tokens.clear()
        for entry in check["transcript"]:
            if entry["kind"] == "http":
                driver.replay(entry)
            elif quiet_window and entry["kind"] == "note" and str(entry.get("text", "")).startswith("waiting "):
                time.sleep(float(entry["text"].split()[1]))  # "waiting 2.5 s: the ring timeout ..."
        if quiet_window:
            negative = {row["event_seq"] for row in check["delivery"] if row["expected"] == 0 and row["event_seq"] is not None}
            windows += len(negative)
            time.sleep(quiet_window * len(negative))
    return time.perf_counter() - began, driver.requests, windows


def where_time_goes(report: dict[str, Any]) -> list[str]:
    from harness.report.model import CheckResult, Report, RunInfo
    from harness.report.timings import render_timings

    checks = tuple(CheckResult.from_json(c) for c in report["checks"])
    run = RunInfo(**{k: v for k, v in report["run"].items()})
    out = io.StringIO()
    render_timings(Report(run=run, checks=checks, rules=()), out)
    return out.getvalue().splitlines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="repeat each measurement and keep the best (default 1)")
    args = parser.parse_args()
    with FcmEmulator() as emulator, ReferenceBackend(fcm_emulator_url=emulator.base_url) as backend, \
            tempfile.TemporaryDirectory() as tmp:
        serial, parallel, baseline, raw = [], [], [], []
        for n in range(args.rounds):
            serial.append(b4a_run(backend.base_url, emulator.base_url, "1", Path(tmp) / f"j1-{n}"))
            parallel.append(b4a_run(backend.base_url, emulator.base_url, "auto", Path(tmp) / f"jd-{n}"))
            report = json.loads((Path(tmp) / f"j1-{n}" / "report.json").read_text())
            took, requests_count, windows = raw_drive(backend.base_url, report, QUIET_WINDOW)
            baseline.append(took)
            raw.append(raw_drive(backend.base_url, report)[0])
        default_report = json.loads((Path(tmp) / f"jd-{args.rounds - 1}" / "report.json").read_text())
        judged = sum(1 for rule in default_report["rules"] if rule["outcome"] in ("PASS", "FAIL", "NON_STRICT"))
        checks = len(report["checks"])
        jobs = _auto_jobs()
        print(f"suite: {checks} checks against the reference backend as an external target; client: b4a run (subprocess); "
              f"{os.cpu_count()} cores; best of {args.rounds}")
        print(f"b4a run -j 1                        : {min(serial):6.2f} s wall")
        print(f"b4a run -j auto (= {jobs})              : {min(parallel):6.2f} s wall")
        print(f"baseline, sequential + {QUIET_WINDOW} s quiet  : {min(baseline):6.2f} s wall ({requests_count} HTTP calls, "
              f"{windows} negative checks, deliberate waits kept)")
        print(f"floor, the HTTP calls alone         : {min(raw):6.2f} s wall")
        print(f"ratio -j auto / -j 1                = {min(parallel) / min(serial):.2f}  (goal: at most 1)")
        print(f"ratio b4a run / baseline            = {min(parallel) / min(baseline):.2f}  (goal: at most 0.5; "
              f"b4a judged {judged} rules)")
        for line in where_time_goes(default_report):
            print(line)


def _auto_jobs() -> int:
    from harness.commands.run import auto_jobs

    return auto_jobs()


if __name__ == "__main__":
    main()
