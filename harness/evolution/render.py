"""`b4a diff` output: text for people, JSON for tools, Markdown as a changelog section."""
from __future__ import annotations

import json
from collections.abc import Sequence

from harness.evolution.diff import ContractDiff
from harness.evolution.model import Bump, Change, Side

_BUMP_WHY = {
    Bump.MAJOR: "major: a breaking change",
    Bump.MINOR: "minor: compatible additions only",
    Bump.PATCH: "patch: wording only",
    Bump.NONE: "no change",
}


def _verdict_line(diff: ContractDiff, side: Side) -> str:
    breaking = diff.breaking(side)
    return f"{side.value}: " + (f"BREAKING ({len(breaking)} change{'s' if len(breaking) != 1 else ''})" if breaking else "compatible")


def _version_line(diff: ContractDiff) -> str:
    required = diff.required_version
    line = f"next version: {required} ({_BUMP_WHY[diff.bump]}; from {diff.old.version})"
    if diff.new.version != required:
        line += f"; {diff.new.label} states {diff.new.version}, which does not follow"
    return line


def _tag(change: Change) -> str:
    if change.breaks_consumers and change.breaks_producers:
        return "BREAKING consumers+producers"
    if change.breaks_consumers:
        return "BREAKING consumers"
    if change.breaks_producers:
        return "BREAKING producers"
    return "compatible (addition)" if change.addition else "compatible (wording)"


def text(diff: ContractDiff, sides: Sequence[Side]) -> str:
    lines = [f"b4a diff: {diff.old.label} ({diff.old.version}) -> {diff.new.label} ({diff.new.version})"]
    width = max((len(_tag(c)) for c in diff.changes), default=0)
    for change in sorted(diff.changes, key=lambda c: (-c.bump, c.scope, c.pointer)):
        rule = f" {change.rule}" if change.rule else ""
        review = " [review]" if change.review else ""
        lines.append(f"  {_tag(change):<{width}}  {change.scope}{rule} {change.pointer}: {change.reason}{review}")
    if not diff.changes:
        lines.append("  no differences")
    lines += [_verdict_line(diff, side) for side in sides]
    lines.append(_version_line(diff))
    return "\n".join(lines) + "\n"


def as_json(diff: ContractDiff, sides: Sequence[Side]) -> str:
    document = {
        "old": {"source": diff.old.label, "version": diff.old.version},
        "new": {"source": diff.new.label, "version": diff.new.version},
        "breaking": {side.value: bool(diff.breaking(side)) for side in Side},
        "selected": [side.value for side in sides],
        "bump": diff.bump.word,
        "next_version": diff.required_version,
        "version_follows": diff.version_follows,
        "changes": [c.as_json() for c in diff.changes],
    }
    return json.dumps(document, indent=2) + "\n"


def markdown(diff: ContractDiff, sides: Sequence[Side]) -> str:
    """A changelog section for the next version."""
    lines = [f"## {diff.required_version}", "",
             f"Changes from {diff.old.version} ({_BUMP_WHY[diff.bump]}).", ""]
    groups = (
        ("Breaking for consumers (apps)", [c for c in diff.changes if c.breaks_consumers]),
        ("Breaking for producers (backends)", [c for c in diff.changes if c.breaks_producers]),
        ("Compatible additions", [c for c in diff.changes if c.bump is Bump.MINOR]),
        ("Wording", [c for c in diff.changes if c.bump is Bump.PATCH]),
    )
    for title, changes in groups:
        if not changes:
            continue
        lines += [f"### {title}", ""]
        for change in changes:
            rule = f"**{change.rule}** " if change.rule else ""
            review = " _(review the wording)_" if change.review else ""
            lines.append(f"- {rule}`{change.scope}` `{change.pointer}`: {change.reason}{review}")
        lines.append("")
    if not diff.changes:
        lines += ["No changes.", ""]
    return "\n".join(lines)


FORMATS = {"text": text, "json": as_json, "markdown": markdown}
