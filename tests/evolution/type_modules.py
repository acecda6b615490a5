"""Generated check modules for the consumer types: every valid fixture assigned to the union type
(one per line, so a diagnostic's line names its fixture), and a selection of invalid fixtures, each
beside a control line that repairs only the offending key (so the error is for that key alone)."""
from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

from harness.contract import Contract, load_contract
from harness.fixtures import FixtureTest, iter_fixture_tests
from harness.push_codec import encode_push_data
from harness.types_gen.schema import NOTIFICATIONS, PUSH_ROOT, family_union, payload_name

_JSON_TYPE = {str: "string", bool: "boolean", int: "integer", float: "number", dict: "object", list: "array", type(None): "null"}


@dataclasses.dataclass(frozen=True)
class Line:
    name: str        # the constant assigned on this line
    fixture: str     # the fixture test id (or id + "/push" for its FCM data form)
    data: Any
    target: str      # the type it is assigned to, per language: ("Notification", "FriendshipNewRequest")
    reason: str      # "valid", "repaired", or the invalid kind: "missing", "wrong-type", "unknown-status"
    key: str = ""    # the offending key's path ("open_requests", "thread/id")
    value: Any = None
    variant: str | None = None  # the variant a payload entry is judged as (for dropping extra keys in Python)


def _at(data: Any, pointer: str) -> tuple[bool, Any]:
    node = data
    for part in pointer.strip("/").split("/"):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _set(data: Any, pointer: str, value: Any) -> Any:
    data = copy.deepcopy(data)
    *parents, last = pointer.strip("/").split("/")
    node = data
    for part in parents:
        node = node[part]
    node[last] = value
    return data


def _schema_at(schema: dict[str, Any], pointer: str) -> dict[str, Any]:
    for part in pointer.strip("/").split("/"):
        schema = schema.get("properties", {}).get(part, {})
    return schema


def _type_mismatch(schema: dict[str, Any], value: Any) -> bool:
    """A value of a JSON type the schema excludes, as a type checker sees it (an integer is a number;
    ranges and formats are not types)."""
    types = schema.get("type")
    if types is None:
        return False
    types = {types} if isinstance(types, str) else set(types)
    actual = _JSON_TYPE.get(type(value), "object")
    if actual == "integer" and "number" in types:
        return False
    return actual not in types and not (actual == "number" and "integer" in types and float(value).is_integer())


def invalid_kind(test: FixtureTest, contract: Contract) -> tuple[str, str] | None:
    """(kind, offending pointer) for an invalid fixture a type checker can reject for one reason, else None."""
    if test.valid or test.strict or test.kind != "payload" or test.variant is None or len(test.violations) != 1:
        return None
    rule, pointer = test.violations[0]
    variant = contract.variant(test.variant)
    present, value = _at(test.data, pointer)
    if rule == "PAY-003" and not present:
        return "missing", pointer
    if rule == "PAY-002" and pointer == f"/{variant.discriminator}" and isinstance(value, str):
        return "unknown-status", pointer
    if rule == "PAY-004" and present and not isinstance(value, float):
        if _type_mismatch(_schema_at(contract.inlined(variant.schema_uri), pointer), value):
            return "wrong-type", pointer
    return None


def _without_extra_keys(data: Any, schema: dict[str, Any]) -> Any:
    """The keys the schema lists (recursively): a Python TypedDict literal cannot carry others."""
    if not isinstance(data, dict) or "properties" not in schema:
        return data
    return {k: _without_extra_keys(v, schema["properties"][k]) for k, v in data.items() if k in schema["properties"]}


def lines(contract: Contract | None = None) -> list[Line]:
    contract = contract or load_contract()
    out: list[Line] = []
    for test in iter_fixture_tests():
        if test.kind == "push":
            if test.valid:
                message = test.data.get("message", test.data)  # a send body wraps the message
                out.append(Line(f"c{len(out)}", test.id, message["data"], PUSH_ROOT, "valid"))
            continue
        if test.valid:
            out.append(Line(f"c{len(out)}", test.id, test.data, NOTIFICATIONS, "valid", variant=test.variant))
            variant = contract.variant(test.variant) if test.variant else None
            if variant is not None and variant.pushed:
                out.append(Line(f"c{len(out)}", test.id + "/push", encode_push_data(test.data, contract), PUSH_ROOT, "valid",
                                variant=test.variant))
            continue
        found = invalid_kind(test, contract)
        if found is None:
            continue
        kind, pointer = found
        variant = contract.variant(test.variant or "")
        example = contract.resolve(variant.schema_uri)["examples"][0]
        target = family_union(contract.family(variant.family)) if kind == "unknown-status" else payload_name(variant)
        _, value = _at(test.data, pointer)
        out.append(Line(f"c{len(out)}", test.id, test.data, target, kind, pointer.strip("/"), value, variant.key))
        repaired = _set(test.data, pointer, _at(example, pointer)[1])
        out.append(Line(f"c{len(out)}", test.id, repaired, target, "repaired", pointer.strip("/"), variant=variant.key))
    return out


def typescript_module(entries: list[Line], types_module: str) -> str:
    """One line per entry; every entry is assigned to a union (TypeScript narrows on the discriminator)."""
    names = sorted({NOTIFICATIONS, PUSH_ROOT})
    text = [f'import type {{ {", ".join(names)} }} from "./{types_module}";']
    for entry in entries:
        target = entry.target if entry.target == PUSH_ROOT else NOTIFICATIONS
        text.append(f"export const {entry.name}: {target} = {json.dumps(entry.data)};")
    return "\n".join(text) + "\n"


def python_module(entries: list[Line], types_module: str, contract: Contract | None = None) -> str:
    """Valid entries go to the unions; an invalid one to its variant's type (mypy names the key), or
    its family's union for an unknown status. Keys beyond the contract are dropped (see the types page)."""
    contract = contract or load_contract()
    targets = sorted({e.target if e.reason != "valid" else (PUSH_ROOT if e.target == PUSH_ROOT else NOTIFICATIONS)
                      for e in entries})
    text = [f"from {types_module} import {', '.join(targets)}", ""]
    for entry in entries:
        data = entry.data
        if entry.variant is not None:
            schema = contract.inlined(contract.variant(entry.variant).schema_uri)
            if entry.target == PUSH_ROOT:  # the FCM data form: the payload's keys, message_type sent as type
                renames = contract.push_conventions["renamed_keys"]
                schema = {"properties": {renames.get(k, k): {} for k in schema["properties"]}}
            data = _without_extra_keys(data, schema)
        target = entry.target if entry.reason != "valid" else (PUSH_ROOT if entry.target == PUSH_ROOT else NOTIFICATIONS)
        text.append(f"{entry.name}: {target} = {data!r}")
    return "\n".join(text) + "\n"
