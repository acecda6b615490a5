"""report.html: one self-contained page via Jinja2: failures first, the delivery matrix, per-check timelines.

All markup lives in templates/report.html.j2 (autoescaped); the page's stylesheet and script are
templates/report.css and templates/report.js, inlined. This module only prepares values.

What a person needs first is rendered into the page (the verdict, every failed rule with links
to its evidence, each failing check's diffs and transcript excerpts); what is only read on demand
travels as JSON and is drawn by the script when wanted (the matrix from one compact table, a
check's timeline and transcript from its own JSON block when it is opened or scrolled to), so a
run of 1,000 checks opens quickly. The page loads nothing from anywhere.
"""
from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import json
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from harness.report.evidence import ABSENT, CheckEvidence, check_evidence
from harness.report.matrix import CellState, FamilyMatrix, family_matrices, timing
from harness.report.model import CheckResult, Report, RuleSummary
from harness.report.summary import BROKEN, carries, rule_outcome
from harness.report.timeline import Step, pretty, step
from harness.violations import Outcome

if TYPE_CHECKING:
    import jinja2

#: Control characters (but tab, LF, CR) are invalid in HTML; a target's bytes must not break the page.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

#: Where rule ids link by default: docs/rules.md, relative to wherever the report is opened.
DEFAULT_DOCS_BASE_URL = "docs/"

#: Outcomes that make a check open, with its evidence, when the page loads.
PROBLEMS = (Outcome.FAIL, Outcome.NON_STRICT, Outcome.ERROR)
#: A check without violations that passed or was skipped shows no evidence (its matrix rows and
#: transcript are a click away).
NO_EVIDENCE = CheckEvidence((), (), {}, frozenset())


@dataclasses.dataclass(frozen=True)
class FamilyView:
    name: str
    checks: tuple[CheckResult, ...]  # worst outcome first, then in run order
    counts: dict[str, int]
    outcome: Outcome


@dataclasses.dataclass(frozen=True)
class FailedRule:
    """A rule the run broke (or could not judge for an error), and where: (check, link to its evidence)."""

    summary: RuleSummary
    where: tuple[tuple[CheckResult, str], ...]


def _printable(value: Any) -> Any:
    """Every value printed by the template passes here (Jinja's `finalize`), before escaping."""
    if isinstance(value, str):
        cleaned = _CONTROL.sub("", value)
        return type(value)(cleaned) if hasattr(value, "__html__") else cleaned  # keep Markup marked safe
    return value


#: In JSON text: an escaped backslash (kept, so that what follows it is not mistaken for an escape),
#: or a control character, escaped by json.dumps (below 0x20 but tab, LF, CR) or raw (0x7f-0x9f).
_JSON_CONTROL = re.compile(r"\\\\|\\u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F])|\\[bf]|[\x7f-\x9f]")


def script_json(value: Any) -> str:
    """JSON that is safe inside <script type="application/json">: no `<`, `>` or `&` can end the
    element or start markup, whatever the target sent; control characters are dropped, as they
    are from the page's text (done on the text: walking 1,000 transcripts value by value is slow)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    text = _JSON_CONTROL.sub(lambda m: m[0] if m[0] == "\\\\" else "", text)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _asset(name: str) -> str:
    return (importlib.resources.files("harness.report") / "templates" / name).read_text(encoding="utf-8")


def _shown(value: Any) -> str:
    """A field value in a diff: JSON, or a dash for 'nothing'."""
    if value is ABSENT:
        return "—"
    return json.dumps(value, ensure_ascii=False, default=str)


@functools.cache
def _environment() -> jinja2.Environment:
    # Imported here: `harness.report` is imported by every run (the pytest plugin needs the model),
    # and Jinja2 costs more than a tenth of a second that only the HTML writer should pay.
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_printable,
    )
    env.filters["pretty"] = pretty
    env.filters["shown"] = _shown
    env.filters["as_json"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False, default=str)
    env.globals["ABSENT"] = ABSENT
    return env


def anchors(checks: tuple[CheckResult, ...]) -> dict[str, str]:
    """A unique, URL-safe HTML id for each check id."""
    result: dict[str, str] = {}
    used: set[str] = set()
    for check in checks:
        base = "check-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", check.id).strip("-") or "x")
        anchor, n = base, 1
        while anchor in used:
            n += 1
            anchor = f"{base}-{n}"
        used.add(anchor)
        result[check.id] = anchor
    return result


def _families(report: Report) -> tuple[FamilyView, ...]:
    grouped: dict[str, list[CheckResult]] = {}
    for check in report.checks:
        grouped.setdefault(check.family or "general", []).append(check)
    views = []
    for name, checks in grouped.items():
        counts = Counter(c.outcome.value for c in checks)
        ordered = sorted(checks, key=lambda c: -c.outcome.rank if c.outcome in PROBLEMS else 0)  # stable: run order within
        views.append(FamilyView(name, tuple(ordered), {o.value: counts[o.value] for o in Outcome},
                                Outcome.worst([c.outcome for c in checks])))
    return tuple(views)


def headline_outcome(report: Report) -> Outcome:
    """The verdict in the page's header. `Report.outcome` ranks SKIP above PASS; a run whose other
    checks all passed is headed PASS (its skipped checks are counted beside it), as it exits 0."""
    outcome = report.outcome
    if outcome is Outcome.SKIP and any(c.outcome is Outcome.PASS for c in report.checks):
        return Outcome.PASS
    return outcome


def _failed_rules(report: Report, evidence: dict[str, CheckEvidence], anchor_of: dict[str, str]) -> tuple[FailedRule, ...]:
    """Every rule whose outcome is not PASS or SKIP, worst first, with each check that broke it."""
    found = []
    for summary in report.rules:
        if summary.outcome not in PROBLEMS:
            continue
        where = []
        for check in report.checks:
            if not carries(check, summary.rule_id) or rule_outcome(check, summary.rule_id, strict=report.run.strict) not in (*BROKEN, Outcome.ERROR):
                continue
            link = anchor_of[check.id]
            for index, violation in enumerate(check.violations):
                if violation.rule_id == summary.rule_id:
                    link = evidence[check.id].violation_anchor.get(index, link)
                    break
            where.append((check, link))
        found.append(FailedRule(summary, tuple(where)))
    return tuple(sorted(found, key=lambda f: (-f.summary.outcome.rank, f.summary.level != "MUST")))


def _step_data(s: Step) -> list[Any]:
    return [round(s.t, 4), s.who, s.kind, s.summary, int(s.error), int(s.marker), s.duration_ms, [list(d) for d in s.details]]


def _check_data(check: CheckResult) -> dict[str, Any]:
    """What the script draws when a check is opened: its rules' verdicts and its transcript."""
    return {
        "rules": [[rule_id, outcome.value, note] for rule_id, (outcome, note) in check.rules.items()],
        "steps": [_step_data(step(entry)) for entry in check.transcript],
    }


def _matrix_data(report: Report, matrices: tuple[FamilyMatrix, ...], anchor_of: dict[str, str]) -> dict[str, Any]:
    """The matrix as one compact table for the script: columns per family, rows of cells."""
    families = []
    for matrix in matrices:
        rows = []
        for row in matrix.rows:
            cells = [[column, state.value, index, d.expected, d.seen, d.latency_ms, d.response_ms, d.role, " ".join(d.rule_ids)]
                     for column, (index, d, state) in sorted(row.cells.items())]
            rows.append([row.check_index, row.event_seq, row.event, int(row.ok), cells, int(row.unexplained)])
        families.append({
            "name": matrix.family,
            "users": [list(u) for u in matrix.users],
            "columns": [[c.short, c.channel, c.endpoint] for c in matrix.columns],
            "rows": rows,
        })
    return {
        "checks": [[c.id, anchor_of[c.id], c.family or "general", c.outcome.value, c.name] for c in report.checks],
        "families": families,
        "differencesFirst": report.outcome in PROBLEMS,
    }


def render_html(report: Report, *, docs_base_url: str = DEFAULT_DOCS_BASE_URL) -> str:
    """The HTML page. `report` must be scrubbed already. Rule ids link to
    `<docs_base_url>rules.md#<rule id lowercased>` (the anchor scheme of docs/rules.md)."""
    base = docs_base_url if not docs_base_url or docs_base_url.endswith("/") else docs_base_url + "/"
    anchor_of = anchors(report.checks)
    evidence = {c.id: check_evidence(c, anchor_of[c.id]) if c.outcome in PROBLEMS or c.violations else NO_EVIDENCE
                for c in report.checks}
    broken = {(i, r): True for i, c in enumerate(report.checks) for r in evidence[c.id].broken_rows}
    matrices = family_matrices(report, broken)
    states = Counter(state for m in matrices for row in m.rows for _, _, state in row.cells.values())
    cells = sum(states.values())
    return _environment().get_template("report.html.j2").render(
        report=report,
        run=report.run,
        outcome=headline_outcome(report),
        counts=report.counts(),
        outcomes=[o.value for o in Outcome],
        families=_families(report),
        failed_rules=_failed_rules(report, evidence, anchor_of),
        rules=sorted(report.rules, key=lambda r: (-r.outcome.rank if r.outcome in PROBLEMS else 0, r.outcome is Outcome.SKIP)),
        cells=cells,
        bad_cells=cells - states[CellState.ARRIVED] - states[CellState.QUIET],
        states=[s.value for s in CellState],
        evidence=evidence,
        anchors=anchor_of,
        index_of={c.id: i for i, c in enumerate(report.checks)},
        rule_href=lambda rule_id: f"{base}rules.md#{rule_id.lower()}",
        timing=timing,
        problems=PROBLEMS,
        check_data=lambda check: script_json(_check_data(check)),
        matrix_data=script_json(_matrix_data(report, matrices, anchor_of)),
        style=_asset("report.css"),
        script=_asset("report.js"),
    )

