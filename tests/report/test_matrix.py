"""The delivery matrix: a state per delivery row, columns per user endpoint, rows per event, honest times."""
from __future__ import annotations

import dataclasses

import pytest

from harness.report.matrix import CellState, cell_state, differing_pointers, family_matrices, timing
from harness.report.model import DeliveryRow

from .conftest import make_checks, make_report


def _row(**fields) -> DeliveryRow:
    base = dict(check_id="c", event="friendship/new_request", role="B", user="B", channel="websocket", endpoint="B#1",
                expected=1, seen=1, latency_ms=10.0, event_seq=1, response_ms=8.0,
                expected_fields={"friend_id": 2, "open_requests": 1},
                received={"message_type": "api_friendship_status", "friend_id": 2, "open_requests": 1})
    return DeliveryRow(**{**base, **fields})


@pytest.mark.parametrize(("fields", "state"), [
    ({}, CellState.ARRIVED),
    ({"expected": 0, "seen": 0, "expected_fields": None, "received": None}, CellState.QUIET),
    ({"seen": 0, "received": None, "latency_ms": None}, CellState.MISSING),
    ({"expected": 0, "seen": 1, "expected_fields": None}, CellState.UNEXPECTED),
    ({"seen": 2}, CellState.DUPLICATE),
    ({"late": True, "latency_ms": 3100.0}, CellState.LATE),
    ({"received": {"friend_id": 3, "open_requests": 1}}, CellState.WRONG),
    ({"received": {"open_requests": 1}}, CellState.WRONG),
])
def test_cell_states(fields, state) -> None:
    assert cell_state(_row(**fields)) is state


def test_a_violation_on_an_arrived_copy_makes_it_wrong() -> None:
    assert cell_state(_row(), broken=True) is CellState.WRONG
    assert cell_state(_row(expected=0, seen=0, received=None), broken=True) is CellState.QUIET


def test_fields_compare_as_the_flow_compares() -> None:
    """An id the target sent as a string is the same value (its type is the schema's business)."""
    assert differing_pointers(_row(received={"friend_id": "2", "open_requests": 1})) == ()
    assert differing_pointers(_row(expected_fields={"thread/id": 5}, received={"thread": {"id": 6}})) == ("/thread/id",)
    assert differing_pointers(_row(received=None, seen=0)) == ()


def test_timing_is_never_a_negative_difference() -> None:
    early = timing(_row(latency_ms=5.2, response_ms=5.8))
    assert early == "first copy 5.2 ms after the action's request was sent, before its response (which came at 5.8 ms)"
    assert "-" not in early
    assert timing(_row(latency_ms=20.0, response_ms=5.8)) == \
        "first copy 20 ms after the action's request was sent; its response came at 5.8 ms"
    assert timing(_row(latency_ms=None, seen=0)) == "the action's response came 8 ms after its request was sent"


def test_family_matrix_layout() -> None:
    checks = list(make_checks())
    new_request = [
        _row(user="B", endpoint="B#2"), _row(user="B", endpoint="B#1"), _row(user="B", channel="fcm", endpoint="B device 1"),
        _row(role="actor", user="A", endpoint="A#1", expected=0, seen=0, received=None, expected_fields=None),
        _row(role="third", user="C", endpoint="C#1", expected=0, seen=0, received=None, expected_fields=None),
        _row(role="third", user="C", channel="fcm", endpoint="C device 1", expected=0, seen=0, received=None, expected_fields=None),
    ]
    accepted = [_row(event="friendship/accepted", event_seq=2, role="A", user="A", endpoint="A#1", seen=0, received=None),
                _row(event="friendship/accepted", event_seq=None, role="third", user="C", endpoint="C#1", expected=0,
                     expected_fields=None)]
    checks[1] = dataclasses.replace(checks[1], delivery=tuple(accepted + new_request))
    checks[0] = dataclasses.replace(checks[0], delivery=(_row(user="B", endpoint="B#1", event_seq=1),))
    matrices = {m.family: m for m in family_matrices(make_report(tuple(checks[:2])))}
    friendship = matrices["friendship"]
    # Users in label order, the bystander last; per user its connections, then its devices.
    assert [c.endpoint for c in friendship.columns] == ["A#1", "B#1", "B#2", "B device 1", "C#1", "C device 1"]
    assert [c.short for c in friendship.columns] == ["ws 1", "ws 1", "ws 2", "device 1", "ws 1", "device 1"]
    assert friendship.users == (("A", "", 1), ("B", "", 3), ("C", "bystander", 2))
    # Per check, its events in order; the copy no event explains on a row of its own, last.
    layout = [(r.check_index, r.event_seq, r.event, sorted(r.cells), r.ok) for r in friendship.rows]
    assert layout == [
        (0, 1, "friendship/new_request", [1], True),
        (1, 1, "friendship/new_request", [0, 1, 2, 3, 4, 5], True),
        (1, 2, "friendship/accepted", [0], False),
        (1, None, "friendship/accepted", [4], False),
    ]
    assert friendship.rows[2].cells[0][2] is CellState.MISSING and friendship.rows[3].cells[4][2] is CellState.UNEXPECTED
    assert [r.unexplained for r in friendship.rows] == [False, False, False, True]


def test_rows_recorded_before_events_were_numbered_group_by_variant() -> None:
    checks = list(make_checks())
    old = tuple(dataclasses.replace(r, event_seq=None) for r in checks[1].delivery)
    matrices = {m.family: m for m in family_matrices(make_report((dataclasses.replace(checks[1], delivery=old),)))}
    (row,) = matrices["friendship"].rows
    assert (row.event_seq, row.unexplained, len(row.cells)) == (None, False, 3)
