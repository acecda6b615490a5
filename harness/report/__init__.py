"""Report writers: terminal summary, JUnit XML, report.json and self-contained HTML, all redacted.

    report = Report(run, checks, build_rule_summaries(checks, load_contract(), strict=strict))
    render_terminal(report, sys.stdout)
    write_reports(report, Path("b4a-report"), ("junit", "json", "html"))

Every writer renders `scrub_report(report)`: a credential a recorder forgot never reaches a file.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from harness.report.html import DEFAULT_DOCS_BASE_URL, render_html
from harness.report.json_report import render_json
from harness.report.junit import render_junit
from harness.report.model import CheckResult, DeliveryRow, Report, RuleSummary, RunInfo
from harness.report.redact import scrub, scrub_report
from harness.report.summary import build_rule_summaries
from harness.report.terminal import render_terminal

__all__ = [
    "FORMATS", "CheckResult", "DeliveryRow", "Report", "RuleSummary", "RunInfo",
    "build_rule_summaries", "render_terminal", "scrub", "write_reports",
]

#: Format name -> file written into the output directory.
FORMATS: dict[str, str] = {"junit": "junit.xml", "json": "report.json", "html": "report.html"}


def write_reports(
    report: Report, out_dir: Path, formats: Iterable[str], *, docs_base_url: str = DEFAULT_DOCS_BASE_URL
) -> dict[str, Path]:
    """Write the chosen formats into `out_dir` (created if missing); return format -> path.

    Raises ValueError naming an unknown format before anything is written, and OSError when the
    directory cannot be written (the CLI turns both into exit code 2).
    """
    formats = tuple(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown report format(s) {', '.join(map(repr, unknown))}; known: {', '.join(FORMATS)}")
    clean = scrub_report(report)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for fmt in formats:
        path = out_dir / FORMATS[fmt]
        if fmt == "junit":
            path.write_bytes(render_junit(clean))
        elif fmt == "json":
            path.write_bytes(render_json(clean))
        else:
            path.write_text(render_html(clean, docs_base_url=docs_base_url), encoding="utf-8")
        written[fmt] = path
    return written
