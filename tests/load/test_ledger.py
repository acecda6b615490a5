"""The delivery ledger on its own: matching, early copies, and each problem counted exactly."""
from __future__ import annotations

from typing import Any

import pytest

from harness.load.ledger import DeliveryLedger, merge
from harness.load.report import build, percentile
from harness.validation import judge

T0 = 1_000_000.0
A, B, C = 1, 2, 3


def chat(thread: int, text: str) -> dict[str, Any]:
    return {"message_type": "api_chat_message", "message": text, "thread": {"id": thread}}


def friendship(status: str, friend: int) -> dict[str, Any]:
    return {"message_type": "api_friendship_status", "message": "friendship status changed", "status": status,
            "friend_id": friend, "open_requests": 0}


@pytest.fixture
def ledger() -> DeliveryLedger:
    return DeliveryLedger(websocket_seconds=2.0, push_seconds=5.0, started_at=T0)


def see(ledger: DeliveryLedger, endpoint: str, recipient: int, payload: dict[str, Any], at: float) -> None:
    variant, violations = judge(payload)
    ledger.observe("websocket", endpoint, recipient, payload, at, violations, variant.key if variant else None)


def expect_chat(ledger: DeliveryLedger, text: str, at: float, endpoints: tuple[str, ...] = ("b#1",)) -> None:
    ledger.parties("chat", (7, text), (A, B))
    ledger.expect(variant="chat/new_message", recipient=B, identity=(7, text), action="chat.post", actor=A,
                  response_at=at, websockets=endpoints, devices=(), fields={"thread/id": 7, "message": text})


def test_a_copy_is_matched_and_timed_from_the_response(ledger: DeliveryLedger) -> None:
    expect_chat(ledger, "hi", T0 + 1.0, ("b#1", "b#2"))
    see(ledger, "b#1", B, chat(7, "hi"), T0 + 1.010)
    see(ledger, "b#2", B, chat(7, "hi"), T0 + 1.030)
    assert ledger.waiting() == 0
    ledger.finish()
    snap = ledger.snapshot()
    assert snap["counts"] == {p: 0 for p in snap["counts"]}
    assert sorted(snap["latency_by_variant"]["chat/new_message websocket"]) == pytest.approx([10.0, 30.0], abs=0.05)


def test_a_copy_before_the_response_waits_for_its_expectation(ledger: DeliveryLedger) -> None:
    see(ledger, "b#1", B, chat(7, "early"), T0 + 0.9)
    expect_chat(ledger, "early", T0 + 1.0)
    ledger.finish()
    snap = ledger.snapshot()
    assert snap["counts"]["lost"] == 0 and snap["counts"]["unexpected"] == 0
    assert snap["before_response"] == 1
    assert snap["latency_by_variant"]["chat/new_message websocket"] == [0.0]


def test_each_problem_is_counted_once_per_copy(ledger: DeliveryLedger) -> None:
    expect_chat(ledger, "one", T0 + 1.0, ("b#1", "b#2"))
    see(ledger, "b#1", B, chat(7, "one"), T0 + 1.1)
    see(ledger, "b#1", B, chat(7, "one"), T0 + 1.2)  # duplicated
    see(ledger, "c#1", C, chat(7, "one"), T0 + 1.2)  # leaked: C took no part
    see(ledger, "a#1", A, chat(7, "one"), T0 + 1.2)  # unexpected: the sender's own echo
    # b#2 never gets its copy: lost
    expect_chat(ledger, "two", T0 + 2.0)
    see(ledger, "b#1", B, chat(7, "two"), T0 + 4.5)  # late: 2.5 s after the response
    expect_chat(ledger, "three", T0 + 3.0)
    see(ledger, "b#1", B, {**chat(7, "three"), "thread": {"id": "7"}}, T0 + 3.1)  # invalid: a string id
    ledger.finish()
    assert ledger.counts == {"lost": 1, "duplicated": 1, "leaked": 1, "unexpected": 1, "invalid": 1, "late": 1}
    assert ledger.examples["lost"][0]["endpoint"] == "b#2"
    assert ledger.examples["leaked"][0]["recipient"] == C


def test_a_counterpart_family_is_identified_by_the_pair(ledger: DeliveryLedger) -> None:
    ledger.parties("friendship", None, (A, B))
    ledger.expect(variant="friendship/new_request", recipient=B, identity=(A,), action="friendship.request", actor=A,
                  response_at=T0 + 1, websockets=("b#1",), devices=("tok-b",), fields={"friend_id": A})
    see(ledger, "b#1", B, friendship("new_request", A), T0 + 1.1)
    see(ledger, "c#1", C, friendship("new_request", A), T0 + 1.1)  # C and A never met: leaked
    see(ledger, "a#1", A, friendship("new_request", B), T0 + 1.1)  # A and B did: unexpected
    assert ledger.waiting() == 1  # the push to tok-b
    assert ledger.give_up_at() == pytest.approx(T0 + 1 + 2 * 5.0)
    ledger.finish()
    assert ledger.counts["lost"] == 1 and ledger.counts_by_channel["lost"]["fcm"] == 1
    assert ledger.counts["leaked"] == 1 and ledger.counts["unexpected"] == 1


def test_a_wrong_flow_field_is_invalid(ledger: DeliveryLedger) -> None:
    ledger.expect(variant="game-session/requested", recipient=B, identity=(5,), action="game.create", actor=A,
                  response_at=T0 + 1, websockets=("b#1",), devices=(), fields={"session_id": 5, "user_id": A, "partner_id": B})
    payload = {"message_type": "api_game_session_status", "session_id": 5, "game_id": 1, "user_id": B, "partner_id": A,
               "state": "requested", "game_level": 0, "scheduled_at": None}
    see(ledger, "b#1", B, payload, T0 + 1.1)
    ledger.finish()
    assert ledger.counts["invalid"] == 1 and ledger.counts["lost"] == 0
    assert set(ledger.examples["invalid"][0]["wrong_fields"]) == {"user_id", "partner_id"}


def test_snapshots_merge_and_a_budget_fails_the_run(ledger: DeliveryLedger) -> None:
    expect_chat(ledger, "x", T0 + 1.0)
    see(ledger, "b#1", B, chat(7, "x"), T0 + 1.2)
    ledger.action("chat.post", "ok", T0 + 1.0)
    ledger.finish()
    merged = merge([ledger.snapshot(), ledger.snapshot()])
    assert merged["delivered"]["websocket"] == 2
    results = {"config": {"started_at": T0, "users": 2, "spawn_rate": 2, "duration_s": 3, "seed": 1, "think": [1, 2],
                          "emulator_url": None, "project_id": None},
               "stopped_at": T0 + 3, "ended_at": T0 + 4,
               "snapshots": [{"process": "local", "ledger": ledger.snapshot(), "cpu": [[1, 20.0], [2, 95.0], [3, 96.0]],
                              "users": 2, "connections": 2, "devices": 0, "connections_closed_by_server": 0,
                              "setup_errors": 0, "setup_examples": []}]}
    within = build(results, {}, {"p99_ms": 500}, {"websocket": 2, "push": 5})
    assert within["exit_code"] == 0 and within["latency"]["websocket"]["p99_ms"] == pytest.approx(200, abs=0.1)
    over = build(results, {}, {"p99_ms": 100}, {"websocket": 2, "push": 5})
    assert over["exit_code"] == 1 and "budget" in over["reasons"][0]
    assert over["generator"]["saturated"] is True


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (50.0, 99.0, 100.0)
    assert percentile([], 50) is None
