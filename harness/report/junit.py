"""JUnit XML for CI: one testsuite per family, one testcase per check, transcripts in system-out."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter

from harness.report.model import CheckResult, Report
from harness.report.timeline import as_text
from harness.violations import Outcome

#: Characters XML 1.0 forbids (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF):
#: one of them makes CI readers reject the whole file, so they are removed.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NO_FAMILY = "general"


def clean(text: str) -> str:
    return _INVALID_XML.sub("", text)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = clean(text)
    return element


def _problem_text(check: CheckResult) -> str:
    lines = []
    if check.expectation:
        lines.append(f"Expected: {check.expectation}")
    if check.message:
        lines.append(check.message)
    lines += [str(v) for v in check.violations]
    lines += [f"delivery: {d.event} to {d.endpoint} ({d.role}, {d.channel}): expected {d.expected}, seen {d.seen}"
              for d in check.delivery if not d.ok]
    if check.reproduce:
        lines += ["", "Reproduce with:", check.reproduce]
    return "\n".join(lines)


def _headline(check: CheckResult) -> str:
    if check.violations:
        v = check.violations[0]
        more = f" (+{len(check.violations) - 1} more)" if len(check.violations) > 1 else ""
        return f"{v.rule_id} {v.level.value} {v.pointer or '(root)'}: {v.message}{more}"
    return check.message or check.outcome.value


def _testcase(suite: ET.Element, check: CheckResult) -> None:
    rules = f" [{', '.join(check.rule_ids)}]" if check.rule_ids else ""
    case = _sub(suite, "testcase", classname=check.family or _NO_FAMILY, name=check.name + rules,
                time=f"{check.duration_s:.3f}")
    properties = _sub(case, "properties")
    _sub(properties, "property", name="check_id", value=check.id)
    _sub(properties, "property", name="outcome", value=check.outcome.value)
    for rule_id in check.rule_ids:
        _sub(properties, "property", name="rule", value=rule_id)
    if check.outcome is Outcome.FAIL:
        _sub(case, "failure", _problem_text(check), message=_headline(check), type="FAIL")
    elif check.outcome is Outcome.ERROR:
        _sub(case, "error", _problem_text(check), message=_headline(check), type="ERROR")
    elif check.outcome is Outcome.SKIP:
        _sub(case, "skipped", message=check.message or "skipped")
    out = []
    if check.outcome is Outcome.NON_STRICT:
        # JUnit has no "passed with a warning": the check passes, and says why it is not clean.
        out += ["NON_STRICT: a SHOULD rule is broken (fails the run only with --strict)", _problem_text(check), ""]
    if check.description:
        out.append(check.description)
    if check.transcript:
        out += ["", "Transcript:", as_text(check.transcript)]
    if out:
        _sub(case, "system-out", "\n".join(out))


def _totals(element: ET.Element, checks: list[CheckResult]) -> None:
    counts = Counter(c.outcome for c in checks)
    element.set("tests", str(len(checks)))
    element.set("failures", str(counts[Outcome.FAIL]))
    element.set("errors", str(counts[Outcome.ERROR]))
    element.set("skipped", str(counts[Outcome.SKIP]))
    element.set("time", f"{sum(c.duration_s for c in checks):.3f}")


def render_junit(report: Report) -> bytes:
    """The JUnit XML document (UTF-8, with declaration). `report` must be scrubbed already."""
    root = ET.Element("testsuites", {"name": "b4a"})
    _totals(root, list(report.checks))
    root.set("time", f"{report.run.duration_s:.3f}")
    families: dict[str, list[CheckResult]] = {}
    for check in report.checks:
        families.setdefault(check.family or _NO_FAMILY, []).append(check)
    for family, checks in families.items():
        suite = _sub(root, "testsuite", name=family, timestamp=report.run.started_at)
        _totals(suite, checks)
        properties = _sub(suite, "properties")
        for name, value in (("target", report.run.target), ("base_url", report.run.base_url),
                            ("contract_version", report.run.contract_version),
                            ("harness_version", report.run.harness_version), ("strict", str(report.run.strict).lower())):
            _sub(properties, "property", name=name, value=value)
        for check in checks:
            _testcase(suite, check)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
