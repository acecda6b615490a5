"""A failing check's evidence: violations attached to the delivery they describe, field diffs, transcript excerpts."""
from __future__ import annotations

from harness.report.evidence import EXCERPT_LIMIT, attach, check_evidence, excerpt, field_lines
from harness.report.matrix import ABSENT, CellState
from harness.report.model import CheckResult, DeliveryRow
from harness.violations import Level, Outcome, Violation


def _payload(friend_id, open_requests=1):
    return {"message_type": "api_friendship_status", "status": "new_request", "friend_id": friend_id, "open_requests": open_requests}


def _row(endpoint, seq, expected_id, got_id, *, seen=1, latency=4.0):
    return DeliveryRow(check_id="c", event="friendship/new_request", role="B", user="B", channel="websocket", endpoint=endpoint,
                       expected=1, seen=seen, latency_ms=latency if seen else None, event_seq=seq, response_ms=3.0,
                       expected_fields={"friend_id": expected_id, "open_requests": 1},
                       received=_payload(got_id) if seen else None, rule_ids=("DLV-001",))


def _wrong_id(source, got, want):
    return Violation(rule_id="FRND-001", level=Level.MUST, title="t", message=f"friend_id is {got}, the flow expects {want}",
                     pointer="/friend_id", variant="friendship/new_request", instance=got, source=source)


def _frame(t, label, payload):
    import json
    return {"t": t, "kind": "frame", "label": label, "direction": "in", "framing": "plain", "text": json.dumps(payload)}


def _check(rows, violations, transcript=()):
    return CheckResult(id="c", name="c", family="friendship", description="", expectation="", rule_ids=(), outcome=Outcome.FAIL,
                       violations=tuple(violations), duration_s=1.0, transcript=tuple(transcript), delivery=tuple(rows))


def test_equal_violations_spread_over_equal_rows() -> None:
    """Three requests reach B#1, each with the same wrong friend_id: one violation per row, in order."""
    rows = [_row("B#1", 1, 27, 26), _row("B#1", 2, 28, 26), _row("B#1", 3, 29, 26), _row("C#1", 1, 5, 5)]
    violations = [_wrong_id("B#1", 26, 27), _wrong_id("B#1", 26, 28), _wrong_id("B#1", 26, 29)]
    by_row, apart = attach(_check(rows, violations))
    assert by_row == {0: [0], 1: [1], 2: [2]} and apart == []


def test_a_violation_no_row_explains_is_shown_apart() -> None:
    rows = [_row("B#1", 1, 2, 2)]
    auth = Violation(rule_id="AUTH-001", level=Level.MUST, title="t", message="accepted", source="anonymous")
    unsourced = Violation(rule_id="GAME-003", level=Level.SHOULD, title="t", message="200 for an invalid transition")
    evidence = check_evidence(_check(rows, [auth, unsourced]), "a")
    assert evidence.items == () and evidence.others == (auth, unsourced)
    assert evidence.violation_anchor == {0: "a-other", 1: "a-other"}


def test_field_lines_mark_the_wrong_field_and_schema_errors() -> None:
    row = _row("B#1", 1, 2, 3)
    schema = Violation(rule_id="PAY-003", level=Level.MUST, title="t", message="required key 'thread' is missing",
                       pointer="/thread", source="B#1")
    lines = {line.pointer: line for line in field_lines(row, [schema])}
    assert (lines["/friend_id"].expected, lines["/friend_id"].received, lines["/friend_id"].differs) == (2, 3, True)
    assert lines["/open_requests"].differs is False and lines["/status"].expected is ABSENT
    assert lines["/thread"].received is ABSENT and lines["/thread"].violations == (schema,)


def test_missing_delivery_evidence_and_its_transcript_excerpt() -> None:
    http = {"t": 1.000, "kind": "http", "label": "A", "method": "POST", "url": "http://h/friendships", "status": 201, "elapsed_ms": 3.0}
    transcript = [
        {"t": 0.5, "kind": "http", "label": "A", "method": "POST", "url": "http://h/users", "status": 201, "elapsed_ms": 1.0},
        http,
        _frame(1.004, "B#1", _payload(2)),
        {"t": 1.5, "kind": "http", "label": "M", "method": "POST", "url": "http://h/chat/threads", "status": 201, "elapsed_ms": 1.0},
        {"t": 1.6, "kind": "note", "label": "harness", "text": "later"},
    ]
    rows = [_row("B#1", 1, 2, 2), _row("B#2", 1, 2, None, seen=0)]
    missing = Violation(rule_id="DLV-001", level=Level.MUST, title="t", message="B received no friendship/new_request on B#2",
                        variant="friendship/new_request", source="B#2")
    evidence = check_evidence(_check(rows, [missing], transcript), "a")
    (item,) = evidence.items
    assert item.state is CellState.MISSING and item.anchor == "a-e1" and item.violations == (missing,)
    assert "nothing arrived" in item.headline
    # From the action's request (found from the copy that did arrive) to the harness's next request.
    assert [s.summary for s in item.excerpt][0] == "POST /friendships -> 201 (3.0 ms)"
    assert [s.who for s in item.excerpt] == ["A", "B#1", "M"]


def test_a_long_wait_is_cut_in_the_middle() -> None:
    transcript = [{"t": 1.0, "kind": "http", "label": "A", "method": "POST", "url": "http://h/x", "status": 201, "elapsed_ms": 1}]
    transcript += [{"t": 1.0 + i / 100, "kind": "note", "label": "harness", "text": f"n{i}"} for i in range(1, 40)]
    transcript.append(_frame(2.0, "B#1", _payload(2)))
    row = _row("B#1", 1, 2, 2, latency=1000.0)
    steps = excerpt(_check([row], [], transcript), row)
    assert len(steps) == EXCERPT_LIMIT and steps[4] is None
    assert steps[0].kind == "http" and steps[-1].who == "B#1"
