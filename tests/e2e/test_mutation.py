"""Mutation self-test: the suite passes the clean reference backend and catches every fault switch.

For each fault of the reference backend (`b4a serve --list-faults`), `b4a run --fault NAME --only
RULE --strict` must fail (exit 1) with a violation of exactly the rule the fault is documented to
break. The table is printed at the end of the test session.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


from harness.reference.faults import FAULTS

CONCURRENCY = 2  # runs at once (2 cores): each is mostly waiting on sockets


def _b4a_run(report_dir: Path, *args: str) -> tuple[int, dict | None, float, str]:
    began = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "harness", "run", "--report-dir", str(report_dir), "--format", "json", *args],
                            capture_output=True, text=True, timeout=600)
    report_file = report_dir / "report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else None
    return result.returncode, report, time.monotonic() - began, result.stdout[-3000:] + result.stderr[-3000:]


def _violated(report: dict | None) -> set[str]:
    return {v["rule_id"] for check in (report or {}).get("checks", ()) for v in check["violations"]}


def test_the_clean_reference_backend_passes_every_check_strictly(tmp_path, record_property):
    code, report, took, output = _b4a_run(tmp_path, "--strict")
    assert code == 0, output
    assert report is not None and report["checks"], output
    outcomes = {c["id"]: c["outcome"] for c in report["checks"]}
    assert set(outcomes.values()) == {"PASS"}, {k: v for k, v in outcomes.items() if v != "PASS"}
    record_property("b4a_summary", f"clean run: {len(outcomes)} checks PASS in {took:.1f}s")


def test_every_fault_switch_is_caught_by_the_rule_it_breaks(tmp_path, record_property):
    def one(fault):
        code, report, took, output = _b4a_run(tmp_path / fault.name, "--fault", fault.name, "--only", fault.rule_id, "--strict", "-j", "1")
        return fault, code, _violated(report), took, output

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        rows = list(pool.map(one, FAULTS))
    lines = [f"{'fault':<30} {'rule':<9} {'caught':<7} {'exit':<4} {'time':>6}  rules violated"]
    missed = []
    for fault, code, violated, took, output in rows:
        caught = fault.rule_id in violated and code == 1
        lines.append(f"{fault.name:<30} {fault.rule_id:<9} {'yes' if caught else 'NO':<7} {code:<4} {took:5.1f}s  {', '.join(sorted(violated)) or '-'}")
        if not caught:
            missed.append(f"{fault.name} ({fault.rule_id}): exit {code}, violated {sorted(violated)}\n{output}")
    lines.append(f"caught {len(rows) - len(missed)} of {len(rows)} fault switches ({100 * (len(rows) - len(missed)) // len(rows)}%)")
    record_property("b4a_summary", "\n".join(lines))
    assert len(FAULTS) >= 15
    assert not missed, "\n\n".join(missed)
