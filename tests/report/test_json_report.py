"""report.json: valid under its schema, round-trips through CheckResult.from_json, schema rejects bad reports."""
from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from harness.contract import load_contract
from harness.report import Report
from harness.report.json_report import SCHEMA_ID, render_json, report_schema
from harness.report.model import CheckResult
from harness.report.redact import scrub_report


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(report_schema(), format_checker=jsonschema.FormatChecker())


@pytest.fixture
def document(report: Report) -> dict:
    return json.loads(render_json(scrub_report(report)))


def test_schema_is_a_valid_2020_12_schema_in_the_contract_registry() -> None:
    jsonschema.Draft202012Validator.check_schema(report_schema())
    assert report_schema()["$id"] == SCHEMA_ID == "https://schemas.buddy4all.dev/notifications/v1/report.schema.json"
    assert load_contract().resolve(SCHEMA_ID)["title"].startswith("report.json")


def test_report_validates(document: dict) -> None:
    errors = [f"{e.json_path}: {e.message}" for e in _validator().iter_errors(document)]
    assert errors == []


def test_content(document: dict, report: Report) -> None:
    assert document["$schema"] == SCHEMA_ID
    assert document["outcome"] == "ERROR"
    assert document["counts"] == {"total": 5, "PASS": 1, "SKIP": 1, "NON_STRICT": 1, "FAIL": 1, "ERROR": 1}
    assert [c["id"] for c in document["checks"]] == [c.id for c in report.checks]
    assert len(document["delivery"]) == 5 and sum(not d["ok"] for d in document["delivery"]) == 2
    assert len(document["rules"]) == len(load_contract().rules)
    assert document["run"]["target"] == "reference"


def test_checks_round_trip_through_from_json(document: dict, report: Report) -> None:
    clean = scrub_report(report)
    assert tuple(CheckResult.from_json(c) for c in document["checks"]) == clean.checks


@pytest.mark.parametrize(("path", "value", "complaint"), [
    (("outcome",), "MAYBE", "is not one of"),
    (("checks", 1, "violations", 0, "level"), "MAY", "is not one of"),
    (("delivery", 0, "channel"), "sms", "is not one of"),
    (("checks", 0, "rule_ids", 0), "frnd-1", "does not match"),
    (("run", "started_at"), "yesterday", "is not a 'date-time'"),
    (("checks", 1, "transcript", 1, "direction"), "sideways", "is not one of"),
])
def test_schema_rejects_a_wrong_report(document: dict, path: tuple, value: object, complaint: str) -> None:
    bad = copy.deepcopy(document)
    target = bad
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    messages = [e.message for e in _validator().iter_errors(bad)]
    assert any(complaint in m for m in messages), messages


def test_schema_rejects_missing_and_unknown_keys(document: dict) -> None:
    missing = {k: v for k, v in document.items() if k != "counts"}
    assert any("'counts' is a required property" in e.message for e in _validator().iter_errors(missing))
    extra = {**document, "verdict": "PASS"}
    assert not _validator().is_valid(extra)
