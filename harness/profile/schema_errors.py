"""Turn JSON Schema errors on a profile into one plain line each: `key.path: problem`."""
from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from jsonschema import ValidationError
from jsonschema.protocols import Validator

__all__ = ["kind", "location", "messages", "show"]

_TYPE_NAMES = {
    "string": "a string", "number": "a number", "integer": "an integer", "boolean": "true or false",
    "object": "a mapping", "array": "a list", "null": "null",
}


def location(path: Iterable[Any]) -> str:
    """`actions.friendship.accept[0].method`: dotted keys, [n] for list items."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else type(value).__name__


def show(value: Any) -> str:
    """Strings quoted like Python; the rest as JSON (short; containers only by kind)."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (dict, list)):
        return kind(value)
    return json.dumps(value)


def messages(validator: Validator, document: Any) -> list[str]:
    """Every problem, sorted by key path, without duplicates."""
    found: dict[str, None] = {}
    for error in validator.iter_errors(document):
        for line in _describe(error):
            found.setdefault(line, None)
    return sorted(found, key=lambda line: line.split(": ", 1)[0])


def _line(path: Iterable[Any], message: str) -> str:
    where = location(path)
    return f"{where}: {message}" if where else message


def _describe(error: ValidationError) -> Iterator[str]:
    path, instance, value, schema = list(error.absolute_path), error.instance, error.validator_value, error.schema
    keyword = error.validator
    top = "top-level " if not path else ""
    if keyword in ("oneOf", "dependentRequired") and not isinstance(instance, dict):
        return  # `required` holds vacuously on a non-mapping; its `type` error says what is wrong
    if "propertyNames" in error.absolute_schema_path:
        yield _line(path, f"key {show(instance)} is not {schema.get('description', 'a valid name')}")
    elif keyword == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        for key in instance:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                yield _line(path, f"unknown {top}key {key!r} ({hint}allowed: {', '.join(allowed)})")
    elif keyword == "required":
        for key in value:
            if key not in instance:
                yield _line(path, f"missing required {top}key {key!r}")
    elif keyword == "enum":
        yield _line(path, f"{show(instance)} is not one of {', '.join(str(v) for v in value)}")
    elif keyword == "const":
        yield _line(path, f"expected {show(value)}, got {show(instance)}")
    elif keyword == "type":
        names = [_TYPE_NAMES[t] for t in ([value] if isinstance(value, str) else value)]
        got = kind(instance) if isinstance(instance, (dict, list)) else f"{kind(instance)} {show(instance)}"
        yield _line(path, f"expected {' or '.join(names)}, got {got}")
    elif keyword == "pattern":
        yield _line(path, f"{show(instance)} is not {schema.get('description', f'matching {value}')}")
    elif keyword in ("minimum", "exclusiveMinimum", "maximum"):
        sign = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<="}[keyword]
        yield _line(path, f"must be {sign} {value}, got {show(instance)}")
    elif keyword in ("minLength", "minItems"):
        yield _line(path, "must not be empty")
    elif keyword == "uniqueItems":
        yield _line(path, "has duplicate items")
    elif keyword == "dependentRequired":
        for key, needed in value.items():
            for other in needed:
                if key in instance and other not in instance:
                    yield _line(path, f"{key!r} is only used together with {other!r}")
    elif keyword == "oneOf" and all(set(branch) == {"required"} for branch in value):
        yield _line(path, _exactly_one(instance, [branch["required"] for branch in value]))
    else:  # not reached by the shipped schema; jsonschema's own words are still precise
        yield _line(path, error.message)


def _exactly_one(instance: dict[str, Any], alternatives: list[list[str]]) -> str:
    """`oneOf` of `required` lists: name the alternatives and what was given."""
    options = " or ".join(" + ".join(keys) for keys in alternatives)
    given = [" + ".join(keys) for keys in alternatives if all(k in instance for k in keys)]
    if given:
        return f"give only one of {options}, not {' and '.join(given)}"
    return f"needs {options}"
