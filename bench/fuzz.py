"""`b4a fuzz` against the embedded reference backend: the full budget clean, and each planted fault
found, with counts and times.

  (a) clean: `b4a fuzz --max-examples 500` (about 11,000 requests and 1,600 notifications on the
      reference): it must find nothing; prints requests, notifications caused, wall time and rate;
  (b) per fault (leak-to-third, missing-key, level-overflow-crash; more with --fault): a small
      budget, the findings by rule and the time to find them.

Each run starts its own backend and emulator (loopback, free ports), as `b4a fuzz` does.

Run: .venv/bin/python bench/fuzz.py [--max-examples N] [--seed S] [--fault NAME ...] [--no-clean]
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

FAULTS = ("leak-to-third", "missing-key", "level-overflow-crash")


def fuzz(report_dir: Path, *args: str) -> tuple[int, dict[str, Any], str, float]:
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "harness", "fuzz", "--report-dir", str(report_dir), "--format", "json",
                           *args], capture_output=True, text=True)
    took = time.monotonic() - began
    report = json.loads((report_dir / "report.json").read_text()) if (report_dir / "report.json").exists() else {}
    return done.returncode, report, done.stderr, took


def counts(stderr: str) -> tuple[int, int]:
    found = re.search(r"(\d+) requests, (\d+) notifications caused", stderr)
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


def findings(report: dict[str, Any]) -> Counter[str]:
    return Counter(v["rule_id"] for check in report.get("checks", ()) for v in check["violations"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--fault", action="append", default=[])
    parser.add_argument("--fault-examples", type=int, default=20)
    parser.add_argument("--no-clean", action="store_true")
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory(prefix="b4a-bench-fuzz-") as tmp:
        if not args.no_clean:
            code, report, stderr, took = fuzz(Path(tmp) / "clean", "--max-examples", str(args.max_examples),
                                              "--seed", str(args.seed), "--time-limit", "3600")
            requests, caused = counts(stderr)
            print(f"clean   --max-examples {args.max_examples}: exit {code}, {requests} requests, {caused} notifications "
                  f"caused, findings {dict(findings(report)) or 'none'}, {took:.1f} s ({requests / took:.0f} requests/s)")
            failed |= code != 0
        for fault in args.fault or FAULTS:
            code, report, stderr, took = fuzz(Path(tmp) / fault, "--fault", fault, "--max-examples",
                                              str(args.fault_examples), "--seed", str(args.seed))
            requests, caused = counts(stderr)
            print(f"{fault:<22} --max-examples {args.fault_examples}: exit {code}, findings "
                  f"{dict(findings(report)) or 'none'} in {requests} requests, {took:.1f} s")
            failed |= code != 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
