"""Transcript entries as readable steps (time, who, kind, one-line summary, detail blocks).

The HTML report draws them as a per-check timeline (lanes per user, connection and device) and a
table; terminal and JUnit print them as text (`as_text`).
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import urlsplit

from harness.transcript import MARKER_PREFIX


@dataclasses.dataclass(frozen=True)
class Step:
    """One transcript entry, rendered for people. `details` are (title, value) blocks: the value
    as recorded (JSON-like); `texts()` gives them as readable text."""

    t: float
    who: str
    kind: str
    summary: str
    details: tuple[tuple[str, Any], ...]
    error: bool = False
    #: the harness's own marker traffic (chat texts starting with MARKER_PREFIX): proof of quiet
    marker: bool = False
    #: how long an HTTP exchange took
    duration_ms: float | None = None

    def texts(self) -> tuple[tuple[str, str], ...]:
        return tuple((title, pretty(value)) for title, value in self.details)


def pretty(value: Any) -> str:
    """JSON indented for reading; a string that holds JSON is parsed first."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "["):
            try:
                value = json.loads(stripped)
            except ValueError:
                return value
        else:
            return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _short_url(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _message_name(value: Any) -> str:
    """`api_friendship_status new_request` for a notification, "" for anything else."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return ""
    if not isinstance(value, dict):
        return ""
    data: dict[str, Any] = value["data"] if isinstance(value.get("data"), dict) else value
    kind = data.get("message_type") or data.get("type") or ""
    variant = data.get("status") or data.get("state") or ""
    return f"{kind} {variant}".strip() if isinstance(kind, str) and isinstance(variant, str) else ""


def _is_marker(value: Any) -> bool:
    """A payload, FCM message or request body carrying a marker text (`message` or `text`)."""
    if isinstance(value, str):
        if MARKER_PREFIX not in value:
            return False
        try:
            value = json.loads(value)
        except ValueError:
            return False
    if not isinstance(value, dict):
        return False
    for candidate in (value, value.get("message"), value.get("data")):
        if isinstance(candidate, dict):
            for key in ("message", "text"):
                text = candidate.get(key)
                if isinstance(text, str) and text.startswith(MARKER_PREFIX):
                    return True
    return False


def _http(entry: dict[str, Any]) -> tuple[str, tuple[tuple[str, Any], ...], bool]:
    target = f"{entry.get('method', '?')} {_short_url(str(entry.get('url', '')))}"
    if entry.get("error"):
        outcome = f"error: {entry['error']}"
    else:
        outcome = str(entry.get("status"))
    elapsed = entry.get("elapsed_ms")
    summary = f"{target} -> {outcome}" + (f" ({elapsed} ms)" if elapsed is not None else "")
    details = [("request", f"{entry.get('method', '?')} {entry.get('url', '')}")]
    if entry.get("request_headers"):
        details.append(("request headers", "\n".join(f"{k}: {v}" for k, v in entry["request_headers"].items())))
    if entry.get("request_body") is not None:
        details.append(("request body", entry["request_body"]))
    if entry.get("response_body") is not None:
        details.append((f"response body ({entry.get('status')})", entry["response_body"]))
    failed = bool(entry.get("error")) or not isinstance(entry.get("status"), int) or entry["status"] >= 400
    return summary, tuple(details), failed


def step(entry: dict[str, Any]) -> Step:
    """One transcript entry (Entry.to_json()) as a Step. Unknown kinds show their fields."""
    kind = str(entry.get("kind", "?"))
    who = str(entry.get("label", ""))
    t = float(entry.get("t", 0.0))
    if kind == "http":
        summary, details, error = _http(entry)
        elapsed = entry.get("elapsed_ms")
        return Step(t, who, kind, summary, details, error, marker=_is_marker(entry.get("request_body")),
                    duration_ms=float(elapsed) if isinstance(elapsed, (int, float)) else None)
    if kind == "frame":
        arrow = "received" if entry.get("direction") == "in" else "sent"
        name = _message_name(entry.get("text"))
        framing = f" [{entry['framing']}]" if entry.get("framing") else ""
        summary = f"{arrow} {name or 'frame'}{framing}"
        return Step(t, who, kind, summary, (("frame", entry.get("text", "")),), marker=_is_marker(entry.get("text")))
    if kind == "push":
        token = str(entry.get("token", ""))
        name = _message_name(entry.get("message"))
        status = entry.get("http_status")
        summary = f"push {name or 'message'} to device {token}" + (f" (HTTP {status})" if status is not None else "")
        error = isinstance(status, int) and status >= 400
        return Step(t, who, kind, summary, (("FCM message", entry.get("message")),), error, marker=_is_marker(entry.get("message")))
    if kind == "note":
        if "text" in entry:
            return Step(t, who, kind, str(entry["text"]), ())
        # A listener's own note (connect, closed, probe): its event and URL, the rest as details.
        rest = {k: v for k, v in entry.items() if k not in ("t", "kind", "label", "event", "url") and v not in (None, {}, [])}
        summary = " ".join(str(entry[k]) for k in ("event", "url") if entry.get(k)) or "note"
        return Step(t, who, kind, summary, (("details", rest),) if rest else ())
    rest = {k: v for k, v in entry.items() if k not in ("t", "kind", "label")}
    return Step(t, who, kind, kind, (("entry", rest),))


def as_text(transcript: tuple[dict[str, Any], ...] | list[dict[str, Any]], *, details: bool = True) -> str:
    """The transcript as plain text lines (JUnit system-out, terminal)."""
    lines = []
    for s in (step(e) for e in transcript):
        lines.append(f"+{s.t:8.3f}s  {s.who:<14} {s.kind:<5} {s.summary}")
        if details:
            for title, text in s.texts():
                lines.append(f"    {title}:")
                lines.extend(f"      {line}" for line in text.splitlines() or [""])
    return "\n".join(lines)
