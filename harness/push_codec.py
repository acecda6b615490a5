"""The contract's FCM `data` encoding of a payload, and its decoding back to a payload.

Encoding (CONTRACT.md "Push (FCM) payloads"): every payload key, `message_type` renamed to `type`,
every value a string (integers in decimal, null as "null", objects and arrays as compact JSON).
Decoding turns each string back into the type the variant's schema gives that key, so that a push
is judged by the same payload schema as the WebSocket message.
"""
from __future__ import annotations

import json
import re
from typing import Any

from harness.contract import Contract, Variant, load_contract
from harness.types import JSONObject

_INTEGER = re.compile(r"-?[0-9]+")


def _renames(contract: Contract) -> dict[str, str]:
    return dict(contract.push_conventions["renamed_keys"])


def encode_push_data(payload: JSONObject, contract: Contract | None = None) -> dict[str, str]:
    """The `data` map a conforming backend sends for `payload`."""
    contract = contract or load_contract()
    renames = _renames(contract)
    null = contract.push_conventions["null_encoding"]
    data = {}
    for key, value in payload.items():
        if value is None:
            text = null
        elif isinstance(value, str):
            text = value
        elif isinstance(value, bool):
            text = json.dumps(value)
        elif isinstance(value, (int, float)):
            text = str(value)
        else:
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        data[renames.get(key, key)] = text
    return data


def variant_of_push_data(data: dict[str, Any], contract: Contract | None = None) -> Variant | None:
    contract = contract or load_contract()
    message_type_key = _renames(contract).get("message_type", "message_type")
    # A backend that (wrongly) sends `message_type` itself is still decoded, so that its other
    # keys are judged too; the reserved key is reported by the push schema.
    family = contract.family_by_message_type(str(data.get(message_type_key, data.get("message_type"))))
    if family is None:
        return None
    if family.discriminator is None:
        return family.variants[0]
    return family.variant(str(data.get(family.discriminator)))


def _decode_value(text: Any, schema: dict[str, Any], null: str) -> Any:
    if not isinstance(text, str):
        return text  # not a string at all: leave it for the push schema to report
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    if "null" in types and text == null:
        return None
    if "integer" in types and _INTEGER.fullmatch(text):
        return int(text)
    if ("object" in types or "array" in types) and text[:1] in "{[":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def decode_push_data(data: dict[str, Any], contract: Contract | None = None) -> JSONObject:
    """The payload a push carries. Keys the variant does not know stay strings.

    A value that cannot be turned into its schema type (e.g. "abc" for an id) stays a string, so
    the payload schema reports it precisely at that key.
    """
    contract = contract or load_contract()
    inverse = {wire: key for key, wire in _renames(contract).items()}
    null = contract.push_conventions["null_encoding"]
    variant = variant_of_push_data(data, contract)
    properties = contract.variant_properties(variant) if variant else {}
    payload = {}
    for wire_key, text in data.items():
        key = inverse.get(wire_key, wire_key)
        payload[key] = _decode_value(text, properties.get(key, {}), null)
    return payload


def wire_pointer(payload_pointer: str, contract: Contract | None = None) -> str:
    """Where a payload pointer (`/message_type`) sits in a push message (`/data/type`)."""
    contract = contract or load_contract()
    parts = payload_pointer.split("/")
    if len(parts) > 1:
        parts[1] = _renames(contract).get(parts[1], parts[1])
    return "/data" + "/".join(parts)
