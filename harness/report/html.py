"""report.html: one self-contained page (inline CSS, no scripts, no external resources) via Jinja2.

All markup lives in templates/report.html.j2 (autoescaped); this module only prepares values.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from harness.report.model import CheckResult, DeliveryRow, Report
from harness.report.timeline import Step, pretty, step
from harness.violations import Outcome

if TYPE_CHECKING:
    import jinja2

#: Control characters (but tab, LF, CR) are invalid in HTML; a target's bytes must not break the page.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

#: Where rule ids link by default: docs/rules.md, relative to wherever the report is opened.
DEFAULT_DOCS_BASE_URL = "docs/"


@dataclasses.dataclass(frozen=True)
class FamilyView:
    name: str
    checks: tuple[CheckResult, ...]
    counts: dict[str, int]
    outcome: Outcome


def _printable(value: Any) -> Any:
    """Every value printed by the template passes here (Jinja's `finalize`), before escaping."""
    return _CONTROL.sub("", value) if isinstance(value, str) else value


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
    env.filters["as_json"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False, default=str)
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
        views.append(FamilyView(name, tuple(checks), {o.value: counts[o.value] for o in Outcome},
                                Outcome.worst([c.outcome for c in checks])))
    return tuple(views)


def _matrix(report: Report) -> tuple[DeliveryRow, ...]:
    return tuple(sorted(report.delivery, key=lambda d: (d.event, d.role, d.channel, d.endpoint, d.check_id)))


def _steps(check: CheckResult) -> tuple[Step, ...]:
    return tuple(step(entry) for entry in check.transcript)


def render_html(report: Report, *, docs_base_url: str = DEFAULT_DOCS_BASE_URL) -> str:
    """The HTML page. `report` must be scrubbed already. Rule ids link to
    `<docs_base_url>rules.md#<rule id lowercased>` (the anchor scheme of docs/rules.md)."""
    base = docs_base_url if not docs_base_url or docs_base_url.endswith("/") else docs_base_url + "/"
    matrix = _matrix(report)
    return _environment().get_template("report.html.j2").render(
        report=report,
        run=report.run,
        outcome=report.outcome,
        counts=report.counts(),
        outcomes=[o.value for o in Outcome],
        families=_families(report),
        matrix=matrix,
        mismatches=sum(1 for d in matrix if not d.ok),
        problems=[c for c in report.checks if c.outcome in (Outcome.FAIL, Outcome.NON_STRICT, Outcome.ERROR)],
        anchors=anchors(report.checks),
        rule_href=lambda rule_id: f"{base}rules.md#{rule_id.lower()}",
        steps=_steps,
        open_outcomes={Outcome.FAIL, Outcome.NON_STRICT, Outcome.ERROR},
    )
