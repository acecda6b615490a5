"""The terminal summary: rules grouped by family, failures with evidence, slowest checks, a last line."""
from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
from typing import Any, TextIO

from harness.report.model import CheckResult, Report, RunInfo
from harness.report.redact import scrub_report
from harness.report.summary import carries, rule_outcome
from harness.report.timeline import as_text
from harness.violations import Outcome

#: How each outcome is spelled in counts, in the order the last line lists them.
_WORDS = {
    Outcome.PASS: "passed", Outcome.FAIL: "failed", Outcome.NON_STRICT: "non-strict",
    Outcome.SKIP: "skipped", Outcome.ERROR: "errors",
}
_SINGULAR = {"errors": "error"}
_COLOURS = {Outcome.PASS: "32", Outcome.FAIL: "31", Outcome.NON_STRICT: "33", Outcome.SKIP: "36", Outcome.ERROR: "35"}
_SLOWEST = 5
_NO_FAMILY = "(general)"
#: Control characters but tab and newline: a target's text must not drive the terminal (ANSI escapes).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value


def _printable_report(report: Report) -> Report:
    run = RunInfo(**_printable(dataclasses.asdict(report.run)))
    checks = tuple(CheckResult.from_json(_printable(c.to_json())) for c in report.checks)
    return dataclasses.replace(report, run=run, checks=checks)


class _Painter:
    def __init__(self, stream: TextIO) -> None:
        isatty = getattr(stream, "isatty", None)
        # https://no-color.org: any non-empty NO_COLOR disables colour.
        self.enabled = bool(isatty and isatty()) and not os.environ.get("NO_COLOR")

    def __call__(self, text: str, outcome: Outcome | None = None, *, bold: bool = False) -> str:
        codes = ([_COLOURS[outcome]] if outcome else []) + (["1"] if bold else [])
        if not self.enabled or not codes:
            return text
        return f"\033[{';'.join(codes)}m{text}\033[0m"


def counts_phrase(counts: Counter[Outcome], *, all_outcomes: bool) -> str:
    """`39 passed, 1 failed` (only the non-zero ones unless `all_outcomes`)."""
    parts = [f"{counts[o]} {_SINGULAR.get(word, word) if counts[o] == 1 else word}"
             for o, word in _WORDS.items() if all_outcomes or counts[o]]
    return ", ".join(parts) or "nothing ran"


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def final_line(report: Report) -> str:
    counts = Counter(c.outcome for c in report.checks)
    return (f"b4a: {_plural(len(report.checks), 'check')}: {counts_phrase(counts, all_outcomes=True)} "
            f"in {report.run.duration_s:.1f}s")


def _families(report: Report) -> dict[str, list[CheckResult]]:
    families: dict[str, list[CheckResult]] = {}
    for check in report.checks:
        families.setdefault(check.family or _NO_FAMILY, []).append(check)
    return families


def _summary(report: Report, paint: _Painter, strict: bool) -> list[str]:
    levels = {r.rule_id: (r.level, r.title) for r in report.rules}
    lines = []
    for family, checks in _families(report).items():
        counts = Counter(c.outcome for c in checks)
        worst = Outcome.worst([c.outcome for c in checks])
        lines.append(f"{paint(family, worst, bold=True)}  {_plural(len(checks), 'check')}: {counts_phrase(counts, all_outcomes=False)}")
        rule_ids = sorted({r for c in checks for r in (*c.rule_ids, *(v.rule_id for v in c.violations))})
        for rule_id in rule_ids:
            per_rule = Counter(rule_outcome(c, rule_id, strict=strict) for c in checks if carries(c, rule_id))
            level, title = levels.get(rule_id, ("", ""))
            phrase = paint(counts_phrase(per_rule, all_outcomes=False), Outcome.worst(list(per_rule)))
            lines.append(f"  {rule_id:<9} {level:<6} {_clip(title, 64):<64}  {phrase}")
    return lines


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _problem(check: CheckResult, paint: _Painter, verbose: bool) -> list[str]:
    lines = [paint(f"{check.outcome.value} {check.id}", check.outcome, bold=True)]
    if check.description:
        lines.append(f"  {check.description}")
    if check.expectation:
        lines.append(f"  Expected: {check.expectation}")
    if check.message:
        lines.append(f"  {check.message}")
    for v in check.violations:
        where = f"  [{v.source}]" if v.source else ""
        at = f" {v.pointer}" if v.pointer else ""
        lines.append(f"  {v.rule_id} {v.level.value}{at}: {v.message}{where}")
    mismatched = [d for d in check.delivery if not d.ok]
    for d in mismatched:
        lines.append(f"  delivery: {d.event} to {d.endpoint} ({d.role}, {d.channel}): expected {d.expected}, seen {d.seen}")
    if check.reproduce:
        lines.append("  Reproduce with:")
        lines.extend(f"    {line}" for line in check.reproduce.splitlines())
    if verbose and check.transcript:
        lines.append("  Transcript:")
        lines.extend(f"    {line}" for line in as_text(check.transcript, details=False).splitlines())
    return lines


def render_terminal(report: Report, stream: TextIO, verbose: bool = False) -> None:
    """Write the run's summary to `stream`; colour only on a TTY without NO_COLOR.

    Verbose adds every check's line, skip reasons and the transcripts of the problem checks.
    """
    report = _printable_report(scrub_report(report))
    paint = _Painter(stream)
    run = report.run
    out = [
        paint(f"b4a conformance run: target {run.target} ({run.base_url})", bold=True),
        f"contract {run.contract_version}, harness {run.harness_version}, started {run.started_at}"
        + (", strict" if run.strict else "") + (f", only {run.selection}" if run.selection else ""),
        "",
    ]
    out += _summary(report, paint, run.strict)
    if verbose:
        out += ["", paint("Checks", bold=True)]
        for c in report.checks:
            reason = f"  ({c.message})" if c.message and c.outcome is Outcome.SKIP else ""
            out.append(f"  {paint(f'{c.outcome.value:<10}', c.outcome)} {c.duration_s:7.2f}s  {c.id}{reason}")
    problems = [c for c in report.checks if c.outcome in (Outcome.FAIL, Outcome.NON_STRICT, Outcome.ERROR)]
    if problems:
        out += ["", paint("Failures", bold=True)]
        for check in sorted(problems, key=lambda c: -c.outcome.rank):
            out += ["", *_problem(check, paint, verbose)]
    slowest = sorted(report.checks, key=lambda c: c.duration_s, reverse=True)[:_SLOWEST]
    if slowest:
        out += ["", paint(f"Slowest {len(slowest)} checks", bold=True)]
        out += [f"  {c.duration_s:7.2f}s  {c.id}" for c in slowest]
    out += ["", paint(final_line(report), report.outcome, bold=True)]
    stream.write("\n".join(out) + "\n")
