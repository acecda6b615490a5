"""JUnit XML: parses, one suite per family, outcomes mapped to failure/error/skipped, transcripts kept."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.report import Report
from harness.report.junit import render_junit
from harness.report.redact import scrub_report


def _root(report: Report) -> ET.Element:
    return ET.fromstring(render_junit(scrub_report(report)))


def _case(root: ET.Element, name_start: str) -> ET.Element:
    return next(c for c in root.iter("testcase") if c.get("name", "").startswith(name_start))


def test_counts_and_suites(report: Report) -> None:
    root = _root(report)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("5", "1", "1", "1")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["friendship", "call", "chat"]
    assert (suites["friendship"].get("tests"), suites["friendship"].get("failures")) == ("3", "1")
    assert all(c.get("classname") == "friendship" for c in suites["friendship"].findall("testcase"))


def test_name_carries_the_check_name_and_rule_ids(report: Report) -> None:
    names = [c.get("name") for c in _root(report).iter("testcase")]
    assert "test_new_request [FRND-001, DLV-001, DLV-002]" in names


def test_failure_names_rule_and_pointer(report: Report) -> None:
    failure = _case(_root(report), "test_new_request").find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith('FRND-001 MUST /friend_id: "1" is not of type integer')
    assert "DLV-002" in failure.text and "Reproduce with:" in failure.text and "expected 1, seen 0" in failure.text


def test_error_skip_and_non_strict(report: Report) -> None:
    root = _root(report)
    error = _case(root, "test_new_message").find("error")
    assert error is not None and "target unreachable" in error.get("message", "")
    skipped = _case(root, "test_scheduled").find("skipped")
    assert skipped is not None and skipped.get("message") == "the target lacks the call_schedule action"
    non_strict = _case(root, "test_actor_gets_no_copy")
    assert non_strict.find("failure") is None and non_strict.find("error") is None
    assert "NON_STRICT" in non_strict.findtext("system-out", "") and "DLV-005" in non_strict.findtext("system-out", "")
    outcome = {p.get("name"): p.get("value") for p in non_strict.iter("property")}["outcome"]
    assert outcome == "NON_STRICT"
    passed = _case(root, "test_accept")
    assert [child.tag for child in passed] == ["properties", "system-out"]


def test_transcript_is_in_system_out(report: Report) -> None:
    out = _case(_root(report), "test_new_request").findtext("system-out", "")
    assert "POST /friendships -> 201 (12.5 ms)" in out
    assert '"friend_id": 2' in out  # the request body, pretty-printed


def test_invalid_xml_characters_are_stripped(report: Report) -> None:
    xml = render_junit(scrub_report(report))
    assert b"\x00" not in xml and b"\x1b" not in xml and b"\x07" not in xml
    error = _case(ET.fromstring(xml), "test_new_message").find("error")
    assert error is not None and "connection refused" in error.get("message", "")
