"""What a failing check shows first: per delivery that went wrong, what was expected and what arrived.

A violation names where it was seen (`source`: a connection or device label) and the variant, not
the delivery row, so `attach` assigns each violation to the row it most likely describes. That
is a heuristic (several copies of one variant may reach one connection in a check): a violation
goes to a row of its endpoint and variant whose copy differs at the violation's pointer or holds
the violation's instance there, spreading equal violations over equal rows; what fits no row is
listed apart, never dropped.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from harness.report.matrix import ABSENT, CellState, cell_state, differing_pointers, leaves, pointer_of, value_at
from harness.report.model import CheckResult, DeliveryRow
from harness.report.timeline import Step, step
from harness.violations import Violation

#: At most this many transcript entries around one piece of evidence.
EXCERPT_LIMIT = 14


@dataclasses.dataclass(frozen=True)
class FieldLine:
    """One field of a copy: what the flow dictates, what arrived, and the rules broken there."""

    pointer: str
    expected: Any  # ABSENT: the flow dictates nothing here (the schema still judges it)
    received: Any  # ABSENT: the key is missing from the copy (or nothing arrived)
    differs: bool
    violations: tuple[Violation, ...]


@dataclasses.dataclass(frozen=True)
class Evidence:
    """One delivery that went wrong (or a copy a rule was broken on), with its context."""

    anchor: str  # HTML id
    row: DeliveryRow
    state: CellState
    headline: str
    fields: tuple[FieldLine, ...]
    violations: tuple[Violation, ...]  # attached to this row; those at a field's pointer appear on its line too
    excerpt: tuple[Step | None, ...]  # None: entries left out


@dataclasses.dataclass(frozen=True)
class CheckEvidence:
    items: tuple[Evidence, ...]
    others: tuple[Violation, ...]  # violations no delivery row explains (auth, state graph, a stray copy's schema)
    #: violation index in check.violations -> the anchor of the evidence that shows it
    violation_anchor: dict[int, str]
    #: row indexes that a violation was attached to
    broken_rows: frozenset[int]


def _candidates(violation: Violation, rows: tuple[DeliveryRow, ...]) -> list[int]:
    return [i for i, row in enumerate(rows)
            if violation.source is not None and row.endpoint == violation.source
            and (violation.variant is None or violation.variant == row.event)]


def attach(check: CheckResult) -> tuple[dict[int, list[int]], list[int]]:
    """row index -> the indexes of the violations shown with it; and the indexes shown apart."""
    rows = check.delivery
    diffs = [differing_pointers(row) for row in rows]
    states = [cell_state(row) for row in rows]
    by_row: dict[int, list[int]] = {}
    apart: list[int] = []
    for index, violation in enumerate(check.violations):
        candidates = _candidates(violation, rows)
        if not candidates:
            apart.append(index)
            continue

        def score(i: int) -> tuple[int, int]:
            row, points = rows[i], 0
            if violation.pointer and violation.pointer in diffs[i]:
                points += 4
            if violation.pointer and row.received is not None and value_at(row.received, violation.pointer) == violation.instance:
                points += 2
            if not states[i].ok:
                points += 1
            twins = [check.violations[j] for j in by_row.get(i, ())]
            if not any(t.rule_id == violation.rule_id and t.pointer == violation.pointer for t in twins):
                points += 3  # equal violations on equal rows: one each, in order
            return points, -i

        by_row.setdefault(max(candidates, key=score), []).append(index)
    return by_row, apart


def _headline(row: DeliveryRow, state: CellState) -> str:
    where = f"{row.endpoint} ({'push' if row.channel == 'fcm' else 'WebSocket'}) of {row.user}"
    role = {"third": ", a bystander", "actor": ", the acting user"}.get(row.role, "")
    if state is CellState.MISSING:
        return f"{row.event}: expected on {where}{role}; nothing arrived"
    if state is CellState.UNEXPECTED:
        return f"{row.event}: {where}{role} must receive nothing; {row.seen} cop{'y' if row.seen == 1 else 'ies'} arrived"
    if state is CellState.DUPLICATE:
        return f"{row.event}: {row.seen} copies arrived on {where}; one was expected"
    if state is CellState.LATE:
        return f"{row.event}: arrived late on {where} ({row.latency_ms:g} ms after the request)" if row.latency_ms is not None \
            else f"{row.event}: arrived late on {where}"
    if state is CellState.WRONG:
        if differing_pointers(row):
            return f"{row.event}: arrived on {where}, with fields that differ from what the flow dictates"
        return f"{row.event}: arrived on {where}, breaking a rule"
    return f"{row.event}: arrived on {where}"


def field_lines(row: DeliveryRow, violations: list[Violation]) -> tuple[FieldLine, ...]:
    """The copy received against the fields the flow dictates, one line per leaf, plus a line for
    each expected field or violated pointer the copy lacks."""
    expected = {pointer_of(path): value for path, value in (row.expected_fields or {}).items()}
    received = dict(leaves(row.received)) if isinstance(row.received, dict) else {}
    pointers = list(received)
    pointers += [p for p in expected if p not in received]
    pointers += [v.pointer for v in violations if v.pointer and v.pointer not in pointers]
    lines = []
    for pointer in dict.fromkeys(pointers):
        want = expected.get(pointer, ABSENT)
        got = received.get(pointer, value_at(row.received, pointer) if row.received is not None else ABSENT)
        on_line = tuple(v for v in violations if v.pointer == pointer)
        differs = pointer in differing_pointers(row) or (want is not ABSENT and got is ABSENT and row.seen > 0)
        lines.append(FieldLine(pointer, want, got, differs, on_line))
    return tuple(lines)


def _payload_of(text: Any) -> Any:
    """A frame's notification: the JSON text, or the `message` member of an ActionCable broadcast."""
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, dict) and "identifier" in value and isinstance(value.get("message"), dict):
        return value["message"]
    return value


def _arrival(check: CheckResult, row: DeliveryRow) -> int | None:
    """The transcript index of the copy a row recorded (its endpoint, its payload when it can tell)."""
    kind = "push" if row.channel == "fcm" else "frame"
    mine = [i for i, e in enumerate(check.transcript) if e.get("kind") == kind and e.get("label") == row.endpoint
            and e.get("direction", "in") == "in"]
    if kind == "frame" and row.received is not None:
        exact = [i for i in mine if _payload_of(check.transcript[i].get("text")) == row.received]
        mine = exact or mine
    return mine[0] if mine else None


def _event_start(check: CheckResult, row: DeliveryRow) -> float | None:
    """When the event's action started (transcript seconds): from any copy of the same event that
    arrived, its arrival minus its latency."""
    # WebSocket copies first: a push's transcript time is when the harness read the emulator's
    # inbox, not when the push arrived, so only a frame's time and latency give the start.
    siblings = [r for r in check.delivery if r.event_seq == row.event_seq and r.event == row.event and r.latency_ms is not None]
    siblings.sort(key=lambda r: (r.channel != "websocket", r is not row))
    for sibling in siblings:
        index = _arrival(check, sibling)
        if index is not None:
            return float(check.transcript[index].get("t", 0.0)) - (sibling.latency_ms or 0.0) / 1000
    return None


def excerpt(check: CheckResult, row: DeliveryRow) -> tuple[Step | None, ...]:
    """The transcript around one delivery: from the action's request to the copy (or, when none
    arrived, to the next thing the harness did), at most EXCERPT_LIMIT entries: when the copy
    came much later, the action's first entries, a gap (None), and the entries before the copy."""
    entries = check.transcript
    if not entries:
        return ()
    arrival = _arrival(check, row) if row.seen else None
    start = _event_start(check, row)
    if start is None:
        if arrival is None:
            return ()
        start = float(entries[arrival].get("t", 0.0)) - 0.001
    first = next((i for i, e in enumerate(entries) if float(e.get("t", 0.0)) >= start - 0.0005), len(entries) - 1)
    if arrival is not None and arrival >= first:
        last = min(arrival + 2, len(entries) - 1)
        if last - first + 1 > EXCERPT_LIMIT:
            head = [step(e) for e in entries[first:first + 4]]
            tail = [step(e) for e in entries[last - (EXCERPT_LIMIT - 6):last + 1]]
            return (*head, None, *tail)
    else:
        # Nothing arrived: up to the next HTTP exchange after the action's own (often the marker).
        later = [i for i in range(first + 1, len(entries)) if entries[i].get("kind") == "http"]
        last = min(later[0] if later else len(entries) - 1, first + EXCERPT_LIMIT - 1)
    return tuple(step(e) for e in entries[first:last + 1])


def check_evidence(check: CheckResult, anchor: str) -> CheckEvidence:
    """The evidence of one check: every delivery row that is not as the contract wants or that
    a violation was attached to, in row order; and the violations shown apart."""
    by_row, apart = attach(check)
    items = []
    violation_anchor: dict[int, str] = {}
    for index, row in enumerate(check.delivery):
        attached = by_row.get(index, [])
        state = cell_state(row, broken=bool(attached))
        if state.ok and not attached:
            continue
        item_anchor = f"{anchor}-e{index}"
        violations = [check.violations[i] for i in attached]
        for i in attached:
            violation_anchor[i] = item_anchor
        items.append(Evidence(item_anchor, row, state, _headline(row, state), field_lines(row, violations),
                              tuple(violations), excerpt(check, row)))
    for i in apart:
        violation_anchor[i] = f"{anchor}-other"
    return CheckEvidence(tuple(items), tuple(check.violations[i] for i in apart), violation_anchor,
                         frozenset(by_row))
