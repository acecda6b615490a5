"""Per-rule verdicts: worst outcome over the checks that judged a rule, SKIP when none judged it."""
from __future__ import annotations

import dataclasses

from harness.contract import load_contract
from harness.report import build_rule_summaries
from harness.report.model import CheckResult
from harness.violations import Level, Outcome, Violation

from .conftest import make_checks


def _by_id(checks: tuple[CheckResult, ...], *, strict: bool = False) -> dict:
    return {r.rule_id: r for r in build_rule_summaries(checks, load_contract(), strict=strict)}


def test_one_summary_per_contract_rule_in_contract_order() -> None:
    summaries = build_rule_summaries(make_checks(), load_contract())
    assert [s.rule_id for s in summaries] == list(load_contract().rules)
    assert all(s.title == load_contract().rule(s.rule_id).title for s in summaries)


def test_outcomes_follow_the_checks() -> None:
    rules = _by_id(make_checks())
    assert rules["FRND-001"].outcome is Outcome.FAIL and (rules["FRND-001"].checks, rules["FRND-001"].failed) == (2, 1)
    assert rules["DLV-002"].outcome is Outcome.FAIL  # carried by the failing check and violated in it
    assert rules["DLV-005"].outcome is Outcome.NON_STRICT and rules["DLV-005"].level == "SHOULD"
    # carried only by a skipped check: declared, never judged
    assert rules["CALL-001"].outcome is Outcome.SKIP and (rules["CALL-001"].checks, rules["CALL-001"].not_reached) == (0, 1)
    assert rules["CHAT-001"].outcome is Outcome.ERROR and rules["CHAT-001"].failed == 0
    assert rules["GAME-001"].outcome is Outcome.SKIP and rules["GAME-001"].checks == 0  # no check ran it


def test_a_rule_held_in_a_check_that_failed_on_another_rule_passes() -> None:
    rules = _by_id(make_checks())
    # test_new_request carries DLV-001 but failed on FRND-001 and DLV-002 only.
    assert rules["DLV-001"].outcome is Outcome.PASS and rules["DLV-001"].failed == 0


def test_a_failure_without_violations_counts_against_every_carried_rule() -> None:
    check = dataclasses.replace(make_checks()[1], violations=(), message="AssertionError: boom")
    rules = _by_id((check,))
    assert rules["DLV-001"].outcome is Outcome.FAIL and rules["FRND-001"].outcome is Outcome.FAIL


def test_a_violated_rule_the_check_did_not_declare_is_counted() -> None:
    extra = Violation(rule_id="PAY-004", level=Level.MUST, title="t", message="m", pointer="/friend_id")
    check = dataclasses.replace(make_checks()[1], violations=(extra,))
    rules = _by_id((check,))
    assert rules["PAY-004"].outcome is Outcome.FAIL and rules["PAY-004"].checks == 1


def test_strict_turns_a_broken_should_rule_into_fail() -> None:
    check = dataclasses.replace(make_checks()[2], outcome=Outcome.FAIL)
    assert _by_id((check,), strict=True)["DLV-005"].outcome is Outcome.FAIL
    assert _by_id(make_checks()[2:3])["DLV-005"].outcome is Outcome.NON_STRICT


def test_a_declared_rule_the_check_never_reached_is_not_counted_as_passed() -> None:
    base = make_checks()[0]  # PASS, declares FRND-001 and DLV-001
    check = dataclasses.replace(base, rules={"FRND-001": (Outcome.PASS, "judged"), "DLV-001": (Outcome.SKIP, "not reached")})
    rules = _by_id((check,))
    assert rules["FRND-001"].outcome is Outcome.PASS and rules["FRND-001"].checks == 1
    assert rules["DLV-001"].outcome is Outcome.SKIP and (rules["DLV-001"].checks, rules["DLV-001"].not_reached) == (0, 1)


def test_per_rule_verdicts_survive_the_json_round_trip() -> None:
    check = dataclasses.replace(make_checks()[0], rules={"FRND-001": (Outcome.PASS, "judged"), "DLV-001": (Outcome.SKIP, "not reached")})
    again = CheckResult.from_json(check.to_json())
    assert again.rules == check.rules
    assert check.to_json()["rules"] == [{"rule_id": "FRND-001", "outcome": "PASS", "note": "judged"},
                                        {"rule_id": "DLV-001", "outcome": "SKIP", "note": "not reached"}]


def test_a_rule_never_reached_in_an_error_check_shows_the_error() -> None:
    check = dataclasses.replace(make_checks()[4], rules={"CHAT-001": (Outcome.SKIP, "not reached")})
    rules = _by_id((check,))
    assert rules["CHAT-001"].outcome is Outcome.ERROR and rules["CHAT-001"].checks == 0
