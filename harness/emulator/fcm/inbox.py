"""`FcmInbox`: the harness's client for the emulator's control API (captured pushes, faults, tokens)."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from harness.emulator.fcm.models import CapturedMessage, SendAttempt

REQUEST_TIMEOUT = 10.0


class FcmInboxError(RuntimeError):
    """The control API refused a request or could not be reached; the message says which."""


class FcmInbox:
    """Read and script an FCM emulator over HTTP: `FcmInbox("http://127.0.0.1:P", "project")`, or
    `FcmInbox.of(url)` to ask the emulator which project it emulates."""

    def __init__(self, base_url: str, project_id: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.project_id = project_id
        self._project_url = f"{self.base_url}/emulator/v1/projects/{quote(project_id, safe='')}"
        self._session = requests.Session()
        self._session.trust_env = False  # the emulator is local: never go through a proxy

    @classmethod
    def of(cls, base_url: str, project_id: str | None = None) -> FcmInbox:
        """The inbox of the emulator at `base_url`, for `project_id` or the project it emulates
        (its config); FcmInboxError with one line when it does not answer."""
        if project_id is None:
            probe = cls(base_url, "")
            try:
                config = probe._call("GET", "", url=f"{probe.base_url}/emulator/v1/config")
            finally:
                probe.close()
            if not isinstance(config, dict) or not isinstance(config.get("project_id"), str):
                raise FcmInboxError(f"{base_url}/emulator/v1/config names no project_id: {str(config)[:200]}")
            project_id = config["project_id"]
        return cls(base_url, project_id)

    def messages(self, token: str | None = None, after: int | None = None) -> list[CapturedMessage]:
        """Captured pushes (delivered, not dry runs), oldest first."""
        data = self._call("GET", "/messages", params=_query(token=token, after=after))
        return [CapturedMessage.from_json(item) for item in data["messages"]]

    def wait(
        self, count: int = 1, token: str | None = None, after: int | None = None, timeout: float = 5.0
    ) -> list[CapturedMessage]:
        """Block until `count` matching pushes are captured; at `timeout`, return what there is."""
        body = {"count": count, "token": token, "after": after, "timeout": timeout}
        data = self._call("POST", "/messages:wait", json=body, timeout=timeout + REQUEST_TIMEOUT)
        return [CapturedMessage.from_json(item) for item in data["messages"]]

    def attempts(self, token: str | None = None, after: int | None = None) -> list[SendAttempt]:
        """Every send request, rejected ones and dry runs included, with status and error code."""
        data = self._call("GET", "/attempts", params=_query(token=token, after=after))
        return [SendAttempt.from_json(item) for item in data["attempts"]]

    def wait_attempts(
        self, count: int = 1, token: str | None = None, after: int | None = None, timeout: float = 5.0
    ) -> list[SendAttempt]:
        """Block until `count` matching send attempts exist (refusals and dry runs too); at `timeout`,
        return what there is. The emulator answers as soon as an attempt comes: no polling."""
        body = {"count": count, "token": token, "after": after, "timeout": timeout}
        data = self._call("POST", "/attempts:wait", json=body, timeout=timeout + REQUEST_TIMEOUT)
        return [SendAttempt.from_json(item) for item in data["attempts"]]

    def cursor(self) -> int:
        """The current sequence number: pass it as `after` to see only what comes later."""
        return int(self._call("GET", "/messages", params={"limit": "0"})["cursor"])

    def clear(self) -> None:
        self._call("DELETE", "/messages")

    def register_token(self, token: str) -> None:
        self._call("POST", "/tokens", json={"token": token, "state": "valid"})

    def revoke_token(self, token: str) -> None:
        """From now on, sends to `token` get 404 UNREGISTERED."""
        self._call("POST", "/tokens", json={"token": token, "state": "unregistered"})

    def set_token_state(self, token: str, state: str) -> None:
        """`state`: "valid", "unregistered" or "sender_id_mismatch"."""
        self._call("POST", "/tokens", json={"token": token, "state": state})

    def inject_fault(
        self,
        code: str | None,
        count: int | None = None,
        probability: float | None = None,
        latency_ms: int = 0,
        retry_after: int | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """Make matching sends fail with FcmError `code` (None: only delay them)."""
        body = {"code": code, "count": count, "probability": probability, "latency_ms": latency_ms,
                "retry_after": retry_after, "token": token}
        result: dict[str, Any] = self._call("POST", "/faults", json=body)
        return result

    def subscriptions(self) -> dict[str, list[str]]:
        """Topics per token, as subscribed through FCM's topicSubscriptions API."""
        result: dict[str, list[str]] = self._call("GET", "/subscriptions")["subscriptions"]
        return result

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def reset(self) -> None:
        self._call("POST", "", url=f"{self.base_url}/emulator/v1/reset")

    def service_account(self) -> dict[str, Any]:
        """A fresh service-account JSON issued by the emulator."""
        result: dict[str, Any] = self._call("POST", "/serviceAccounts")
        return result

    def close(self) -> None:
        self._session.close()

    def _call(self, method: str, path: str, *, url: str | None = None, timeout: float = REQUEST_TIMEOUT,
              **kwargs: Any) -> Any:
        target = url or self._project_url + path
        try:
            response = self._session.request(method, target, timeout=timeout, **kwargs)
        except requests.RequestException as exc:
            raise FcmInboxError(f"FCM emulator control API unreachable at {target}: {exc}") from exc
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text[:300]
            raise FcmInboxError(f"{method} {target} -> {response.status_code}: {message}")
        try:
            return response.json()
        except ValueError:
            raise FcmInboxError(f"{method} {target}: the answer is not JSON (is this an FCM emulator?): {response.text[:200]}") from None


def _query(**values: Any) -> dict[str, str]:
    return {key: str(value) for key, value in values.items() if value is not None}
