"""Sequence diagrams per variant, from rules.json: actor, action, recipients per channel, who must receive nothing."""
from __future__ import annotations

import pytest

from harness.contract import load_contract
from harness.docs.sequence import sequence_diagram

CONTRACT = load_contract()


def _diagram(key: str) -> list[str]:
    variant = CONTRACT.variant(key)
    return [line.strip() for line in sequence_diagram(CONTRACT, CONTRACT.family(variant.family), variant).splitlines()]


def test_a_pushed_variant_goes_to_every_connection_and_through_fcm_to_every_device() -> None:
    lines = _diagram("friendship/new_request")
    assert lines[0] == "sequenceDiagram"
    assert "actor Acting as A (acts)" in lines and "Acting->>Backend: HTTP: A invites B" in lines
    assert "Backend->>WS_B: new_request (within 2 s)" in lines
    assert "FCM->>Dev_B: push new_request (within 5 s)" in lines
    assert "Note over Third: receives nothing<br/>(DLV-004 MUST)" in lines
    assert "Note over Acting: no copy<br/>(DLV-005 SHOULD)" in lines  # A acted and is not a recipient


def test_a_websocket_only_variant_sends_no_push() -> None:
    lines = _diagram("friendship/canceled")
    assert not [line for line in lines if "FCM" in line and "no FCM request" not in line]
    assert "Note over Backend: no FCM request (DLV-003 MUST)" in lines


def test_both_users_receive_a_game_change_whoever_acts() -> None:
    lines = _diagram("game-session/started")
    assert "actor Acting as A or B (acts)" in lines
    assert {"Backend->>WS_A: started (within 2 s)", "Backend->>WS_B: started (within 2 s)"} <= set(lines)
    assert not [line for line in lines if line.startswith("Note over Acting")]  # the actor is a recipient


def test_the_other_user_and_the_backends_own_timer() -> None:
    terminated = _diagram("friendship/terminated")
    assert "participant WS_Other as the other user: WebSocket<br/>every open connection" in terminated
    assert "Note over Acting: no copy<br/>(DLV-005 SHOULD)" in terminated
    timeout = _diagram("call/user_not_responding")
    assert not [line for line in timeout if "Acting" in line]
    assert "Note over Backend: B does not answer within the ring timeout" in timeout


@pytest.mark.parametrize("variant", [v.key for v in CONTRACT.variants()])
def test_no_label_uses_what_mermaid_reads_as_syntax(variant: str) -> None:
    for line in _diagram(variant)[1:]:
        assert ";" not in line and "#" not in line and not line.lower().startswith("participant actor ")
