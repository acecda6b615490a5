"""`b4a run` as CI runs it: exit codes, one-line errors, reports, both framings."""
from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema

from harness.contract import data_dir, load_contract

PROFILES = Path(str(data_dir("fixtures"))) / "profiles"


def b4a(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=600, cwd=cwd)


def test_actioncable_framing_run_is_green_and_writes_every_report(tmp_path):
    result = b4a("run", "--framing", "actioncable", "--report-dir", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    schema = load_contract().schemas["report.schema.json"]
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(report)
    # every check passes but the one that can only SKIP on a correct backend (nothing unauthenticated let in)
    assert report["counts"]["PASS"] == report["counts"]["total"] - 1 > 20 and report["counts"]["SKIP"] == 1
    assert report["outcome"] == "PASS"
    families = {c["family"] for c in report["checks"]}
    assert {"friendship", "game-session", "chat", "call", "auth", "push", "delivery"} <= families
    junit = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    assert sum(int(s.get("tests")) for s in junit.iter("testsuite")) == report["counts"]["total"]
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Delivery matrix" in html and "actioncable" in json.dumps(report["checks"][0]["transcript"]) + html
    # Credentials never reach a report; device tokens (the evidence) do.
    everything = html + (tmp_path / "out" / "report.json").read_text() + (tmp_path / "out" / "junit.xml").read_text()
    assert "Bearer " not in everything.replace("Bearer ***", "")
    assert "b4a-b1-" in everything
    assert "b4a: " in result.stdout and "passed" in result.stdout


def test_an_unreachable_target_is_one_line_and_exit_2(tmp_path):
    result = b4a("run", "--target", str(PROFILES / "reference.yaml"), "--base-url", "http://127.0.0.1:9", "--emulator", "http://127.0.0.1:9", cwd=tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot connect" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_profile_names_the_key_and_exits_2(tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_text((PROFILES / "reference.yaml").read_text().replace("framing: plain", "framing: smoke-signals"))
    result = b4a("run", "--target", str(profile), cwd=tmp_path)
    assert result.returncode == 2
    assert "websocket.framing" in result.stderr and "Traceback" not in result.stderr


def test_only_with_nothing_selected_exits_2(tmp_path):
    result = b4a("run", "--only", "NOPE-999", "-j", "1", cwd=tmp_path)
    assert result.returncode == 2
    assert "no checks selected by --only NOPE-999" in result.stderr


def test_usage_errors_exit_2(tmp_path):
    assert b4a("run", "--jobs", "0", cwd=tmp_path).returncode == 2
    assert b4a("run", "--base-url", "http://x", cwd=tmp_path).returncode == 2
    assert b4a("run", "--target", "t.yaml", "--fault", "missing-push", cwd=tmp_path).returncode == 2
    missing = b4a("run", "--target", str(tmp_path / "nope.yaml"), cwd=tmp_path)
    assert missing.returncode == 2 and "nope.yaml" in missing.stderr


def test_a_must_violation_exits_1_and_a_should_only_in_strict(tmp_path):
    must = b4a("run", "--fault", "missing-key", "--only", "PAY-003", "-j", "1", "--format", "json", "--report-dir", str(tmp_path / "a"), cwd=tmp_path)
    assert must.returncode == 1, must.stderr[-2000:]
    should = b4a("run", "--fault", "echo-to-actor", "--only", "FRND-001", "-j", "1", "--format", "json", "--report-dir", str(tmp_path / "b"), cwd=tmp_path)
    assert should.returncode == 0, should.stderr[-2000:]
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report["counts"]["NON_STRICT"] > 0 and report["counts"]["FAIL"] == 0


def test_an_emulator_that_cannot_start_is_one_line_and_exit_2(tmp_path, backend):
    import socket

    with socket.socket() as busy:  # the port the emulator is asked for is taken
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = b4a("run", "--target", str(PROFILES / "reference.yaml"), "--base-url", backend.base_url,
                     "--emulator-port", str(port), "--report-dir", str(tmp_path / "r"), cwd=tmp_path)
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "the FCM emulator could not start" in lines[0] and str(port) in lines[0], result.stderr
    assert "Traceback" not in result.stderr
