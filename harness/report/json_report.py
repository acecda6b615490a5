"""report.json: the whole run as one JSON document, valid under schemas/report.schema.json.

One file rather than Autobahn's index plus per-check evidence files: the HTML report is already
self-contained for people, and for machines one document is one schema, one artifact and one
`jq` away (`.checks[] | select(.outcome == "FAIL")`). Transcripts are small (tens of entries).
"""
from __future__ import annotations

import dataclasses
import json

import orjson
from typing import Any

from harness.contract import SCHEMA_BASE, load_contract
from harness.report.model import Report, RuleSummary

SCHEMA_ID = f"{SCHEMA_BASE}report.schema.json"


def _rule(summary: RuleSummary) -> dict[str, Any]:
    return {**dataclasses.asdict(summary), "outcome": summary.outcome.value}


def report_json(report: Report) -> dict[str, Any]:
    """The report as the JSON value report.json holds. `report` must be scrubbed already."""
    return {
        "$schema": SCHEMA_ID,
        "run": {**dataclasses.asdict(report.run), "duration_s": round(report.run.duration_s, 3)},
        "outcome": report.outcome.value,
        "counts": {"total": len(report.checks), **report.counts()},
        "rules": [_rule(r) for r in report.rules],
        "delivery": [row.to_json() for row in report.delivery],
        "checks": [check.to_json() for check in report.checks],
    }


def render_json(report: Report) -> bytes:
    # default=str: a recorder may have put a value JSON lacks (bytes, a datetime) in a transcript;
    # the report still gets written, showing it as text. orjson is ~10x faster on the megabytes of
    # transcripts; json takes what orjson refuses (integers beyond 64 bits, non-string keys).
    document = report_json(report)
    try:
        return orjson.dumps(document, default=str, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        return (json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def report_schema() -> dict[str, Any]:
    """schemas/report.schema.json, from the installed package."""
    return load_contract().schemas["report.schema.json"]
