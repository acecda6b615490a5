"""/cable with the real @rails/actioncable client under Node (global WebSocket from `ws`)."""
from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.reference import ReferenceBackend

from .support import Api

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("node") / "cable_client.js"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules" / "@rails" / "actioncable").exists(),
    reason="needs node and `npm install` (@rails/actioncable, ws) in the project root")


class NodeCable:
    """The Node client as a subprocess; its JSON event lines are read into a queue."""

    def __init__(self, url: str, channel: str = "NotificationsChannel") -> None:
        self.process = subprocess.Popen(
            ["node", str(SCRIPT), url, channel], cwd=ROOT, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.events.put(json.loads(line))

    def next(self, timeout: float = 5.0) -> dict[str, Any]:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event from the Node client within {timeout} s; "
                                 f"exit code {self.process.poll()}") from None

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def node_cable() -> Iterator[Any]:
    clients: list[NodeCable] = []

    def start(url: str, channel: str = "NotificationsChannel") -> NodeCable:
        clients.append(NodeCable(url, channel))
        return clients[-1]

    yield start
    for client in clients:
        client.close()


def test_actioncable_client_receives_the_friendship_request(
        api: Api, reference: ReferenceBackend, node_cable: Any) -> None:
    a, b = api.user("a"), api.user("b")
    client = node_cable(f"{reference.ws_url}/cable?token={b.token}")
    assert client.next() == {"event": "connected", "data": "actioncable-v1-json"}
    api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    assert client.next() == {"event": "received", "data": {
        "message": "friendship status changed", "message_type": "api_friendship_status",
        "status": "new_request", "friend_id": a.id, "open_requests": 1}}
    thread = api.ok(a, "/chat/threads", {"participant_id": b.id}, 201)
    api.ok(a, f"/chat/threads/{thread['id']}/messages", {"text": "hello"}, 201)
    assert client.next()["data"] == {"message": "hello", "thread": thread,
                                     "message_type": "api_chat_message"}


def test_actioncable_client_sees_unknown_channel_rejected(
        api: Api, reference: ReferenceBackend, node_cable: Any) -> None:
    user = api.user()
    client = node_cable(f"{reference.ws_url}/cable?token={user.token}", "NoSuchChannel")
    assert client.next() == {"event": "rejected", "data": None}


def test_actioncable_client_is_disconnected_as_unauthorized(
        reference: ReferenceBackend, node_cable: Any) -> None:
    client = node_cable(f"{reference.ws_url}/cable?token=wrong")
    assert client.next() == {"event": "server_disconnect", "data": {
        "type": "disconnect", "reason": "unauthorized", "reconnect": False}}
    assert client.next() == {"event": "disconnected", "data": {"willAttemptReconnect": False}}
