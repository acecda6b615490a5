"""The contract's variant schemas compiled to msgspec types: one C call parses a JSON line and checks it.

`compile_decoder(contract, strict)` turns every family into one msgspec Struct (tagged by its
`message_type` const; the discriminator, `status` or `state`, a Literal of the variant names),
so that `decode(line)` parses, dispatches and judges a line without building a dict. It is a yes/no
engine, like jsonschema-rs in harness.fastpath: it may refuse a payload the schema accepts (an
integer written 1.0, a leap day, a date-time with a leap second, JSON that `json.loads` reads
and msgspec does not, such as NaN or a lone surrogate), but it never accepts one the schema
refuses. A refused line is no verdict: the caller asks harness.validation, which decides.

Only what can be expressed exactly is compiled, each keyword to a constraint that accepts no
more than the schema:

    type object + properties + required  -> Struct (unknown keys ignored; strict: refused at the top)
    type integer + minimum               -> int with Meta(ge=...)   (a float such as 1.0 is refused)
    type string + minLength              -> str with Meta(min_length=...) (code points, as JSON Schema)
    format date-time                     -> str with Meta(pattern=DATE_TIME): a strict subset of RFC 3339
    type [T, "null"]                     -> T | None
    const (a string)                     -> Literal[...]

Anything else raises `Unsupported` for that family, which is then left out of the decoder: its
lines all take the precise path. Likewise a family whose variants differ in more than the
discriminator's const (one Struct could not tell them apart). tests/unit/test_differential.py
holds the compiled types to jsonschema's verdicts over every fixture and generated payloads.
"""
from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal, Optional, Union

import msgspec

from harness.contract import Contract, Family, Variant

__all__ = ["DATE_TIME", "LineDecoder", "Unsupported", "compile_decoder"]

#: RFC 3339 date-times this engine accepts without asking anyone: every part in range, days
#: 01-28 in any month, 29-30 except in February, 31 in the long months. Leap days, leap seconds
#: and year 0000 are left to jsonschema-rs and jsonschema (they disagree on some; see
#: test_known_date_time_differences). `[0-9]`, not `\d`: Python's `\d` matches any Unicode
#: digit. `\Z`, not `$`: `$` also matches before a final newline.
DATE_TIME = (
    r"^(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-"
    r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
    r"[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])\Z"
)

#: Keywords that only document a schema.
_ANNOTATIONS = frozenset({"title", "description", "examples", "$comment", "default", "$schema", "$id"})


class Unsupported(ValueError):
    """A schema uses something this compiler cannot express exactly."""


@dataclasses.dataclass(frozen=True)
class LineDecoder:
    """`decode(line)` returns a Struct for a line that conforms (raises one of `refused` otherwise);
    `struct.variants[struct.kind]` is its Variant (a class attribute: the cheapest lookup there is
    per line). `families` names the compiled families."""

    decode: Any
    refused: tuple[type[BaseException], ...]
    families: tuple[str, ...]


# What `decode` raises for a line it does not pass: not valid for the types, not JSON msgspec
# reads, nested deeper than the C stack allows (msgspec raises RecursionError, like json.loads).
_REFUSED = (msgspec.ValidationError, msgspec.DecodeError, RecursionError)


def compile_decoder(contract: Contract, *, strict: bool, schemas: dict[str, dict[str, Any]] | None = None) -> LineDecoder | None:
    """A decoder for every family that compiles, or None when none does.

    `schemas` maps a variant's schema URI to the schema to compile (default: the contract's,
    `$ref`s inlined), so the tests can feed it schemas it must refuse."""
    structs: list[type] = []
    for family in contract.families:
        try:
            structs.append(_family_struct(family, contract, strict, schemas))
        except Unsupported:
            continue  # that family's lines take the precise path
    if not structs:
        return None
    decoder = msgspec.json.Decoder(Union[tuple(structs)] if len(structs) > 1 else structs[0])  # noqa: UP007 - a runtime union of classes
    return LineDecoder(decoder.decode, _REFUSED, tuple(s.__name__ for s in structs))


def _family_struct(family: Family, contract: Contract, strict: bool, schemas: dict[str, dict[str, Any]] | None) -> type:
    """One Struct for the whole family, provided its variants differ only in the discriminator."""
    shapes = []
    for variant in family.variants:
        schema = schemas[variant.schema_uri] if schemas is not None else contract.inlined(variant.schema_uri)
        shapes.append(_strip(schema, family.discriminator, variant))
    if any(shape != shapes[0] for shape in shapes[1:]):
        raise Unsupported(f"{family.name}: variants differ beyond {family.discriminator}")
    schema = shapes[0]
    tag = schema["properties"].get("message_type", {})
    if set(tag) != {"const"} or tag["const"] != family.message_type or "message_type" not in schema.get("required", ()):
        raise Unsupported(f"{family.name}: message_type is not a required const")
    names = tuple(v.name for v in family.variants)
    key = family.discriminator
    namespace: dict[str, Any] = {"variants": {v.name: v for v in family.variants}}
    if key is None:
        namespace["kind"] = names[0]  # one variant: `kind` is a class attribute, not a field
    return _struct(
        family.name, schema, strict=strict, skip={"message_type"}, tag=family.message_type,
        discriminator=(key, Literal[names]) if key else None,  # the value says which variant
        namespace=namespace,
    )


def _strip(schema: dict[str, Any], discriminator: str | None, variant: Variant) -> dict[str, Any]:
    """The schema without annotations, and without the discriminator's const (checked here)."""
    schema = _without_annotations(schema)
    if discriminator is not None:
        properties = dict(schema.get("properties", {}))
        if properties.get(discriminator) != {"const": variant.name} or discriminator not in schema.get("required", ()):
            raise Unsupported(f"{variant.key}: {discriminator} is not a required const {variant.name!r}")
        properties[discriminator] = "discriminator"
        schema = {**schema, "properties": properties}
    return schema


def _without_annotations(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_annotations(v) for k, v in node.items() if k not in _ANNOTATIONS}
    if isinstance(node, list):
        return [_without_annotations(v) for v in node]
    return node


def _struct(
    name: str, schema: dict[str, Any], *, strict: bool, skip: set[str] = frozenset(),  # type: ignore[assignment]
    tag: str | None = None, discriminator: tuple[str, Any] | None = None, namespace: dict[str, Any] | None = None,
) -> type:
    """A Struct for an object schema. Only the top level is closed in strict mode: the contract's
    strict mode is `unevaluatedProperties: false` at the top, which leaves nested objects open."""
    if set(schema) - {"type", "properties", "required"} or schema.get("type") != "object":
        raise Unsupported(f"{name}: only type object with properties and required compiles")
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    if not required <= set(properties):
        raise Unsupported(f"{name}: a required key without a schema")
    fields: list[tuple[Any, ...]] = []
    rename: dict[str, str] = {}
    for index, (key, sub) in enumerate(properties.items()):
        if key in skip:
            continue
        # Attribute names are ours (the JSON key is any string): `kind` for the discriminator.
        if discriminator is not None and key == discriminator[0]:
            attribute, kind = "kind", discriminator[1]
        else:
            attribute, kind = f"f{index}", _type(sub, f"{name}.{key}", strict)
        rename[attribute] = key
        # An optional key may be absent (UNSET), never null unless its schema says so.
        fields.append((attribute, kind) if key in required else (attribute, Union[kind, msgspec.UnsetType], msgspec.UNSET))  # noqa: UP007
    return msgspec.defstruct(
        name, fields, kw_only=True, rename=rename, tag_field="message_type" if tag else None, tag=tag,
        forbid_unknown_fields=strict and tag is not None, namespace=namespace, gc=False,
    )


def _type(schema: Any, where: str, strict: bool) -> Any:
    """The msgspec type for one property's schema."""
    if not isinstance(schema, dict):
        raise Unsupported(f"{where}: the boolean schema {schema!r}")
    if set(schema) == {"const"}:
        if not isinstance(schema["const"], str):
            raise Unsupported(f"{where}: const of a {type(schema['const']).__name__}")
        return Literal[schema["const"]]
    types = schema.get("type")
    nullable = isinstance(types, list) and sorted(types) in (["integer", "null"], ["null", "object"], ["null", "string"])
    if isinstance(types, list) and not nullable:
        raise Unsupported(f"{where}: type {types}")
    base = next(t for t in types if t != "null") if isinstance(types, list) else types
    rest = {k: v for k, v in schema.items() if k != "type"}
    if base == "integer" and set(rest) <= {"minimum"}:
        minimum = rest.get("minimum")
        if minimum is not None and not isinstance(minimum, int):
            raise Unsupported(f"{where}: minimum {minimum!r}")
        kind: Any = Annotated[int, msgspec.Meta(ge=minimum)] if minimum is not None else int
    elif base == "string" and set(rest) <= {"minLength", "format"}:
        if rest.get("format", "date-time") != "date-time":
            raise Unsupported(f"{where}: format {rest['format']!r}")
        meta = {"min_length": rest["minLength"]} if "minLength" in rest else {}
        if "format" in rest:
            meta["pattern"] = DATE_TIME
        kind = Annotated[str, msgspec.Meta(**meta)] if meta else str
    elif base == "object":
        kind = _struct(where.replace(".", "_"), schema if not nullable else {**schema, "type": "object"}, strict=strict)
    else:
        raise Unsupported(f"{where}: {schema}")
    return Optional[kind] if nullable else kind  # noqa: UP007
