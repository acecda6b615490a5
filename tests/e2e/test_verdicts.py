"""Honest verdicts: PASS only for what was judged; everything pytest saw fails becomes a result.

Each test runs real checks (a team's own, through the pytest plugin, or `b4a run`) against the
real reference backend and FCM emulator, and reads the results the run wrote.
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.contract import data_dir
from harness.emulator.fcm import FcmEmulator
from harness.reference import ReferenceBackend

PROFILES = Path(str(data_dir("fixtures"))) / "profiles"
PROFILE = str(PROFILES / "reference.yaml")


@pytest.fixture(scope="module")
def dropping_backend(emulator: FcmEmulator) -> Iterator[ReferenceBackend]:
    """A backend whose users' second connections never receive anything (no marker either)."""
    with ReferenceBackend(fcm_emulator_url=emulator.base_url, faults=["drop-second-connection"]) as running:
        yield running


def _team_run(pytester, backend, emulator, source: str, *extra: str) -> tuple[object, list[dict]]:
    pytester.makepyfile(test_team=source)
    results = pytester.path / "results.jsonl"
    outcome = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--b4a-profile", PROFILE, "--b4a-base-url", backend.base_url,
                                            "--b4a-emulator", emulator.base_url, "--b4a-results", str(results), *extra, timeout=180)
    lines = results.read_text().splitlines() if results.exists() else []
    return outcome, [json.loads(line) for line in lines if line.strip()]


def _b4a(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=600, cwd=cwd)


SKIP_AFTER_A_VIOLATION = '''
import pytest

@pytest.mark.rule("FRND-001")
def test_found_then_skipped(check, make_user):
    a = make_user("A", devices=0)
    b = make_user("B", devices=0)
    check.connect()
    request = check.require_ok(check.act("friendship.request", a, b))
    check.expect("friendship/new_request", request, actor=a, recipients={b: {"friend_id": b.id, "open_requests": 1}})  # wrong on purpose
    pytest.skip("the rest of the flow needs an action this target lacks")
'''


def test_a_skip_after_violations_keeps_them_and_says_what_was_skipped(pytester, backend, emulator):
    _, results = _team_run(pytester, backend, emulator, SKIP_AFTER_A_VIOLATION)
    [result] = results
    assert result["outcome"] == "FAIL", result["message"]
    assert [v["rule_id"] for v in result["violations"]] == ["FRND-001"]
    assert "then skipped: the rest of the flow needs an action" in result["message"]


NOTHING_JUDGED_AND_UNKNOWN_QUIET = '''
import pytest

@pytest.mark.rule("FRND-001", "DLV-004")
def test_nothing_but_connections(check, make_user):
    make_user("A", devices=0)
    check.connect()

@pytest.mark.rule("DLV-004")
def test_quiet_cannot_be_proven(check, make_user):
    make_user("B", connections=2, devices=0)
    check.connect()
'''


def test_a_check_that_judged_nothing_is_not_a_pass_and_unproven_quiet_is_an_error(pytester, dropping_backend, emulator):
    _, results = _team_run(pytester, dropping_backend, emulator, NOTHING_JUDGED_AND_UNKNOWN_QUIET)
    by_name = {r["name"]: r for r in results}
    quiet = by_name["test_quiet_cannot_be_proven"]
    # one of B's two connections (the one the backend saw second) never gets its marker: whether
    # anything else reached it is unknown
    assert quiet["outcome"] == "ERROR" and "could not prove quiet on B#" in quiet["message"], quiet["message"]
    assert {r["rule_id"]: r["outcome"] for r in quiet["rules"]} == {"DLV-004": "SKIP"}
    idle = by_name["test_nothing_but_connections"]
    # A and the bystander got their markers (quiet proven, DLV-004 judged), but FRND-001 was never reached
    assert {r["rule_id"]: (r["outcome"], r["note"]) for r in idle["rules"]} == {
        "FRND-001": ("SKIP", "not reached"), "DLV-004": ("PASS", "judged")}


TEARDOWN_AND_PLAIN_TESTS = '''
import pytest

@pytest.fixture
def breaks_on_teardown():
    yield
    raise RuntimeError("cleanup exploded")

@pytest.mark.rule("FRND-001")
def test_passes_then_teardown_fails(check, make_user, breaks_on_teardown):
    a = make_user("A", devices=0)
    b = make_user("B", devices=0)
    check.connect()
    request = check.require_ok(check.act("friendship.request", a, b))
    check.expect("friendship/new_request", request, actor=a, recipients={b: {"friend_id": a.id, "open_requests": 1}})

@pytest.mark.rule("PAY-001")
def test_without_the_check_fixture_that_fails():
    assert 1 == 2, "our own assertion"
'''


def test_teardown_errors_and_tests_without_the_check_fixture_become_results(pytester, backend, emulator):
    outcome, results = _team_run(pytester, backend, emulator, TEARDOWN_AND_PLAIN_TESTS)
    by_name: dict[str, list[dict]] = {}
    for result in results:
        by_name.setdefault(result["name"], []).append(result)
    teardown = [r["outcome"] for r in by_name["test_passes_then_teardown_fails"]]
    assert teardown == ["PASS", "ERROR"], teardown  # b4a run keeps the worse of the two (merge_results)
    assert "teardown failed: RuntimeError: cleanup exploded" in by_name["test_passes_then_teardown_fails"][1]["message"]
    [plain] = by_name["test_without_the_check_fixture_that_fails"]
    assert plain["outcome"] == "FAIL" and "our own assertion" in plain["message"]
    assert plain["rules"] == [{"rule_id": "PAY-001", "outcome": "FAIL", "note": "the test's own assertions"}]


def test_merged_results_keep_the_worse_outcome_and_both_messages():
    from harness.commands.run import merge_results

    passed = {"id": "x", "outcome": "PASS", "message": "", "violations": [], "transcript": [{"t": 0}], "delivery": [], "rules": [{"rule_id": "FRND-001", "outcome": "PASS", "note": "judged"}]}
    error = {"id": "x", "outcome": "ERROR", "message": "teardown failed: boom", "violations": [], "transcript": [], "delivery": [], "rules": []}
    [merged] = merge_results([passed, error])
    assert merged["outcome"] == "ERROR" and merged["message"] == "teardown failed: boom"
    assert merged["transcript"] == [{"t": 0}] and merged["rules"] == passed["rules"]


CRASHING_WORKER = '''
import os

def test_the_worker_dies(check):
    os._exit(3)
'''


def test_a_crashed_xdist_worker_becomes_an_error_result(pytester, backend, emulator):
    outcome, results = _team_run(pytester, backend, emulator, CRASHING_WORKER, "-n", "1")
    assert [r["outcome"] for r in results] == ["ERROR"], results
    assert "worker 'gw0' crashed" in results[0]["message"], results[0]["message"]


def test_a_run_that_judged_nothing_exits_2_with_one_line(tmp_path):
    # On a correct backend this check SKIPs: nothing unauthenticated is let in, so nothing to watch.
    result = _b4a("run", "--only", "test_auth.py::test_an_unauthenticated_connection", "-j", "1", "--report-dir", str(tmp_path / "r"), cwd=tmp_path)
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert "nothing was checked" in result.stderr and "Traceback" not in result.stderr


def test_an_unwritable_report_dir_is_one_line_and_exit_2(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = _b4a("run", "--only", "test_call.py::test_a_declined_call", "-j", "1", "--report-dir", str(blocker / "sub"), cwd=tmp_path)
    assert result.returncode == 2 and "cannot write the reports" in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_without_an_fcm_inbox_every_push_rule_is_skip_not_pass(tmp_path, backend):
    profile = tmp_path / "no-push.yaml"
    profile.write_text((PROFILES / "reference.yaml").read_text().replace("mode: proxy", "mode: none"))
    result = _b4a("run", "--target", str(profile), "--base-url", backend.base_url, "--only", "chat", "--only", "push", "-j", "1",
                  "--format", "json", "--report-dir", str(tmp_path / "r"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    rules = {r["rule_id"]: r for r in report["rules"]}
    for rule_id in ("DLV-002", "PUSH-001", "PUSH-002", "PUSH-003", "PUSH-004", "PUSH-005"):
        assert rules[rule_id]["outcome"] == "SKIP" and rules[rule_id]["checks"] == 0, rules[rule_id]
    assert rules["CHAT-001"]["outcome"] == "PASS"
    push_checks = [c for c in report["checks"] if c["family"] == "push"]
    assert push_checks and {c["outcome"] for c in push_checks} == {"SKIP"}


@pytest.fixture
def not_a_websocket_server(tmp_path) -> Iterator[str]:
    """A plain HTTP file server: it answers a WebSocket upgrade of /ws with 404 Not Found."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_upgrade_answered_404_makes_the_auth_checks_errors_not_passes(tmp_path, backend, emulator, not_a_websocket_server):
    profile = tmp_path / "wrong-socket.yaml"
    profile.write_text((PROFILES / "reference.yaml").read_text().replace(
        'url: "/ws?token={{token}}"', f'url: "ws://{not_a_websocket_server}/ws?token={{{{token}}}}"'))
    result = _b4a("run", "--target", str(profile), "--base-url", backend.base_url, "--emulator", emulator.base_url,
                  "--only", "test_auth.py::test_a_connection_without_valid_credentials", "-j", "1", "--format", "json",
                  "--report-dir", str(tmp_path / "r"), cwd=tmp_path)
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert {c["outcome"] for c in report["checks"]} == {"ERROR"}
    assert all("HTTP 404" in c["message"] for c in report["checks"]), [c["message"] for c in report["checks"]]
    assert {r["rule_id"]: r["outcome"] for r in report["rules"] if r["rule_id"].startswith("AUTH")} == {
        "AUTH-001": "ERROR", "AUTH-002": "ERROR", "AUTH-003": "SKIP"}
