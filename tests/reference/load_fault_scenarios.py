"""Behaviour tests of the period faults that `b4a load` counts (drop 1 in 1,000, delay 1 in 100).

Both hit the first WebSocket copy a fresh backend sends, then every period-th: a fresh fault
backend runs only this scenario, so its first chat message is the one hit.
"""
from __future__ import annotations

import queue
import time
from typing import Any

from . import fault_scenarios as s

#: the delayed copy comes 3 s after the others; a dropped one never does
WAIT_FOR_ALL_SECONDS = 4.5


def three_chat_messages(world: s.World) -> s.Observation:
    """Three chat messages to one connection: which arrived within 2 s, and which at all."""
    api = world.api
    a, b = api.user("a"), api.user("b")
    b_ws = world.listen(b)
    sent = time.monotonic()
    for text in ("one", "two", "three"):
        s._chat(api, a, b, text)
    arrived: list[tuple[str, float]] = []
    deadline = sent + WAIT_FOR_ALL_SECONDS
    while len(arrived) < 3 and time.monotonic() < deadline:
        try:
            payload: dict[str, Any] = b_ws.payloads.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        arrived.append((payload["message"], time.monotonic() - sent))
    return {"within_2_s": [text for text, after in arrived if after < 2.0],
            "arrived": [text for text, _ in arrived]}


LOAD_FAULT_CASES: dict[str, tuple[s.Scenario, str, Any, Any]] = {
    "drop-one-in-thousand": (three_chat_messages, "*",
                             {"within_2_s": ["one", "two", "three"], "arrived": ["one", "two", "three"]},
                             {"within_2_s": ["two", "three"], "arrived": ["two", "three"]}),
    "delay-one-in-hundred": (three_chat_messages, "*",
                             {"within_2_s": ["one", "two", "three"], "arrived": ["one", "two", "three"]},
                             {"within_2_s": ["two", "three"], "arrived": ["two", "three", "one"]}),
}
