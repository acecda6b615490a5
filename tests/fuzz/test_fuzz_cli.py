"""`b4a fuzz` end to end against the embedded reference backend (real servers on loopback): clean
with a small budget, each planted fault found with its rule, reproducible by seed, reports written
as `b4a run` writes them, and one-line exit-2 errors for bad usage. The 500-example run is
bench/fuzz.py's (minutes, not seconds)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness.contract import load_contract

ROOT = Path(__file__).resolve().parents[2]
#: small and fixed: each run takes a few seconds, and the same seed sends the same requests
EXAMPLES = "10"
SEED = "7"


def _fuzz(report_dir: Path, *args: str) -> tuple[int, dict[str, Any] | None, str, float]:
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "harness", "fuzz", "--report-dir", str(report_dir), *args],
                          capture_output=True, text=True, timeout=300)
    report = report_dir / "report.json"
    return (done.returncode, json.loads(report.read_text()) if report.exists() else None,
            done.stdout[-4000:] + done.stderr[-3000:], time.monotonic() - began)


def _violations(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for check in report["checks"] for v in check["violations"]]


def test_a_clean_reference_backend_gives_no_finding_and_every_report(tmp_path: Path, record_property: Any) -> None:
    code, report, output, took = _fuzz(tmp_path, "--max-examples", "6", "--seed", "11")
    assert code == 0, output
    assert report is not None and not _violations(report), output
    Draft202012Validator(load_contract().schemas["report.schema.json"]).validate(report)
    assert {"report.json", "junit.xml", "report.html"} <= {p.name for p in tmp_path.iterdir()}
    assert "--seed 11" in report["run"]["command"]
    rules = {r["rule_id"]: r["outcome"] for r in report["rules"]}
    assert rules["SEC-010"] == rules["OAS-001"] == rules["DLV-004"] == "PASS", rules
    kinds = {c["id"].rsplit("[", 1)[1].rstrip("]") for c in report["checks"]}
    assert kinds == {"server-error", "openapi", "invalid-notification", "leak", "after-refusal"}
    assert re.search(r"\d+ requests, \d+ notifications caused, 0 finding\(s\)", output)
    record_property("b4a_summary", f"clean fuzz (6 examples): {took:.1f}s, {output.count(chr(10))} output lines")


@pytest.mark.parametrize(("fault", "rule_id", "kind"), [
    ("leak-to-third", "DLV-004", "leak"),
    ("missing-key", "PAY-003", "invalid-notification"),
    ("level-overflow-crash", "SEC-010", "server-error"),
])
def test_each_planted_fault_is_found_with_its_rule(tmp_path: Path, fault: str, rule_id: str, kind: str,
                                                   record_property: Any) -> None:
    code, report, output, took = _fuzz(tmp_path, "--fault", fault, "--max-examples", EXAMPLES, "--seed", SEED,
                                       "--format", "json")
    assert code == 1, output
    assert report is not None
    failed = [c for c in report["checks"] if c["outcome"] == "FAIL"]
    found = [c for c in failed if c["id"].endswith(f"[{kind}]") and any(v["rule_id"] == rule_id for v in c["violations"])]
    assert found, [(c["id"], [v["message"] for v in c["violations"]]) for c in failed]
    check = found[0]
    assert check["reproduce"].startswith(f"# b4a fuzz --seed {SEED} --max-examples {EXAMPLES}")
    assert "curl -X" in check["reproduce"]
    assert check["transcript"], "the request and what arrived are the evidence"
    assert any(entry["kind"] == "http" for entry in check["transcript"])
    if kind != "server-error":
        assert any(entry["kind"] in ("frame", "push") for entry in check["transcript"])
    record_property("b4a_summary", f"{fault}: {len(_violations(report))} finding(s) in {took:.1f}s")


def test_the_same_seed_sends_the_same_requests(tmp_path: Path) -> None:
    runs = []
    for n in range(2):
        code, report, output, _ = _fuzz(tmp_path / str(n), "--fault", "level-overflow-crash",
                                         "--max-examples", EXAMPLES, "--seed", SEED, "--format", "json")
        assert code == 1 and report is not None, output
        found = [c for c in report["checks"] if c["outcome"] == "FAIL"]
        runs.append([re.sub(r"127\.0\.0\.1:\d+", "HOST", c["reproduce"]) for c in found])
    assert runs[0] == runs[1] and runs[0]


def test_bad_usage_is_one_line_and_exit_2(tmp_path: Path) -> None:
    def fuzz(*args: str) -> tuple[int, str]:
        done = subprocess.run([sys.executable, "-m", "harness", "fuzz", "--report-dir", str(tmp_path), *args],
                              capture_output=True, text=True, timeout=120)
        return done.returncode, done.stderr.strip().splitlines()[-1]

    code, line = fuzz("--max-examples", "0")
    assert code == 2 and "--max-examples: must be at least 1" in line
    code, line = fuzz("--openapi", str(tmp_path / "nope.json"), "--max-examples", "1")
    assert (code, line) == (2, f"b4a fuzz: --openapi {tmp_path / 'nope.json'}: no such file")
    profile = str(ROOT / "fixtures" / "profiles" / "reference.yaml")
    code, line = fuzz("--target", profile, "--fault", "leak-to-third")
    assert code == 2 and line.startswith("b4a fuzz: --fault, --framing and --style apply to the embedded")
    code, line = fuzz("--target", profile, "--base-url", "http://192.0.2.1:9", "--emulator", "http://127.0.0.1:9")
    assert code == 2 and "http://192.0.2.1:9 is not on loopback" in line and "--allow-remote" in line
    assert not (tmp_path / "report.json").exists()
