"""The evidence of one check: HTTP exchanges, WebSocket frames and pushes, with timestamps.

Credentials are redacted when an entry is recorded, so they never reach a report: every user
token, access token or key the harness learns is registered with `add_secret`, and
Authorization/Cookie headers and `token`-like query parameters are masked.
"""
from __future__ import annotations

import dataclasses
import re
import threading
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "***"
#: The start of the chat texts a check sends to prove quiet (harness.check's markers); the
#: transcripts record them like any chat, and the report's timelines pick them out by it.
MARKER_PREFIX = "b4a-marker "
_SECRET_HEADERS = {"authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key"}
_SECRET_PARAMS = re.compile(r"(token|key|secret|password|auth|signature|assertion)", re.I)


@dataclasses.dataclass(frozen=True)
class Entry:
    """One recorded event. `t` is seconds since the transcript started (monotonic clock)."""

    t: float
    kind: str  # "http" | "frame" | "push" | "note"
    label: str  # who/where: "A", "B#2 (ws)", "B device 1"
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"t": round(self.t, 4), "kind": self.kind, "label": self.label, **self.data}


def _is_secret_key(key: str) -> bool:
    """`access_token`, `private_key`... are secrets; a bare `token` is a device token: evidence."""
    return key != "token" and bool(_SECRET_PARAMS.search(key))


class Transcript:
    """Thread-safe, append-only record of one check. Listeners record from their own threads."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self.started = clock()
        self._entries: list[Entry] = []
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._clock() - self.started

    def add_secret(self, secret: str | None) -> None:
        if secret and len(secret) >= 4:
            with self._lock:
                self._secrets.add(secret)

    def redact(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def redact_url(self, url: str) -> str:
        parts = urlsplit(url)
        if not parts.query:
            return self.redact(url)
        query = [(k, REDACTED if _SECRET_PARAMS.search(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        return self.redact(urlunsplit(parts._replace(query=urlencode(query, safe="*"))))

    def redact_headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        return {k: (REDACTED if k.lower() in _SECRET_HEADERS else self.redact(str(v))) for k, v in (headers or {}).items()}

    def _redact_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: (REDACTED if _is_secret_key(str(k)) and isinstance(v, str) else self._redact_value(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [self._redact_value(v) for v in value]
        return value

    def record(self, kind: str, label: str, t: float | None = None, **data: Any) -> Entry:
        entry = Entry(self.now() if t is None else t, kind, label, self._redact_value(data))
        with self._lock:
            self._entries.append(entry)
        return entry

    def http(self, label: str, *, method: str, url: str, request_headers: dict[str, str] | None, request_body: Any,
             status: int | None, response_body: Any, t_start: float, t_end: float, error: str | None = None) -> Entry:
        return self.record(
            "http", label, t=t_start, method=method, url=self.redact_url(url),
            request_headers=self.redact_headers(request_headers), request_body=request_body,
            status=status, response_body=response_body, elapsed_ms=round((t_end - t_start) * 1000, 1), error=error,
        )

    def entries(self) -> list[Entry]:
        with self._lock:
            return sorted(self._entries, key=lambda e: e.t)

    def to_json(self) -> list[dict[str, Any]]:
        return [e.to_json() for e in self.entries()]
