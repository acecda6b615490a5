"""The push faults' behaviour cases: one friendship request, seen at the FCM emulator's inbox.

Each case observes the one send attempt the invitee's device gets: its HTTP status and FcmError
(or canonical) code, whether it was a dry run, whether it was delivered, and how its
open_requests compares with the WebSocket copy. test_faults.py runs them in proxy mode with the
other faults, test_push.py in base-URL mode.
"""
from __future__ import annotations

from typing import Any

from . import fault_scenarios as s


def friendship_push(world: s.World) -> s.Observation:
    api = world.api
    a, b = api.user("a"), api.user("b")
    b_device = api.device(b)
    b_ws = world.listen(b)
    api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    ws_copy = b_ws.next()
    found = s.attempts(world, b_device, 1, timeout=10)
    assert found, "no push attempt reached the emulator"
    attempt = found[0]
    data = (attempt.message or {}).get("data", {})
    return {
        "attempt": (attempt.http_status, attempt.error_code),
        "validate_only": attempt.validate_only,
        "delivered": len(world.inbox.messages(token=b_device)),
        "open_requests_offset": int(data["open_requests"]) - ws_copy["open_requests"],
    }


#: fault -> (scenario, observation key, value on the clean backend, value with the fault)
PUSH_FAULT_CASES: dict[str, tuple[s.Scenario, str, Any, Any]] = {
    "push-data-differs": (friendship_push, "open_requests_offset", 0, -1),
    "validate-only-push": (friendship_push, "*",
                           {"attempt": (200, None), "validate_only": False, "delivered": 1,
                            "open_requests_offset": 0},
                           {"attempt": (200, None), "validate_only": True, "delivered": 0,
                            "open_requests_offset": 0}),
    "push-wrong-project": (friendship_push, "attempt", (200, None), (403, "PERMISSION_DENIED")),
    "push-bad-bearer": (friendship_push, "attempt", (200, None), (401, "UNAUTHENTICATED")),
}
