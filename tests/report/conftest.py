"""A hand-built Report with one check of every outcome, planted credentials, and delivery rows."""
from __future__ import annotations

import pytest

from harness.contract import load_contract
from harness.report import CheckResult, DeliveryRow, Report, RunInfo, build_rule_summaries
from harness.violations import Level, Outcome, Violation

#: Credentials planted where a careless recorder could leave them; none may reach a report.
AUTH_HEADER = "Bearer user-secret-b7Qx9"
URL_SECRET = "ws-secret-Zk31"
ACCESS_TOKEN = "ya29.c.planted-access-token-Jr8"
EMU_TOKEN = "emu-token-planted-0af3"
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7planted"
PRIVATE_KEY = f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n-----END PRIVATE KEY-----\n"
SECRETS = ("user-secret-b7Qx9", URL_SECRET, "planted-access-token-Jr8", "planted-0af3", PEM_BODY)
#: Evidence: must stay.
DEVICE_TOKEN = "device-token-B1-c9f0e2"
PAYLOAD_SCRIPT = "<script>alert('pwned')</script>"


def _transcript() -> tuple[dict, ...]:
    return (
        {"t": 0.001, "kind": "http", "label": "A", "method": "POST", "url": "http://127.0.0.1:8000/friendships",
         "request_headers": {"Authorization": AUTH_HEADER, "Content-Type": "application/json"},
         "request_body": {"friend_id": 2}, "status": 201, "response_body": {"id": 7, "state": "pending"},
         "elapsed_ms": 12.5, "error": None},
        {"t": 0.004, "kind": "frame", "label": "B#1 (ws)", "direction": "in", "framing": "plain",
         "text": '{"message_type":"api_friendship_status","status":"new_request","friend_id":"1","open_requests":1,'
                 '"message":"friendship status changed","note":"' + PAYLOAD_SCRIPT.replace("'", "\\u0027") + '"}'},
        {"t": 0.020, "kind": "push", "label": "B device 1", "token": DEVICE_TOKEN, "http_status": 200,
         "message": {"token": DEVICE_TOKEN, "data": {"type": "api_friendship_status", "status": "new_request"}}},
        {"t": 0.030, "kind": "http", "label": "harness", "method": "POST",
         "url": f"http://127.0.0.1:9099/v1/token?access_token={ACCESS_TOKEN}&token={URL_SECRET}",
         "request_headers": {"authorization": f"Bearer {EMU_TOKEN}"},
         "request_body": {"private_key": PRIVATE_KEY, "client_email": "sa@example.iam.gserviceaccount.com"},
         "status": 200, "response_body": f'{{"access_token": "{ACCESS_TOKEN}", "expires_in": 3599}}',
         "elapsed_ms": 3.0, "error": None},
        {"t": 0.031, "kind": "note", "label": "harness", "text": f"connected ws://127.0.0.1:8000/cable?token={URL_SECRET}"},
        {"t": 0.032, "kind": "note", "label": "harness", "text": "key dump: " + PRIVATE_KEY},
    )


def _row(check_id: str, role: str, channel: str, endpoint: str, expected: int, seen: int, latency: float | None,
         rules: tuple[str, ...]) -> DeliveryRow:
    return DeliveryRow(check_id=check_id, event="friendship/new_request", role=role, user=role, channel=channel,
                       endpoint=endpoint, expected=expected, seen=seen, latency_ms=latency, rule_ids=rules)


def make_checks() -> tuple[CheckResult, ...]:
    fail_id = "test_friendship.py::test_new_request"
    must = Violation(rule_id="FRND-001", level=Level.MUST, title="friend_id is the counterpart as seen by the recipient",
                     message='"1" is not of type integer', pointer="/friend_id", variant="friendship/new_request",
                     instance="1", source="B#1 (ws)")
    missing_push = Violation(rule_id="DLV-002", level=Level.MUST, title="every registered device of the recipient receives one push in time",
                             message="no push reached B device 1 within 5.0 s", source="B device 1")
    should = Violation(rule_id="DLV-005", level=Level.SHOULD, title="the acting user receives no copy",
                       message="A received 1 copy of its own action", pointer="", source="A#1 (ws)")
    return (
        CheckResult(id="test_friendship.py::test_accept", name="test_accept", family="friendship",
                    description="A accepts B's request", expectation="B receives one accepted notification",
                    rule_ids=("FRND-001", "DLV-001"), outcome=Outcome.PASS, violations=(), duration_s=0.8,
                    transcript=(), delivery=(_row("test_friendship.py::test_accept", "B", "websocket", "B#1", 1, 1, 14.0, ("DLV-001",)),)),
        CheckResult(id=fail_id, name="test_new_request", family="friendship",
                    description="A sends B a friendship request", expectation="B receives one new_request on every connection and device",
                    rule_ids=("FRND-001", "DLV-001", "DLV-002"), outcome=Outcome.FAIL, violations=(must, missing_push), duration_s=2.5,
                    transcript=_transcript(),
                    delivery=(_row(fail_id, "B", "websocket", "B#1", 1, 1, 21.0, ("DLV-001",)),
                              _row(fail_id, "B", "fcm", "B device 1", 1, 0, None, ("DLV-002",)),
                              _row(fail_id, "third", "websocket", "C#1", 0, 0, None, ("DLV-004",))),
                    message="1 MUST rule broken",
                    reproduce=f"curl -X POST 'http://127.0.0.1:8000/friendships' -H 'Authorization: {AUTH_HEADER}' "
                              "-H 'Content-Type: application/json' -d '{\"friend_id\": 2}'"),
        CheckResult(id="test_delivery.py::test_actor_gets_no_copy", name="test_actor_gets_no_copy", family="friendship",
                    description="A sends a request while connected", expectation="A receives nothing",
                    rule_ids=("DLV-005",), outcome=Outcome.NON_STRICT, violations=(should,), duration_s=1.2,
                    transcript=(), delivery=(_row("test_delivery.py::test_actor_gets_no_copy", "actor", "websocket", "A#1", 0, 1, 9.0, ("DLV-005",)),)),
        CheckResult(id="test_call.py::test_scheduled", name="test_scheduled", family="call",
                    description="A schedules a call", expectation="B receives scheduled", rule_ids=("CALL-001",),
                    outcome=Outcome.SKIP, violations=(), duration_s=0.0, transcript=(), delivery=(),
                    message="the target lacks the call_schedule action"),
        CheckResult(id="test_chat.py::test_new_message", name="test_new_message", family="chat",
                    description="A posts in a thread", expectation="B receives the message", rule_ids=("CHAT-001",),
                    outcome=Outcome.ERROR, violations=(), duration_s=5.1,
                    transcript=({"t": 0.0, "kind": "http", "label": "A", "method": "POST", "url": "http://127.0.0.1:8000/chat",
                                 "request_headers": {}, "request_body": None, "status": None, "response_body": None,
                                 "elapsed_ms": 5000.0, "error": "connection refused\x00\x1b[31m"},),
                    delivery=(), message="target unreachable: connection refused at http://127.0.0.1:8000/chat\x07"),
    )


def make_report(checks: tuple[CheckResult, ...] | None = None) -> Report:
    checks = make_checks() if checks is None else checks
    run = RunInfo(target="reference", base_url="http://127.0.0.1:8000", contract_version="1.0.0",
                  harness_version="0.1.0", started_at="2025-01-02T03:04:05Z", duration_s=12.34, strict=False,
                  command=f"b4a run --target reference.yaml --header 'Authorization: {AUTH_HEADER}'")
    return Report(run=run, checks=checks, rules=build_rule_summaries(checks, load_contract()))


@pytest.fixture
def report() -> Report:
    return make_report()
