"""The delivery matrix of the HTML report: each delivery row as a cell state, laid out per family.

Rows are a check's events (check, event_seq, variant); columns are the endpoints of the users
(each WebSocket connection, each device), grouped by user. A row with `event_seq` None is a copy
no event explains: it gets a row of its own, so it is never hidden.
"""
from __future__ import annotations

import dataclasses
import enum
import re
from typing import Any

from harness.flow_values import same
from harness.report.model import CheckResult, DeliveryRow, Report

#: Stands for "no value": a field absent from a payload, or one the flow does not dictate.
ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()


class CellState(str, enum.Enum):
    """What happened at one endpoint for one event. The first two are as the contract wants."""

    ARRIVED = "arrived"  # expected, arrived in time, with the fields the flow dictates
    QUIET = "quiet"  # expected nothing, nothing came
    WRONG = "wrong"  # arrived, but a field differs from what the flow dictates, or a rule was broken on it
    MISSING = "missing"  # expected 1, seen 0
    UNEXPECTED = "unexpected"  # expected 0, seen > 0
    LATE = "late"  # arrived after its deadline
    DUPLICATE = "duplicate"  # expected 1, seen > 1

    @property
    def ok(self) -> bool:
        return self in (CellState.ARRIVED, CellState.QUIET)


def pointer_of(path: str) -> str:
    """`thread/id` (an expected_fields key) as the RFC 6901 pointer `/thread/id`."""
    return "/" + path if not path.startswith("/") else path


def value_at(payload: Any, pointer: str) -> Any:
    """The value at an RFC 6901 pointer, or ABSENT."""
    node = payload
    for part in pointer.split("/")[1:] if pointer else ():
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return ABSENT
    return node


def leaves(payload: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every leaf of a JSON object as (pointer, value); arrays and scalars are leaves."""
    if not isinstance(payload, dict) or (prefix and not payload):
        return [(prefix, payload)]
    found: list[tuple[str, Any]] = []
    for key, value in payload.items():
        found.extend(leaves(value, f"{prefix}/{str(key).replace('~', '~0').replace('/', '~1')}"))
    return found


def differing_pointers(row: DeliveryRow) -> tuple[str, ...]:
    """The pointers where the copy received differs from what the flow dictates (compared as the
    flow compares: ids numerically, date-times as instants)."""
    if row.received is None or not row.expected_fields:
        return ()
    return tuple(
        pointer_of(path) for path, expected in row.expected_fields.items()
        if (got := value_at(row.received, pointer_of(path))) is ABSENT or not same(got, expected)
    )


def cell_state(row: DeliveryRow, *, broken: bool = False) -> CellState:
    """The state of one delivery row. `broken`: a violation was found on this copy (its schema,
    a field): an arrived copy then counts as WRONG."""
    if row.late:
        return CellState.LATE
    if row.expected == 0:
        return CellState.UNEXPECTED if row.seen > 0 else CellState.QUIET
    if row.seen == 0:
        return CellState.MISSING
    if row.seen > row.expected:
        return CellState.DUPLICATE
    if broken or differing_pointers(row):
        return CellState.WRONG
    return CellState.ARRIVED


@dataclasses.dataclass(frozen=True)
class Column:
    """One endpoint: a user's WebSocket connection or device."""

    user: str
    channel: str  # "websocket" | "fcm"
    endpoint: str  # the label in the delivery rows: "B#2", "B device 1"
    short: str  # the header under the user: "ws 2", "device 1"


@dataclasses.dataclass(frozen=True)
class MatrixRow:
    check_index: int
    event_seq: int | None
    event: str
    cells: dict[int, tuple[int, DeliveryRow, CellState]]  # column index -> (index in check.delivery, row, state)
    unexplained: bool = False  # a copy no event of the check explains

    @property
    def ok(self) -> bool:
        return all(state.ok for _, _, state in self.cells.values())


@dataclasses.dataclass(frozen=True)
class FamilyMatrix:
    family: str
    users: tuple[tuple[str, str, int], ...]  # (user, role hint, how many columns), in column order
    columns: tuple[Column, ...]
    rows: tuple[MatrixRow, ...]


def _short(user: str, channel: str, endpoint: str) -> str:
    if endpoint.startswith(user + "#"):
        return "ws " + endpoint[len(user) + 1:]
    if endpoint.startswith(user + " device "):
        return "device " + endpoint[len(user) + len(" device "):]
    return endpoint


def _natural(text: str) -> tuple[Any, ...]:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def _role_hint(roles: set[str]) -> str:
    """A user is a bystander in every row where it is `third`; name that in the header."""
    return "bystander" if roles == {"third"} else ""


def family_matrices(report: Report, broken: dict[tuple[int, int], bool] | None = None) -> tuple[FamilyMatrix, ...]:
    """The matrix of every family that has delivery rows, families in report order.

    `broken[(check index, row index)]` marks rows a violation was attached to (see evidence.py).
    """
    broken = broken or {}
    grouped: dict[str, list[tuple[int, CheckResult]]] = {}
    for index, check in enumerate(report.checks):
        if check.delivery:
            grouped.setdefault(check.family or "general", []).append((index, check))
    matrices = []
    for family, checks in grouped.items():
        roles: dict[str, set[str]] = {}
        endpoints: dict[tuple[str, str, str], None] = {}
        for _, check in checks:
            for row in check.delivery:
                roles.setdefault(row.user, set()).add(row.role)
                endpoints[(row.user, row.channel, row.endpoint)] = None
        # Users in label order, bystanders last; per user its connections, then its devices.
        order = sorted(endpoints, key=lambda k: (_role_hint(roles[k[0]]) != "", _natural(k[0]),
                                                 k[1] != "websocket", _natural(k[2])))
        columns = tuple(Column(user, channel, endpoint, _short(user, channel, endpoint)) for user, channel, endpoint in order)
        position = {(c.user, c.channel, c.endpoint): i for i, c in enumerate(columns)}
        users: list[tuple[str, str, int]] = []
        for column in columns:
            if users and users[-1][0] == column.user:
                users[-1] = (column.user, users[-1][1], users[-1][2] + 1)
            else:
                users.append((column.user, _role_hint(roles[column.user]), 1))
        rows: list[MatrixRow] = []
        for check_index, check in checks:
            by_event: dict[tuple[Any, ...], MatrixRow] = {}
            for row_index, row in enumerate(check.delivery):
                # An unexplained copy (no event_seq, nothing expected) is a row of its own. Rows
                # recorded before events were numbered have no event_seq either: grouped by variant.
                unexplained = row.event_seq is None and row.expected == 0 and row.seen > 0
                key = (None, row.event, row_index) if unexplained else (row.event_seq, row.event)
                matrix_row = by_event.setdefault(key, MatrixRow(check_index, row.event_seq, row.event, {}, unexplained))
                state = cell_state(row, broken=broken.get((check_index, row_index), False))
                matrix_row.cells[position[(row.user, row.channel, row.endpoint)]] = (row_index, row, state)
            rows.extend(sorted(by_event.values(), key=lambda r: (r.unexplained, r.event_seq is None, r.event_seq or 0)))
        matrices.append(FamilyMatrix(family, tuple(users), columns, tuple(rows)))
    return tuple(matrices)


def timing(row: DeliveryRow) -> str:
    """When the first copy came, for people: both times from the start of the action's request,
    never a negative difference."""
    if row.latency_ms is None:
        return f"the action's response came {row.response_ms:g} ms after its request was sent" if row.response_ms is not None else ""
    text = f"first copy {row.latency_ms:g} ms after the action's request was sent"
    if row.response_ms is None:
        return text
    if row.latency_ms < row.response_ms:
        return f"{text}, before its response (which came at {row.response_ms:g} ms)"
    return f"{text}; its response came at {row.response_ms:g} ms"
