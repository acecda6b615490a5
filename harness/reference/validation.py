"""Request input checks: JSON bodies, fields, path ids and RFC 3339 times, as 4xx errors."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request

from harness.reference.errors import invalid, not_found

MAX_ID = 2**63 - 1  # SQLite's INTEGER range; larger ids cannot exist
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")
_MISSING = object()


def path_id(request: Request, name: str, what: str) -> int:
    """An id from the path; anything that cannot be an id is a plain 404."""
    raw = request.path_params[name]
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise not_found(what)
    return int(raw)


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 date-time (aware, any offset); ValueError says what is wrong."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError("must be an RFC 3339 date-time such as 2026-11-25T14:00:00Z")
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, offset = match.group(7), match.group(8)
    if second == 60:
        raise ValueError("leap seconds are not supported")
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    stamp = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    try:
        value = datetime.fromisoformat(stamp + ("+00:00" if offset in "Zz" else offset))
        return value.replace(microsecond=micro).astimezone(timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"is not a representable date-time ({exc})") from None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Body:
    """A JSON object body; collects every field error, then `done()` raises one 422.

    Styles bend the shape: `wrapper` (Rails-style `{"friendship": {...}}`; errors are then
    reported at `friendship.friend_id`) and `string_ids` (ids may come as "42").
    """

    def __init__(self, data: dict[str, Any], allowed: tuple[str, ...], where: str = "",
                 string_ids: bool = False) -> None:
        self._data = data
        self._where = where
        self._string_ids = string_ids
        self.errors: dict[str, str] = {
            key: "unknown field" for key in data if key not in allowed}

    @classmethod
    async def read(cls, request: Request, *allowed: str, wrapper: str | None = None,
                   optional: bool = False, string_ids: bool = False) -> Body:
        """Parse the body; `optional`: an empty body (or wrapper-less `{}`) means no fields."""
        raw = await request.body()
        try:
            data = json.loads(raw) if raw.strip() else ({} if optional else None)
        except (ValueError, UnicodeDecodeError) as exc:
            raise invalid({"body": f"is not valid JSON: {exc}"}) from None
        if not isinstance(data, dict):
            raise invalid({"body": "must be a JSON object"})
        if wrapper is None:
            return cls(data, allowed, string_ids=string_ids)
        if not data and optional:
            return cls({}, allowed, f"{wrapper}.", string_ids)
        errors = {key: "unknown field" for key in data if key != wrapper}
        inner = data.get(wrapper, _MISSING)
        if inner is _MISSING:
            errors[wrapper] = f'is required (the body is {{"{wrapper}": {{...}}}})'
        elif not isinstance(inner, dict):
            errors[wrapper] = "must be a JSON object"
        if errors:
            raise invalid(errors)
        return cls(inner, allowed, f"{wrapper}.", string_ids)

    def done(self) -> None:
        if self.errors:
            raise invalid({self._where + key: text for key, text in self.errors.items()})

    def ident(self, key: str) -> int:
        """A required id (>= 1); with string ids on, a string of digits counts too."""
        value = self._data.get(key)
        if self._string_ids and isinstance(value, str):
            if not (value.isascii() and value.isdigit()):
                self.errors[key] = "must be an id: an integer or a string of digits"
                return 0
            self._data = {**self._data, key: int(value)}
        return self.integer(key, 1)

    def integer(self, key: str, minimum: int, default: Any = _MISSING) -> int:
        value = self._data.get(key, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                self.errors[key] = "is required"
            return default if default is not _MISSING else 0
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON Schema counts 3.0 as an integer; so do we
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors[key] = "must be an integer"
        elif not minimum <= value <= MAX_ID:
            self.errors[key] = f"must be between {minimum} and {MAX_ID}"
        else:
            return value
        return 0

    def optional_integer(self, key: str, minimum: int) -> int | None:
        return self.integer(key, minimum) if key in self._data else None

    def string(self, key: str, min_length: int, max_length: int) -> str:
        value = self._data.get(key, _MISSING)
        if value is _MISSING:
            self.errors[key] = "is required"
        elif not isinstance(value, str):
            self.errors[key] = "must be a string"
        elif not min_length <= len(value) <= max_length:
            self.errors[key] = f"must be {min_length} to {max_length} characters long"
        elif not _encodable(value):
            self.errors[key] = "must be valid Unicode (no lone surrogates)"
        else:
            return value
        return ""

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.string(key, 1, 64)
        if key not in self.errors and value not in choices:
            self.errors[key] = f"must be one of: {', '.join(choices)}"
        return value

    def time(self, key: str, nullable: bool) -> datetime | None:
        value = self._data.get(key, _MISSING)
        if nullable and (value is None or value is _MISSING):
            return None
        if value is _MISSING:
            self.errors[key] = "is required"
        elif not isinstance(value, str):
            self.errors[key] = "must be an RFC 3339 date-time string" + (
                " or null" if nullable else "")
        else:
            try:
                return parse_time(value)
            except ValueError as exc:
                self.errors[key] = str(exc)
        return None


def other_user(store: Any, caller_id: int, key: str, user_id: int, what: str) -> int:
    """A user id from a request body that must name someone else who exists: 422 for one's own
    id (reported at `key`), 404 naming `what` for an unknown user."""
    if user_id == caller_id:
        raise invalid({key: "must not be your own id"})
    if store.user(user_id) is None:
        raise not_found(what)
    return user_id
