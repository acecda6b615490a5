"""The field table of a variant: each key's type, constraints, meaning and fixed value, from its schema."""
from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # referencing exports no name for it; a Registry's resolver() returns one
    from referencing._core import Resolver

from harness.contract import Contract, Variant

_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}


@dataclasses.dataclass(frozen=True)
class Field:
    """One row of a field table. `key` is dotted for nested objects (`thread.id`)."""

    key: str
    type: str
    required: bool
    description: str
    fixed: str


def _resolved(schema: dict[str, Any], resolver: Resolver[Any]) -> tuple[dict[str, Any], Resolver[Any]]:
    """`schema` with its `$ref` chain merged in; the property's own keywords win (its description)."""
    merged = dict(schema)
    while "$ref" in merged:
        ref = merged.pop("$ref")
        target = resolver.lookup(ref)
        resolver = target.resolver
        merged = {**target.contents, **merged}
    return merged, resolver


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return _JSON_TYPES.get(type(value), "value")


def describe_type(schema: dict[str, Any]) -> str:
    """`integer ≥ 1`, `string (date-time, RFC 3339) or null`, `string, non-empty`: the type and its constraints."""
    if "const" in schema:
        base = _json_type(schema["const"])
    elif "enum" in schema:
        base = " or ".join(sorted({_json_type(v) for v in schema["enum"]}))
    else:
        types = schema.get("type", "any")
        types = [types] if isinstance(types, str) else list(types)
        # The format qualifies the string, not the null of a nullable string.
        base = " or ".join(
            f"{t} ({schema['format']}{', RFC 3339' if schema['format'] == 'date-time' else ''})"
            if t == "string" and "format" in schema
            else t
            for t in types
        )
    bounds = [f"{sign} {schema[key]}" for key, sign in (("minimum", "≥"), ("maximum", "≤")) if key in schema]
    extras = []
    if schema.get("minLength") == 1:
        extras.append("non-empty")
    elif "minLength" in schema:
        extras.append(f"at least {schema['minLength']} characters")
    if "pattern" in schema:
        extras.append(f"matching `{schema['pattern']}`")
    text = " ".join([base, *bounds])
    return ", ".join([text, *extras])


def _fixed(schema: dict[str, Any]) -> str:
    if "const" in schema:
        return json.dumps(schema["const"], ensure_ascii=False)
    if "enum" in schema:
        return " or ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
    return ""


def _rows(schema: dict[str, Any], resolver: Resolver[Any], prefix: str) -> list[Field]:
    required = set(schema.get("required", ()))
    rows = []
    for key, sub in schema.get("properties", {}).items():
        sub, sub_resolver = _resolved(sub, resolver)
        name = f"{prefix}{key}"
        rows.append(Field(name, describe_type(sub), key in required, sub.get("description", ""), _fixed(sub)))
        if "properties" in sub:
            rows.extend(_rows(sub, sub_resolver, f"{name}."))
    return rows


def variant_fields(contract: Contract, variant: Variant) -> tuple[Field, ...]:
    """Every key of the variant's payload in schema order, nested object keys after their parent."""
    resolver = contract.registry.resolver(base_uri=variant.schema_uri.split("#")[0])
    schema, resolver = _resolved({"$ref": variant.schema_uri}, resolver)
    return tuple(_rows(schema, resolver, ""))
