"""The last line of defence against leaked credentials: `scrub` masks them in any JSON-like value.

Transcripts are redacted when recorded (harness/transcript.py), by the secrets the harness knows.
This net works without that knowledge, by shape: whatever a recorder forgot, no report writer
can write an Authorization value, a `token=` query parameter, a PEM private key, a
`private_key`/`access_token`-like field or a Google-style access token. Device tokens (the
`"token"` key of an FCM message) and ids are evidence and stay.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any

from harness.report.model import CheckResult, Report, RunInfo

REDACTED = "***"

#: Keys whose value is a credential wherever they appear (compared lowercased). A bare `token`
#: is not here: in an FCM message it is the device token, which the report must show.
_SECRET_KEYS = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token", "x-access-token",
    "private_key", "access_token", "refresh_token", "id_token", "client_secret", "password", "assertion",
})

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?-----END \1PRIVATE KEY-----", re.S)
#: A PEM whose end was cut off (a truncated body): mask from BEGIN to the end of the base64 run.
_PEM_OPEN = re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----(?!\*\*\*)(?:[A-Za-z0-9+/=\s]|\\n|\\r)*")
#: Header names whose value is a credential, in text: `Authorization: ...` in a curl line or a log
#: (up to a single quote or the end of the line), and `"Authorization": "..."` in JSON text.
_HEADER_NAMES = r"(?:proxy-)?authorization|set-cookie|cookie|x-api-key|x-auth-token|x-access-token"
_HEADER_TEXT = re.compile(rf"(?i)\b({_HEADER_NAMES})(\s*:\s*)(?!\s*\*\*\*)([^\r\n']+)")
_SECRET_FIELD_TEXT = re.compile(
    rf"(?i)(\"(?:{_HEADER_NAMES}|private_key|access_token|refresh_token|id_token|client_secret|password|assertion)\"\s*:\s*\")"
    r"(?!\*\*\*\")((?:[^\"\\]|\\.)*)"
)
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic)(\s+)(?!\*\*\*)[A-Za-z0-9\-._~+/]+=*")
#: `token=`, `access_token=`, `api_key=`, `secret=`... as a query or form parameter, or the
#: Rails-style `Token token="..."`. Preceded by a separator so `my_tokens=` in prose is left.
_PARAM = re.compile(
    r"(?i)((?:^|[?&;,\s])[a-z_-]*(?:token|secret|password|api_key|apikey|key|signature|assertion|auth|authorization)=\"?)"
    r"(?!\*\*\*)([^&\s'\"#,]+)"
)
#: Google OAuth access tokens, the FCM emulator's tokens, and JWTs (service-account assertions, id tokens).
_ACCESS_TOKEN = re.compile(r"\b(ya29\.|emu-token-)(?!\*\*\*)[A-Za-z0-9\-._~+/]+=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")


_HEADER_WORDS = ("authorization", "cookie", "x-api-key", "x-auth-token", "x-access-token")
_FIELD_WORDS = (*_HEADER_WORDS, "private_key", "access_token", "refresh_token", "id_token", "client_secret", "password",
                "assertion")


def scrub_text(text: str) -> str:
    """The text with every credential-shaped substring masked.

    Each pattern runs only when the text holds what it needs (most strings are labels, ids and
    notification frames: they skip all or most of the substitutions).
    """
    lower = text.lower()
    if "private key" in lower:
        text = _PEM_BLOCK.sub(r"-----BEGIN \1PRIVATE KEY-----***-----END \1PRIVATE KEY-----", text)
        text = _PEM_OPEN.sub(r"-----BEGIN \1PRIVATE KEY-----***", text)
    if ":" in text and any(word in lower for word in _HEADER_WORDS):
        text = _HEADER_TEXT.sub(lambda m: f"{m[1]}{m[2]}{REDACTED}", text)
    if '"' in text and any(word in lower for word in _FIELD_WORDS):
        text = _SECRET_FIELD_TEXT.sub(lambda m: f"{m[1]}{REDACTED}", text)
    if "bearer" in lower or "basic" in lower:
        text = _AUTH_SCHEME.sub(lambda m: f"{m[1]}{m[2]}{REDACTED}", text)
    if "=" in text:
        text = _PARAM.sub(lambda m: f"{m[1]}{REDACTED}", text)
    if "ya29." in text or "emu-token-" in text:
        text = _ACCESS_TOKEN.sub(lambda m: f"{m[1]}{REDACTED}", text)
    if "eyJ" in text:
        text = _JWT.sub(REDACTED, text)
    return text


def scrub(obj: Any) -> Any:
    """A copy of a JSON-like value (dicts, lists, tuples, strings) with credentials masked.

    Values under a secret key are replaced whole; every other string is scrubbed by shape.
    """
    if isinstance(obj, str):
        return scrub_text(obj)
    if isinstance(obj, dict):
        return {
            key: (REDACTED if _is_secret_key(key) and _is_scalar(value) else scrub(value))
            for key, value in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        return type(obj)(scrub(item) for item in obj)
    return obj


def _is_secret_key(key: Any) -> bool:
    return isinstance(key, str) and key.lower() in _SECRET_KEYS


def _is_scalar(value: Any) -> bool:
    # None stays None: "no Authorization header" is evidence, not a secret.
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def scrub_report(report: Report) -> Report:
    """The report with `scrub` applied to every check (through its JSON form) and the run info.

    Every writer starts from this, so none can print what a recorder forgot to redact. A report
    this returned is marked scrubbed, so the next writer does not walk it again.
    """
    if report.scrubbed:
        return report
    run = RunInfo(**scrub(dataclasses.asdict(report.run)))
    checks = tuple(CheckResult.from_json(scrub(check.to_json())) for check in report.checks)
    return dataclasses.replace(report, run=run, checks=checks, scrubbed=True)
