"""FCM pushes: data encoded per the contract, sent with firebase-admin from worker threads."""
from __future__ import annotations

import json
import logging
from collections.abc import Set
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from harness.reference import fcm_setup
from harness.reference.store import Store

if TYPE_CHECKING:
    import firebase_admin

log = logging.getLogger("b4a.reference.push")


def encode_value(value: Any) -> str:
    """FCM data values are strings: ints in decimal, null as "null", objects as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def encode_data(payload: dict[str, Any], type_key: str = "type") -> dict[str, str]:
    """The flat data map; `message_type` travels as `type` (FCM reserves `message_type`)."""
    return {(type_key if key == "message_type" else key): encode_value(value)
            for key, value in payload.items()}


def _notification(payload: dict[str, Any]) -> tuple[str, str] | None:
    """A human title/body for the visible part of the push (free-form in the contract)."""
    if payload.get("status") == "new_request":
        return "New friendship request", "Someone wants to be your buddy."
    if isinstance(payload.get("message"), str) and "thread" in payload:
        return "New message", payload["message"][:100]
    return None


class PushError(Exception):
    """A push that FCM (or the way to it) refused."""


class Pusher:
    """Sends one push per device token of the recipient; never raises into the caller."""

    def __init__(self, credentials_path: str | None, store: Store, faults: Set[str]) -> None:
        self._credentials_path = credentials_path
        self._firebase: firebase_admin.App | None = None
        self._firebase_lock = threading.Lock()
        self._store = store
        self._faults = faults
        # a few workers: a slow or retried push (FCM 503 backoff) must not hold up the rest
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="b4a-push")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def submit(self, user_id: int, payload: dict[str, Any]) -> None:
        """Queue the pushes to every device of the user, in the background."""
        if self._credentials_path is None:
            return
        for token in self._store.device_tokens(user_id):
            self._pool.submit(self._send_logged, user_id, token, payload)

    def send_now(self, user_id: int, payload: dict[str, Any]) -> list[str]:
        """Send synchronously (only the push-failure-fails-action fault does); the errors."""
        if self._credentials_path is None:
            return []
        errors = (self._send_logged(user_id, token, payload)
                  for token in self._store.device_tokens(user_id))
        return [error for error in errors if error is not None]

    def _app(self) -> firebase_admin.App:
        with self._firebase_lock:
            if self._firebase is None:
                assert self._credentials_path is not None
                self._firebase = fcm_setup.initialise(self._credentials_path)
            return self._firebase

    def _send_logged(self, user_id: int, token: str, payload: dict[str, Any]) -> str | None:
        from firebase_admin import messaging

        try:
            if "push-data-not-strings" in self._faults:
                self._send_raw(token, payload)
            else:
                self._send_sdk(token, payload)
        except messaging.UnregisteredError:
            log.warning("push to user %s: token %.12s... is unregistered", user_id, token)
            if "push-to-unregistered" not in self._faults:
                self._store.remove_device(user_id, token)
            return "unregistered"
        except Exception as exc:  # any push failure is logged, never raised to the action
            log.warning("push to user %s failed: %s", user_id, exc)
            return str(exc) or type(exc).__name__
        return None

    def _send_sdk(self, token: str, payload: dict[str, Any]) -> None:
        from firebase_admin import messaging

        type_key = "message_type" if "push-message-type-key" in self._faults else "type"
        visible = _notification(payload)
        message = messaging.Message(
            token=token,
            data=encode_data(payload, type_key),
            notification=messaging.Notification(*visible) if visible else None,
        )
        messaging.send(message, app=self._app())

    def _send_raw(self, token: str, payload: dict[str, Any]) -> None:
        """The v1 request by hand, with numbers left as JSON numbers (the SDK would refuse)."""
        import requests
        from firebase_admin import messaging

        app = self._app()
        data = {("type" if key == "message_type" else key):
                value if isinstance(value, int) else encode_value(value)
                for key, value in payload.items()}
        access_token = app.credential.get_access_token().access_token
        response = requests.post(
            f"https://fcm.googleapis.com/v1/projects/{app.project_id}/messages:send",
            json={"message": {"token": token, "data": data}},
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=10,
        )
        if response.status_code == 404:
            raise messaging.UnregisteredError(response.text)
        if response.status_code >= 400:
            raise PushError(f"FCM answered {response.status_code}: {response.text[:200]}")
