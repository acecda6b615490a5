"""The one JSON Schema document both type generators read: every variant's payload (self-contained,
each `$ref` inlined), its FCM data form, and the unions a consumer dispatches on.

Names are the variant's key in PascalCase (`friendship/new_request` -> `FriendshipNewRequest`), its
push form with `Push` after it; unions per family (`FriendshipNotification`, `FriendshipPush`) and
over everything (`Notification`, `PushData`). The variant's human title becomes its description,
since both generators name a type after `title`.
"""
from __future__ import annotations

import json
from typing import Any

from harness.contract import Contract, Family, Variant

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ROOT = "AppMessage"
NOTIFICATIONS = "Notification"
PUSH_ROOT = "PushData"


def pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.replace("-", "_").split("_") if part)


def payload_name(variant: Variant) -> str:
    return pascal(variant.family) + pascal(variant.name)


def push_name(variant: Variant) -> str:
    return payload_name(variant) + "Push"


def family_union(family: Family) -> str:
    return pascal(family.name) + "Notification"


def family_push_union(family: Family) -> str:
    return pascal(family.name) + "Push"


def _payload(contract: Contract, variant: Variant) -> dict[str, Any]:
    schema = contract.inlined(variant.schema_uri)
    human = schema.pop("title", None)
    return {"title": payload_name(variant), "description": f"{variant.key}: {human}", **schema}


def _push_value(key: str, schema: dict[str, Any], null: str) -> dict[str, Any]:
    """The string a payload value travels as in FCM `data` (CONTRACT.md "Push (FCM) payloads")."""
    if "const" in schema:
        value = schema["const"]
        return {"const": value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))}
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    how = {"integer": "an integer in decimal", "number": "a number", "object": "compact JSON",
           "array": "compact JSON", "boolean": "true or false", "string": "as it is", "null": f'"{null}" for null'}
    spelled = ", ".join(how[t] for t in types if t in how) or "a string"
    return {"type": "string", "description": f"{key} as a string: {spelled}"}


def _push(contract: Contract, variant: Variant) -> dict[str, Any]:
    renames: dict[str, str] = contract.push_conventions["renamed_keys"]
    null = contract.push_conventions["null_encoding"]
    schema = contract.inlined(variant.schema_uri)
    properties = {renames.get(key, key): _push_value(key, sub, null) for key, sub in schema.get("properties", {}).items()}
    return {
        "title": push_name(variant),
        "description": f"{variant.key} as FCM message.data: every value a string, message_type sent as type",
        "type": "object",
        "required": [renames.get(key, key) for key in schema.get("required", [])],
        "properties": properties,
        "additionalProperties": {"type": "string"},
    }


def generator_schema(contract: Contract) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    for family in contract.families:
        for variant in family.variants:
            defs[payload_name(variant)] = _payload(contract, variant)
        for variant in family.variants:
            if variant.pushed:
                defs[push_name(variant)] = _push(contract, variant)
    for family in contract.families:
        defs[family_union(family)] = {
            "title": family_union(family),
            "description": f"Any {family.message_type} notification; {family.discriminator or 'its one variant'} tells which.",
            "oneOf": [{"$ref": f"#/$defs/{payload_name(v)}"} for v in family.variants],
        }
    pushed = [(family, [v for v in family.variants if v.pushed]) for family in contract.families]
    for family, variants in pushed:
        if variants:
            defs[family_push_union(family)] = {
                "title": family_push_union(family),
                "description": f"The FCM data of any pushed {family.message_type} notification.",
                "oneOf": [{"$ref": f"#/$defs/{push_name(v)}"} for v in variants],
            }
    defs[PUSH_ROOT] = {
        "title": PUSH_ROOT,
        "description": "The FCM message.data of any pushed notification (type tells the family).",
        "oneOf": [{"$ref": f"#/$defs/{family_push_union(f)}"} for f, variants in pushed if variants],
    }
    defs[NOTIFICATIONS] = {
        "title": NOTIFICATIONS,
        "description": "Any Buddy4all notification, as a WebSocket frame carries it; message_type tells the family.",
        "oneOf": [{"$ref": f"#/$defs/{family_union(f)}"} for f in contract.families],
    }
    # The root names both forms: a generator declares what the root reaches (json-schema-to-typescript
    # declares unreachable $defs only under an object root).
    return {
        "$schema": SCHEMA_DIALECT,
        "title": ROOT,
        "description": f"What a Buddy4all app receives (contract {contract.version}): a notification, or a push's FCM data.",
        "oneOf": [{"$ref": f"#/$defs/{NOTIFICATIONS}"}, {"$ref": f"#/$defs/{PUSH_ROOT}"}],
        "$defs": defs,
    }
