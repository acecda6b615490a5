"""Mutation self-test: the suite passes the clean reference backend and catches every fault switch,
in every convention style of the reference backend.

For each fault (`b4a serve --list-faults`), in the default and node styles (REST conventions,
auth, ids and dates differ the most between them), and for the faults of the socket layer in the
rails style too (ActionCable framing: auth, security, delivery to connections), `b4a run --fault
NAME --only CHECK` must
fail (exit 1) with a violation of exactly the rule the fault is documented to break, at that rule's
own level: a MUST without `--strict` (a MUST that only failed in strict mode would be a wrong
verdict), a SHOULD with `--strict`. CHECK is one check that exercises the fault (the whole rule's
selection would take minutes per fault); every rule id of the contract has at least one fault.
The table is printed at the end of the test session.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness.contract import load_contract
from harness.reference.faults import FAULTS

#: Runs at once: each is mostly waiting on sockets and deadlines (2 cores).
CONCURRENCY = 4
STYLES = ("default", "node", "rails")
#: The rails style (ActionCable) runs the faults whose effect goes through the socket layer; the
#: others only differ in REST conventions, which the node style already varies.
SOCKET_LAYER = {"drop-second-connection", "duplicate-delivery", "swap-order", "late-delivery", "presence-sticky",
                "presence-any-close", "leak-to-third", "echo-to-actor", "drop-one-in-thousand"}


def _styles_for(fault) -> tuple[str, ...]:
    rails = fault.name in SOCKET_LAYER or fault.rule_id.startswith(("AUTH-", "SEC-"))
    return STYLES if rails else STYLES[:2]

#: fault -> the check that exercises it (a check id prefix for `--only`).
CHECK_FOR_FAULT: dict[str, str] = {
    "wrong-friend-id": "test_friendship.py::test_accepted_reaches_the_creator",
    "open-requests-off-by-one": "test_friendship.py::test_canceled_reaches_the_invitee",
    "push-on-websocket-only": "test_friendship.py::test_canceled_reaches_the_invitee",
    "missing-push": "test_friendship.py::test_new_request_reaches",
    "echo-to-actor": "test_friendship.py::test_accepted_reaches_the_creator",
    "leak-to-third": "test_chat.py::test_a_chat_message_reaches",
    "game-one-side": "test_game_session.py::test_an_unscheduled_game",
    "missing-key": "test_friendship.py::test_new_request_reaches",
    "string-ids": "test_friendship.py::test_new_request_reaches",
    "wrong-message-type": "test_chat.py::test_a_chat_message_reaches",
    "accept-unauthenticated-socket": "test_auth.py::test_a_connection_without_valid_credentials_is_refused[without",
    "bad-date-time": "test_game_session.py::test_a_scheduled_game",
    "no-user-not-available": "test_call.py::test_calling_a_user_who_never_connected",
    "no-user-not-responding": "test_call.py::test_an_unanswered_call",
    "push-data-not-strings": "test_friendship.py::test_new_request_reaches",
    "push-message-type-key": "test_friendship.py::test_new_request_reaches",
    "notify-refused-action": "test_friendship.py::test_a_refused_accept",
    "duplicate-delivery": "test_friendship.py::test_new_request_reaches",
    "push-to-unregistered": "test_push.py::test_a_token_fcm_reports_unregistered",
    "push-failure-fails-action": "test_push.py::test_a_slow_failing_fcm",
    "wrong-chat-thread": "test_chat.py::test_a_chat_message_reaches",
    "game-relative-ids": "test_game_session.py::test_an_unscheduled_game",
    "invalid-transition-accepted": "test_game_session.py::test_a_transition_outside_the_graph_is_refused_and_silent[requested]",
    "call-wrong-friend-id": "test_call.py::test_a_declined_call",
    "wrong-message-text": "test_friendship.py::test_new_request_reaches",
    "unknown-status": "test_friendship.py::test_canceled_reaches_the_invitee",
    "extra-key": "test_friendship.py::test_new_request_reaches",
    "drop-second-connection": "test_friendship.py::test_new_request_reaches",
    "swap-order": "test_chat.py::test_chat_messages_arrive_in_the_order",
    "accept-bad-token-socket": "test_auth.py::test_a_connection_without_valid_credentials_is_refused[with-a-wrong",
    "anonymous-receives-all": "test_auth.py::test_an_unauthenticated_connection",
    "open-requests-counts-outgoing": "test_friendship.py::test_open_requests_never_counts",
    "scheduled-at-empty": "test_game_session.py::test_an_unscheduled_game",
    "scheduled-at-omitted": "test_game_session.py::test_an_unscheduled_game",
    "presence-sticky": "test_call.py::test_a_user_who_closed_every_connection",
    "presence-any-close": "test_call.py::test_a_user_with_one_of_two_connections_closed",
    "ring-timer-not-cancelled": "test_call.py::test_a_settled_call_never_times_out_afterwards",
    "ring-too-early": "test_call.py::test_an_unanswered_call",
    "game-partner-moves-one-side": "test_game_session.py::test_every_transition_reaches_both_users_whoever_makes_it[accepted-to-started-by-B]",
    "late-delivery": "test_friendship.py::test_canceled_reaches_the_invitee",
    # the period faults hit the first WebSocket copy of a fresh backend (then every 1000th / 100th)
    "drop-one-in-thousand": "test_friendship.py::test_new_request_reaches",
    "delay-one-in-hundred": "test_friendship.py::test_new_request_reaches",
    "invalid-transition-silent": "test_game_session.py::test_a_transition_outside_the_graph_is_refused_and_silent[requested]",
    "push-data-differs": "test_friendship.py::test_new_request_reaches",
    "validate-only-push": "test_chat.py::test_a_chat_message_reaches",
    "push-wrong-project": "test_chat.py::test_a_chat_message_reaches",
    "push-bad-bearer": "test_chat.py::test_a_chat_message_reaches",
    "subscription-trusts-user-param": "test_security.py::test_a_tampered_subscription",
    "mixed-credentials-both-streams": "test_security.py::test_a_tampered_subscription",
    "token-wildcard": "test_security.py::test_a_malformed_or_expired_token",
    "expired-token-accepted": "test_security.py::test_a_malformed_or_expired_token",
    "revoked-token-accepted": "test_security.py::test_a_revoked_token",
    "revoked-socket-still-receives": "test_security.py::test_a_revoked_token",
    "revoked-socket-kept-open": "test_security.py::test_a_revoked_token",
    "oversized-frame-blocks-loop": "test_security.py::test_hostile_client_frames",
    "deaf-beyond-connection-limit": "test_security.py::test_each_of_fifty_connections",
    "flood-guard-deafens": "test_security.py::test_a_reconnect_storm",
    "any-origin": "test_security.py::test_a_browser_origin",
    "level-overflow-crash": "test_security.py::test_hostile_input_to_actions",
}


def _b4a_run(report_dir: Path, *args: str) -> tuple[int, dict | None, float, str]:
    began = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "harness", "run", "--report-dir", str(report_dir), "--format", "json", *args],
                            capture_output=True, text=True, timeout=600)
    report_file = report_dir / "report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else None
    return result.returncode, report, time.monotonic() - began, result.stdout[-3000:] + result.stderr[-3000:]


def _violated(report: dict | None) -> dict[str, set[str]]:
    """rule id -> the levels it was reported at."""
    found: dict[str, set[str]] = {}
    for check in (report or {}).get("checks", ()):
        for violation in check["violations"]:
            found.setdefault(violation["rule_id"], set()).add(violation["level"])
    return found


@pytest.mark.parametrize("style", STYLES)
def test_the_clean_reference_backend_passes_every_check_strictly(tmp_path, record_property, style):
    code, report, took, output = _b4a_run(tmp_path, "--strict", "--style", style)
    assert code == 0, output
    assert report is not None and report["checks"], output
    outcomes = {c["id"]: c["outcome"] for c in report["checks"]}
    # The one check that may SKIP on a correct backend: nothing unauthenticated was let in.
    unexpected = {k: v for k, v in outcomes.items() if v != "PASS" and not (v == "SKIP" and "unauthenticated_connection" in k)}
    assert not unexpected, unexpected
    judged = {r["rule_id"] for r in report["rules"] if r["outcome"] == "PASS"}
    assert judged == set(load_contract().rules) - {"AUTH-003"}, sorted(set(load_contract().rules) - judged)
    record_property("b4a_summary", f"clean run ({style} style): {len(outcomes)} checks, "
                    f"{sum(v == 'PASS' for v in outcomes.values())} PASS, {len(judged)} rules judged, in {took:.1f}s")


def test_every_rule_has_a_fault_and_every_fault_a_check():
    assert set(CHECK_FOR_FAULT) == {f.name for f in FAULTS}
    assert {f.rule_id for f in FAULTS} == set(load_contract().rules)


def test_every_fault_switch_is_caught_by_the_rule_it_breaks_at_its_level_in_two_styles_and_the_socket_faults_in_three(tmp_path, record_property):
    contract = load_contract()

    def one(job):
        fault, style = job
        level = contract.rule(fault.rule_id).level.value
        strict = ("--strict",) if level == "SHOULD" else ()
        code, report, took, output = _b4a_run(tmp_path / style / fault.name, "--fault", fault.name, "--style", style,
                                              "--only", CHECK_FOR_FAULT[fault.name], "-j", "1", *strict)
        return fault, style, level, code, _violated(report), took, output

    jobs = [(fault, style) for fault in FAULTS for style in _styles_for(fault)]
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        rows = list(pool.map(one, jobs))
    lines = [f"{'fault':<30} {'rule':<9} {'style':<8} {'caught':<7} {'exit':<4} {'time':>6}  rules violated"]
    missed = []
    for fault, style, level, code, violated, took, output in rows:
        caught = code == 1 and level in violated.get(fault.rule_id, set())
        lines.append(f"{fault.name:<30} {fault.rule_id:<9} {style:<8} {'yes' if caught else 'NO':<7} {code:<4} {took:5.1f}s  "
                     f"{', '.join(sorted(violated)) or '-'}")
        if not caught:
            missed.append(f"{fault.name} ({fault.rule_id} {level}, {style} style): exit {code}, violated {sorted(violated)}\n{output}")
    for style in STYLES:
        total = sum(1 for row in rows if row[1] == style)
        lines.append(f"{style} style: caught {total - sum(1 for m in missed if f', {style} style' in m)} of {total} fault switches")
    record_property("b4a_summary", "\n".join(lines))
    assert not missed, "\n\n".join(missed)
