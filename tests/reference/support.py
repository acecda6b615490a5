"""Test helpers: a REST client for the reference backend and WebSocket listeners in both framings."""
from __future__ import annotations

import json
import queue
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
import websocket

CABLE_IDENTIFIER = json.dumps({"channel": "NotificationsChannel"})


@dataclass(frozen=True)
class User:
    id: int
    name: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Api:
    """Thin requests wrapper: `api.post(user, path, json)` returns the Response."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def user(self, name: str = "u") -> User:
        response = self.session.post(f"{self.base_url}/users", json={"name": name}, timeout=5)
        assert response.status_code == 201, response.text
        return User(**response.json())

    def post(self, user: User | None, path: str, body: Any = None) -> requests.Response:
        return self.session.post(f"{self.base_url}{path}", json=body, timeout=10,
                                 headers=user.headers if user else {})

    def get(self, user: User | None, path: str) -> requests.Response:
        return self.session.get(f"{self.base_url}{path}", timeout=5,
                                headers=user.headers if user else {})

    def ok(self, user: User, path: str, body: Any = None, status: int = 200) -> dict[str, Any]:
        response = self.post(user, path, body)
        assert response.status_code == status, f"{path}: {response.status_code} {response.text}"
        return response.json()

    def device(self, user: User) -> str:
        """Register a fresh FCM device token for the user; return it."""
        token = f"dev-{user.id}-{secrets.token_hex(4)}"
        assert self.post(user, "/devices", {"token": token}).status_code == 201
        return token


class Listener:
    """One WebSocket connection; a thread records each notification payload it receives."""

    def __init__(self, url: str, cable: bool, **options: Any) -> None:
        self.cable = cable
        self.payloads: queue.Queue[dict[str, Any]] = queue.Queue()
        self.control: queue.Queue[dict[str, Any]] = queue.Queue()  # ActionCable protocol frames
        self.ws = websocket.create_connection(
            url, timeout=5, subprotocols=["actioncable-v1-json"] if cable else None, **options)
        if cable:
            assert self.next_control()["type"] == "welcome"
            self.ws.send(json.dumps({"command": "subscribe", "identifier": CABLE_IDENTIFIER}))
            self._ready = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if cable:
            confirm = self.wait_control(lambda f: f.get("type") == "confirm_subscription")
            assert confirm["identifier"] == CABLE_IDENTIFIER

    def next_control(self) -> dict[str, Any]:
        return json.loads(self.ws.recv())

    def _run(self) -> None:
        while True:
            try:
                text = self.ws.recv()
            except Exception:
                return
            if not text:
                return
            frame = json.loads(text)
            if self.cable and "message" in frame and "identifier" in frame:
                assert frame["identifier"] == CABLE_IDENTIFIER
                self.payloads.put(frame["message"])
            elif self.cable:
                self.control.put(frame)
            else:
                self.payloads.put(frame)

    def wait_control(self, match: Callable[[dict[str, Any]], bool],
                     timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            frame = self.control.get(timeout=max(0.0, deadline - time.monotonic()))
            if match(frame):
                return frame

    def next(self, timeout: float = 2.0) -> dict[str, Any]:
        """The next payload; fails the test if none arrives within `timeout`."""
        try:
            return self.payloads.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no notification within {timeout} s") from None

    def quiet(self, duration: float = 0.3) -> list[dict[str, Any]]:
        """Whatever arrives within `duration` (expected: nothing)."""
        time.sleep(duration)
        found = []
        while not self.payloads.empty():
            found.append(self.payloads.get_nowait())
        return found

    def close(self) -> None:
        self.ws.close()
        self._thread.join(timeout=2)


class Listeners:
    """Opens listeners for a test and closes them all at the end."""

    def __init__(self, ws_url: str) -> None:
        self.ws_url = ws_url
        self.open: list[Listener] = []

    def __call__(self, user: User, cable: bool = False) -> Listener:
        path = "/cable" if cable else "/ws"
        listener = Listener(f"{self.ws_url}{path}?token={user.token}", cable)
        self.open.append(listener)
        return listener

    def close(self) -> None:
        for listener in self.open:
            listener.close()
