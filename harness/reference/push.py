"""FCM pushes: data encoded per the contract, sent from worker threads.

Two ways out, chosen by the `FcmRoute` (fcm_setup.py):
- proxy mode: firebase-admin, unmodified, to fcm.googleapis.com (the env routes it through the
  emulator's CONNECT proxy); a raw v1 request only for faults the SDK would refuse to express;
- base-URL mode: every push a raw HTTP v1 request to `{base_url}/v1/projects/{p}/messages:send`,
  authorised by an OAuth token from the service account's own token_uri.
Faults that bend a push (its data, validate_only, project, bearer) are decided here, once, so
they act the same in both modes.
"""
from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable, Set
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from harness.reference import fcm_setup
from harness.reference.store import Store

if TYPE_CHECKING:
    import firebase_admin
    import requests
    from google.oauth2 import service_account

log = logging.getLogger("b4a.reference.push")

GOOGLE_FCM_ROOT = "https://fcm.googleapis.com"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
#: the push-wrong-project fault sends here: a project no emulator (or FCM account of ours) serves
WRONG_PROJECT_ID = "b4a-not-the-emulated-project"
SEND_TIMEOUT = 10.0


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


class TokenUnregistered(PushError):
    """FCM answered 404 UNREGISTERED: the device token is dead and should be forgotten."""


@dataclass(frozen=True)
class Push:
    """One FCM v1 send as the backend means it, before a sender puts it on the wire."""

    token: str
    data: dict[str, Any]  # strings, except under the push-data-not-strings fault
    notification: tuple[str, str] | None
    validate_only: bool = False
    project_id: str | None = None  # None: the service account's project
    bearer: str | None = None  # None: an access token granted to the service account

    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = {"token": self.token, "data": self.data}
        if self.notification:
            message["notification"] = {"title": self.notification[0], "body": self.notification[1]}
        return message

    @property
    def needs_raw_request(self) -> bool:
        """firebase-admin cannot send this (non-string data, another project, a forged bearer)."""
        return (self.project_id is not None or self.bearer is not None
                or any(not isinstance(value, str) for value in self.data.values()))


class Sender(Protocol):
    def send(self, push: Push) -> None:
        """Deliver to FCM; raise TokenUnregistered or PushError when refused."""


class HttpV1Sender:
    """Raw FCM HTTP v1 requests, as a backend without firebase-admin sends them."""

    def __init__(self, root: str, project_id: str, access_token: Callable[[], str]) -> None:
        import requests

        self._root = root.rstrip("/")
        self._project_id = project_id
        self._access_token = access_token
        self._session: requests.Session = requests.Session()

    def send(self, push: Push) -> None:
        import requests

        project = push.project_id or self._project_id
        body: dict[str, Any] = {"message": push.message()}
        if push.validate_only:
            body["validate_only"] = True
        try:
            response = self._session.post(
                f"{self._root}/v1/projects/{project}/messages:send", json=body, timeout=SEND_TIMEOUT,
                headers={"Authorization": f"Bearer {push.bearer or self._access_token()}"})
        except requests.RequestException as exc:
            raise PushError(f"FCM unreachable at {self._root}: {exc}") from None
        if response.status_code < 400:
            return
        status, code = _error_status(response)
        if response.status_code == 404 and code == "UNREGISTERED":
            raise TokenUnregistered(f"FCM answered 404 UNREGISTERED for token {push.token[:12]}...")
        raise PushError(f"FCM answered {response.status_code} {code or status}: {response.text[:200]}")


def _error_status(response: requests.Response) -> tuple[str | None, str | None]:
    """(canonical status, FcmError code) of an error answer, as firebase-admin reads them."""
    try:
        error = response.json()["error"]
        status = error.get("status")
        codes = [d.get("errorCode") for d in error.get("details", [])
                 if str(d.get("@type", "")).endswith("google.firebase.fcm.v1.FcmError")]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, None
    return status, (codes[0] if codes else None)


class ServiceAccountTokens:
    """OAuth access tokens for a service account, granted by its token_uri and cached until near
    expiry (google-auth's `valid`), one refresh at a time."""

    def __init__(self, credentials_path: str) -> None:
        import requests
        from google.oauth2 import service_account

        self._credentials: service_account.Credentials = \
            service_account.Credentials.from_service_account_file(credentials_path, scopes=[FCM_SCOPE])
        self._session = requests.Session()
        self._lock = threading.Lock()

    @property
    def project_id(self) -> str:
        return str(self._credentials.project_id)

    def __call__(self) -> str:
        from google.auth.transport.requests import Request

        with self._lock:
            if not self._credentials.valid:
                self._credentials.refresh(Request(self._session))
            return str(self._credentials.token)


class FirebaseAdminSender:
    """firebase-admin's `messaging.send` (proxy mode); a raw request only when it cannot."""

    def __init__(self, credentials_path: str) -> None:
        self._app: firebase_admin.App = fcm_setup.initialise(credentials_path)
        app = self._app
        self._raw = HttpV1Sender(GOOGLE_FCM_ROOT, str(app.project_id),
                                 lambda: str(app.credential.get_access_token().access_token))

    def send(self, push: Push) -> None:
        from firebase_admin import messaging

        if push.needs_raw_request:
            self._raw.send(push)
            return
        message = messaging.Message(
            token=push.token, data=push.data,
            notification=messaging.Notification(*push.notification) if push.notification else None,
        )
        try:
            messaging.send(message, dry_run=push.validate_only, app=self._app)
        except messaging.UnregisteredError as exc:
            raise TokenUnregistered(str(exc)) from None


class Pusher:
    """Sends one push per device token of the recipient; never raises into the caller."""

    def __init__(self, route: fcm_setup.FcmRoute | None, store: Store, faults: Set[str]) -> None:
        self._route = route
        self._sender: Sender | None = None
        self._sender_lock = threading.Lock()
        self._store = store
        self._faults = faults
        # a few workers: a slow or retried push (FCM 503 backoff) must not hold up the rest
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="b4a-push")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def submit(self, user_id: int, payload: dict[str, Any]) -> None:
        """Queue the pushes to every device of the user, in the background."""
        if self._route is None:
            return
        for token in self._store.device_tokens(user_id):
            self._pool.submit(self._send_logged, user_id, token, payload)

    def send_now(self, user_id: int, payload: dict[str, Any]) -> list[str]:
        """Send synchronously (only the push-failure-fails-action fault does); the errors."""
        if self._route is None:
            return []
        errors = (self._send_logged(user_id, token, payload)
                  for token in self._store.device_tokens(user_id))
        return [error for error in errors if error is not None]

    def _get_sender(self) -> Sender:
        """Built on first use: firebase-admin's import alone takes ~0.5 s."""
        with self._sender_lock:
            if self._sender is None:
                route = self._route
                assert route is not None
                if route.base_url is None:
                    self._sender = FirebaseAdminSender(route.credentials_path)
                else:
                    tokens = ServiceAccountTokens(route.credentials_path)
                    self._sender = HttpV1Sender(route.base_url, tokens.project_id, tokens)
            return self._sender

    def _send_logged(self, user_id: int, token: str, payload: dict[str, Any]) -> str | None:
        try:
            self._get_sender().send(self.push_for(token, payload))
        except TokenUnregistered:
            log.warning("push to user %s: token %.12s... is unregistered", user_id, token)
            if "push-to-unregistered" not in self._faults:
                self._store.remove_device(user_id, token)
            return "unregistered"
        except Exception as exc:  # any push failure is logged, never raised to the action
            log.warning("push to user %s failed: %s", user_id, exc)
            return str(exc) or type(exc).__name__
        return None

    def push_for(self, token: str, payload: dict[str, Any]) -> Push:
        """The push for one device, bent by the active push faults."""
        faults = self._faults
        if "push-data-not-strings" in faults:  # numbers stay JSON numbers (the SDK would refuse)
            data: dict[str, Any] = {("type" if key == "message_type" else key):
                                    value if isinstance(value, int) else encode_value(value)
                                    for key, value in payload.items()}
        else:
            type_key = "message_type" if "push-message-type-key" in faults else "type"
            data = encode_data(payload, type_key)
        if ("push-data-differs" in faults and payload.get("status") == "new_request"
                and isinstance(payload.get("open_requests"), int)):
            data["open_requests"] = encode_value(payload["open_requests"] - 1)  # a stale count
        return Push(
            token=token, data=data,
            notification=_notification(payload) if "push-data-not-strings" not in faults else None,
            validate_only="validate-only-push" in faults,
            project_id=WRONG_PROJECT_ID if "push-wrong-project" in faults else None,
            # a token of the right shape that no authority ever granted
            bearer=f"ya29.b4a-never-issued-{secrets.token_urlsafe(16)}" if "push-bad-bearer" in faults else None,
        )
