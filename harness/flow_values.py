"""Values a flow compares: what the harness sent or the target returned, against what arrived.

A target's REST API may give ids as strings ("42") while its notifications carry integers (the
contract: PAY-004, judged by the schemas); a date-time may come back as `...:26.000Z` or
`...:26+00:00` for the `...:26Z` that was sent. The flow's expectation is about the value, so
comparisons here are numeric for ids and by instant for date-times; the format and type of what
arrived are the schemas' business, not this module's.
"""
from __future__ import annotations

import datetime
import re
from typing import Any

_INTEGER = re.compile(r"-?[0-9]+")
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})")


def future_instant(days: int = 7, *, now: datetime.datetime | None = None) -> str:
    """An RFC 3339 UTC date-time `days` from now, in whole seconds: a schedule that never expires."""
    moment = (now or datetime.datetime.now(datetime.timezone.utc)) + datetime.timedelta(days=days)
    return moment.astimezone(datetime.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def instant(text: str) -> tuple[datetime.datetime, int] | None:
    """The instant an RFC 3339 date-time names (as UTC, and the nanoseconds beyond microseconds),
    or None when `text` is not one. Leap seconds compare as the last second of the minute."""
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    digits = (match.group(7) or "").ljust(9, "0")
    offset = match.group(8)
    try:
        value = datetime.datetime(year, month, day, hour, minute, min(second, 59), int(digits[:6]),
                                  tzinfo=datetime.timezone.utc)
        if offset not in ("Z", "z"):
            sign = 1 if offset[0] == "+" else -1
            value -= sign * datetime.timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
    except (ValueError, OverflowError):
        return None
    return value, int(digits[6:])


def canonical(value: Any) -> Any:
    """The value as a flow compares it: ids as numbers, date-times as instants, the rest as is."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if _INTEGER.fullmatch(value):
            return int(value)
        moment = instant(value)
        if moment is not None:
            return moment
    return value


def same(got: Any, expected: Any) -> bool:
    """Whether what arrived is the value the flow expects (see the module docstring)."""
    if isinstance(got, bool) or isinstance(expected, bool):
        return got is expected  # JSON true is not the id 1
    return got == expected or canonical(got) == canonical(expected)
