"""The fault switches: the table is sound, and each switch changes what it claims to."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from harness.emulator.fcm import FcmEmulator, FcmInbox
from harness.reference import ReferenceBackend
from harness.reference.faults import FAULTS, FAULTS_BY_NAME, parse_faults

from . import fault_scenarios as s
from .load_fault_scenarios import LOAD_FAULT_CASES
from .push_fault_scenarios import PUSH_FAULT_CASES
from .security_fault_scenarios import SECURITY_FAULT_CASES
from .support import Api, Listeners

RULES = Path(__file__).resolve().parents[2] / "schemas" / "rules.json"
FAULT_RING_TIMEOUT = 1.0

#: fault -> (scenario, observation key, value on the clean backend, value with the fault)
CASES: dict[str, tuple[s.Scenario, str, Any, Any]] = {
    "wrong-friend-id": (s.friendship_request, "friend_id", "actor", "recipient"),
    "open-requests-off-by-one": (s.friendship_request, "open_requests", 1, 2),
    "push-on-websocket-only": (s.friendship_cancel, "pushes_besides_request_and_marker", 0, 1),
    "missing-push": (s.friendship_request, "pushes", 1, 0),
    "echo-to-actor": (s.friendship_request, "frames_to_actor", 0, 1),
    "leak-to-third": (s.chat, "frames_to_third_user", 0, 1),
    "game-one-side": (s.game, "frames_to_creator", 1, 0),
    "missing-key": (s.friendship_request, "open_requests", 1, "missing"),
    "string-ids": (s.friendship_request, "friend_id", "actor", "str:actor"),
    "wrong-message-type": (s.chat, "message_type", "api_chat_message", "api_chat"),
    "accept-unauthenticated-socket": (s.unauthenticated_sockets, "*",
                                      {"plain": "refused 403", "cable_first_frame": "disconnect"},
                                      {"plain": "accepted", "cable_first_frame": "welcome"}),
    "bad-date-time": (s.game, "scheduled_at", "2026-11-25T14:00:00Z", "2026-11-25 14:00"),
    "no-user-not-available": (s.call_offline, "*",
                              {"status": "user_not_available",
                               "caller_frames": ["user_not_available"]},
                              {"status": "requested", "caller_frames": []}),
    "no-user-not-responding": (s.call_unanswered, "caller_frames", ["user_not_responding"], []),
    "push-data-not-strings": (s.friendship_request, "push_status", 200, 400),
    "push-message-type-key": (s.friendship_request, "push_keys",
                              ["friend_id", "message", "open_requests", "status", "type"],
                              ["friend_id", "message", "message_type", "open_requests",
                               "status"]),
    "notify-refused-action": (s.refused_accept, "*",
                              {"status_code": 409, "frames_after_refusal": 0},
                              {"status_code": 409, "frames_after_refusal": 1}),
    "duplicate-delivery": (s.friendship_request, "frames_to_invitee", 1, 2),
    "push-to-unregistered": (s.unregistered_token, "attempts_on_unregistered_token", 1, 2),
    "push-failure-fails-action": (s.push_failure, "*",
                                  {"status_code": 201, "delivered": "new_request"},
                                  {"status_code": 502, "delivered": "new_request"}),
    "wrong-chat-thread": (s.chat, "thread_id_offset", 0, 1),
    "game-relative-ids": (s.game, "partner_copy_user_id", "creator", "partner"),
    "invalid-transition-accepted": (s.game_invalid_transition, "*",
                                    {"status_code": 409, "frames": 0},
                                    {"status_code": 200, "frames": 1}),
    "invalid-transition-silent": (s.game_invalid_transition, "*",
                                  {"status_code": 409, "frames": 0},
                                  {"status_code": 200, "frames": 0}),
    "call-wrong-friend-id": (s.call_online, "friend_id", "caller", "callee"),
    "wrong-message-text": (s.friendship_request, "message", "friendship status changed",
                           "Friendship status changed"),
    "unknown-status": (s.friendship_cancel_frame, "status", "canceled", "cancelled"),
    "late-delivery": (s.friendship_cancel_frame, "within_2_s", True, False),
    "extra-key": (s.friendship_request, "extra_keys", [], ["sent_at"]),
    "drop-second-connection": (s.two_connections, "frames_per_connection", [1, 1], [1, 0]),
    "swap-order": (s.chat_order, "texts", ["one", "two", "three"], ["two", "one", "three"]),
    "accept-bad-token-socket": (s.socket_credentials, "*",
                                {"no_token": "refused 403", "bad_token": "refused 403",
                                 "cable_bad_token": "disconnect"},
                                {"no_token": "refused 403", "bad_token": "accepted",
                                 "cable_bad_token": "welcome"}),
    "anonymous-receives-all": (s.anonymous_socket, "anonymous", "refused 403",
                               "accepted, 1 frame(s)"),
    "open-requests-counts-outgoing": (s.friendship_request_with_outgoing, "open_requests", 1, 2),
    "scheduled-at-empty": (s.game_unscheduled, "scheduled_at", None, ""),
    "scheduled-at-omitted": (s.game_unscheduled, "scheduled_at", None, "missing"),
    "presence-sticky": (s.call_after_closing, "after_closing_all", "user_not_available",
                        "requested"),
    "presence-any-close": (s.call_after_closing, "after_closing_one", "requested",
                           "user_not_available"),
    "ring-timer-not-cancelled": (s.call_answered, "caller_frames", ["accepted"],
                                 ["accepted", "user_not_responding"]),
    "ring-too-early": (s.call_ring_timing, "not_before_ring_timeout", True, False),
    "game-partner-moves-one-side": (s.game_partner_moves, "*",
                                    {"creator_saw": ["requested", "accepted", "canceled"],
                                     "partner_saw": ["requested", "accepted", "canceled"]},
                                    {"creator_saw": ["requested", "accepted"],
                                     "partner_saw": ["requested", "accepted", "canceled"]}),
    **PUSH_FAULT_CASES,
    **SECURITY_FAULT_CASES,
    **LOAD_FAULT_CASES,
}


def test_fault_table_has_at_least_15_distinct_faults_with_known_rule_ids() -> None:
    rule_ids = {rule["id"] for rule in json.loads(RULES.read_text())["rules"]}
    assert len(FAULTS) >= 15
    assert len(FAULTS_BY_NAME) == len(FAULTS)
    for fault in FAULTS:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)+", fault.name), fault
        assert re.fullmatch(r"[A-Z]{3,4}-\d{3}", fault.rule_id), fault
        assert fault.rule_id in rule_ids, fault
        assert fault.description and "\n" not in fault.description
    assert set(CASES) == set(FAULTS_BY_NAME)  # every fault has a behaviour test


def test_unknown_fault_names_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown fault.*: nope, zzz"):
        parse_faults(["wrong-friend-id", "zzz", "nope"])


def test_list_faults_prints_every_fault_with_its_rule() -> None:
    result = subprocess.run([sys.executable, "-m", "harness", "serve", "--list-faults"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == len(FAULTS)
    for line, fault in zip(lines, FAULTS):
        assert line.split()[:2] == [fault.name, fault.rule_id]


@pytest.fixture(scope="module")
def fault_backends(fcm: FcmEmulator) -> Iterator[dict[str, ReferenceBackend]]:
    """One backend per fault, booted in parallel (each boot is mostly imports)."""
    backends = {name: ReferenceBackend(faults=[name], fcm_emulator_url=fcm.base_url,
                                       ring_timeout=FAULT_RING_TIMEOUT, boot_timeout=60)
                for name in CASES}
    with ThreadPoolExecutor(max_workers=4) as pool:
        started = list(pool.map(_try_start, backends.values()))
    try:
        failed = [error for error in started if error]
        assert not failed, failed[0]
        yield backends
    finally:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(ReferenceBackend.stop, backends.values()))


def _try_start(backend: ReferenceBackend) -> str | None:
    try:
        backend.start()
    except Exception as exc:
        return str(exc)
    return None


@pytest.fixture(scope="module")
def clean_observations() -> dict[s.Scenario, s.Observation]:
    return {}


def _observe(backend: ReferenceBackend, inbox: FcmInbox, scenario: s.Scenario) -> s.Observation:
    listeners = Listeners(backend.ws_url)
    try:
        return scenario(s.World(Api(backend.base_url), listeners, inbox, backend.ring_timeout))
    finally:
        listeners.close()


@pytest.mark.parametrize("name", list(CASES))
def test_fault_changes_the_behaviour_it_claims(
        name: str, fault_backends: dict[str, ReferenceBackend], reference: ReferenceBackend,
        inbox: FcmInbox, clean_observations: dict[s.Scenario, s.Observation]) -> None:
    scenario, key, clean, faulty = CASES[name]
    if scenario not in clean_observations:
        clean_observations[scenario] = _observe(reference, inbox, scenario)
    backend = fault_backends[name]
    observed = _observe(backend, inbox, scenario)
    pick = (lambda o: o) if key == "*" else (lambda o: o[key])
    assert pick(clean_observations[scenario]) == clean, clean_observations[scenario]
    assert pick(observed) == faulty, observed
    assert f"faults on: {name}" in "".join(backend.output)
