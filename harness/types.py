"""Shared type aliases: the vocabulary the modules of the harness speak."""
from __future__ import annotations

from typing import Any, NewType

#: A decoded JSON value. `Any` only at the JSON boundary.
JSON = Any
#: A JSON object as decoded from the wire.
JSONObject = dict[str, Any]
#: An RFC 6901 JSON pointer, "" for the whole document.
Pointer = NewType("Pointer", str)
#: A stable rule id from schemas/rules.json, e.g. "FRND-001".
RuleId = NewType("RuleId", str)
