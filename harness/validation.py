"""Judge one payload (or one FCM message) against the contract: dispatch, then precise errors.

The variant is picked from a table (`message_type`, then `status`/`state`), never by trying a
`oneOf`, so an error always speaks of the variant the payload claims to be and names the key.
A valid payload takes the fast path (`harness.fastpath`, jsonschema-rs) when it is available.
Errors come from jsonschema-rs where its errors are provably jsonschema's (a keyword this module
words itself, at a place reached through `properties` only, and formats both engines judge
alike), else from `jsonschema`; both go through one conversion, so the Violations are the same
(tests/unit/test_differential.py compares them over every fixture and generated mutations).
"""
from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Iterable, Iterator
from typing import Any

import jsonschema

from harness.contract import Contract, Variant, load_contract
from harness.push_codec import decode_push_data, wire_pointer
from harness.types import JSON
from harness.violations import Violation

__all__ = ["validate", "validate_push", "variant_of", "is_valid", "judge"]


def _show(value: Any) -> str:
    """JSON spelling of a value for messages (`"12"`, `null`), shortened."""
    if type(value) is int:  # the commonest wrong value (a 0 or -1 id), spelled as json.dumps does
        text = str(value)
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _pointer(parts: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@functools.lru_cache(maxsize=1024)
def _schema_pointer(parts: tuple[Any, ...]) -> str:
    """`_pointer` of a schema path: few distinct ones, each asked for again and again."""
    return _pointer(parts)


def _violation(contract: Contract, rule_id: str, message: str, pointer: str = "", **extra: Any) -> Violation:
    rule = contract.rule(rule_id)
    return Violation(rule_id=rule_id, level=rule.level, title=rule.title, message=message, pointer=pointer, **extra)


class _Dispatch:
    """The contract's dispatch table, and the texts its messages name, computed once."""

    def __init__(self, contract: Contract) -> None:
        self.families = {f.message_type: f for f in contract.families}
        self.variants = {f.message_type: {v.name: v for v in f.variants} for f in contract.families}
        self.known = ", ".join(f.message_type for f in contract.families)
        self.names = {f.message_type: ", ".join(v.name for v in f.variants) for f in contract.families}


#: id(contract) -> (contract, its table); the contract is kept so its id is never reused.
_DISPATCH: dict[int, tuple[Contract, _Dispatch]] = {}


def _table(contract: Contract) -> _Dispatch:
    entry = _DISPATCH.get(id(contract))
    if entry is None or entry[0] is not contract:
        entry = _DISPATCH[id(contract)] = (contract, _Dispatch(contract))
    return entry[1]


def variant_of(payload: JSON, contract: Contract | None = None) -> Variant | None:
    """The variant a payload claims to be (by `message_type` and `status`/`state`), or None."""
    if not isinstance(payload, dict):
        return None
    table = _table(contract or load_contract())
    message_type = payload.get("message_type")
    family = table.families.get(message_type) if isinstance(message_type, str) else None
    if family is None:
        return None
    if family.discriminator is None:
        return family.variants[0]
    value = payload.get(family.discriminator)
    return table.variants[family.message_type].get(value) if isinstance(value, str) else None


def _dispatch(payload: JSON, contract: Contract, source: str | None = None) -> tuple[Variant | None, list[Violation]]:
    """Pick the variant, or say precisely why none can be picked (seen at `source`)."""
    if not isinstance(payload, dict):
        return None, [_violation(contract, "PAY-001", f"a notification is a JSON object, not {type(payload).__name__} {_show(payload)}", source=source)]
    table = _table(contract)
    if "message_type" not in payload:
        return None, [_violation(contract, "PAY-003", f"required key 'message_type' is missing (one of: {table.known})", "/message_type", source=source)]
    message_type = payload["message_type"]
    family = table.families.get(message_type) if isinstance(message_type, str) else None
    if family is None:
        return None, [_violation(contract, "PAY-001", f"unknown message_type {_show(message_type)}; expected one of: {table.known}", "/message_type", instance=message_type, source=source)]
    if family.discriminator is None:
        return family.variants[0], []
    key = family.discriminator
    if key not in payload:
        return None, [_violation(contract, "PAY-003", f"required key '{key}' is missing ({message_type} needs one of: {table.names[message_type]})", f"/{key}", source=source)]
    value = payload[key]
    variant = table.variants[message_type].get(value) if isinstance(value, str) else None
    if variant is None:
        return None, [_violation(contract, "PAY-002", f"unknown {key} {_show(value)} for {message_type}; expected one of: {table.names[message_type]}", f"/{key}", instance=value, source=source)]
    return variant, []


#: The format checker jsonschema validates with (date-time through rfc3339-validator).
_FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER


@functools.lru_cache(maxsize=None)
def _validator(schema_uri: str, strict: bool) -> jsonschema.protocols.Validator:
    from harness.fastpath import variant_schema  # the same schema jsonschema-rs judges by

    return jsonschema.Draft202012Validator(variant_schema(schema_uri, strict), format_checker=_FORMATS)


def _message(error: jsonschema.ValidationError, key: str | None) -> str:
    instance, value = error.instance, error.validator_value
    keyword = "propertyNames" if "propertyNames" in error.absolute_schema_path else error.validator
    match keyword:
        case "required":
            return f"required key '{key}' is missing"
        case "type":
            expected = value if isinstance(value, str) else " or ".join(value)
            return f"{_show(instance)} is not of type {expected}"
        case "const":
            return f"{_show(instance)} is not the fixed value {_show(value)}"
        case "enum":
            return f"{_show(instance)} is not one of {', '.join(_show(v) for v in value)}"
        case "minimum":
            return f"{_show(instance)} is less than the minimum {value}"
        case "minLength":
            return f"{_show(instance)} is shorter than {value} character(s)"
        case "format":
            return f"{_show(instance)} is not a valid {value} (RFC 3339, e.g. 2026-11-25T14:00:00Z)" if value == "date-time" else f"{_show(instance)} is not a valid {value}"
        case "unevaluatedProperties" | "additionalProperties":
            return f"key '{key}' is not part of the contract" if key is not None else error.message
        case "propertyNames":
            return f"data key {_show(key)} is reserved by FCM (from, message_type, google*, gcm*)"
        case "not":
            return f"key '{key}' is not allowed here"
        case _:
            return error.message


def _errors_to_violations(
    errors: Iterable[jsonschema.ValidationError], contract: Contract, keyword_map: dict[str, str], default_rule: str, variant: Variant | None, properties: Iterable[str],
    source: str | None = None,
) -> Iterator[Violation]:
    known = set(properties)
    required_seen: dict[tuple[str, ...], int] = {}
    # The sort is stable, so `required` errors of one object keep jsonschema's order.
    for error in sorted(errors, key=lambda e: (list(map(str, e.absolute_path)), str(e.validator))):
        path = list(error.absolute_path)
        keys: list[str | None] = [None]
        if error.validator == "required" and isinstance(error.instance, dict):
            # jsonschema yields one `required` error per missing key, in the schema's order:
            # the n-th error of an object names its n-th missing key.
            missing = [k for k in error.validator_value if k not in error.instance]
            at = tuple(map(str, path))
            index = required_seen[at] = required_seen.get(at, -1) + 1
            keys = [missing[index]] if index < len(missing) else [None]
        if error.validator in ("unevaluatedProperties",) and isinstance(error.instance, dict):
            keys = sorted(k for k in error.instance if k not in known)
        keyword = str(error.validator)
        if keyword == "not" and "propertyNames" in error.absolute_schema_path:
            keyword, keys = "propertyNames", [str(error.instance)]
        elif keyword == "not" and path:
            keys, path = [str(path[-1])], path[:-1]
        rule_id = keyword_map.get(keyword, default_rule)
        for key in keys:
            pointer = _pointer(path + ([key] if key is not None else []))
            yield _violation(
                contract, rule_id, _message(error, key), pointer,
                variant=variant.key if variant else None,
                schema_path=_schema_pointer(tuple(error.absolute_schema_path)),
                instance=error.instance.get(key) if isinstance(error.instance, dict) and key in error.instance else error.instance,
                source=source,
            )


class _RsError:
    """An error of jsonschema-rs with the attributes of a jsonschema ValidationError that
    `_errors_to_violations` reads, so that both engines' errors go through one conversion.
    `instance` and `validator_value` are looked up in the payload and the schema themselves (not
    taken from jsonschema-rs's copies), so values, key order and identity are jsonschema's."""

    __slots__ = ("absolute_path", "absolute_schema_path", "validator", "validator_value", "instance")

    def __init__(self, path: list[Any], schema_path: list[Any], payload: Any, schema: Any) -> None:
        self.absolute_path = path
        self.absolute_schema_path = schema_path
        self.validator = schema_path[-1]
        self.validator_value = _at(schema, schema_path)
        self.instance = _at(payload, path)

    @property
    def message(self) -> str:  # pragma: no cover - only mapped keywords reach _message
        raise AssertionError(f"jsonschema-rs error {self.validator!r} has no message of ours")


def _at(document: Any, path: list[Any]) -> Any:
    for part in path:
        document = document[part]
    return document


@functools.cache
def _fastpath() -> Any:
    """harness.fastpath, imported on first use: importing this module alone does not load the
    engines (jsonschema-rs), and a payload validated after that does not pay for an import."""
    from harness import fastpath

    return fastpath


#: Keywords `_message` words itself (never falling back to jsonschema's `error.message`).
_MAPPED_KEYWORDS = frozenset({"required", "type", "const", "enum", "minimum", "minLength", "format", "unevaluatedProperties"})


@functools.lru_cache(maxsize=None)
def _format_sites(schema_uri: str, strict: bool) -> tuple[tuple[tuple[str, ...], str], ...] | None:
    """Where a variant's schema asks for a `format`: (instance path, format) for each one reached
    through `properties` only; None when some `format` sits anywhere else (under `items`, `not`,
    ...), where which values it applies to is not plain: then jsonschema judges, always."""
    from harness.fastpath import variant_schema

    sites: list[tuple[tuple[str, ...], str]] = []
    plain = True

    def visit(node: Any, path: tuple[str, ...] | None) -> None:
        nonlocal plain
        if isinstance(node, list):
            for item in node:
                visit(item, None)
            return
        if not isinstance(node, dict):
            return
        for keyword, value in node.items():
            if keyword == "format":
                if path is None or not isinstance(value, str):
                    plain = False
                else:
                    sites.append((path, value))
            elif keyword == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    visit(sub, path + (name,) if path is not None else None)
            else:
                visit(value, None)

    visit(variant_schema(schema_uri, strict), ())
    return tuple(sites) if plain else None


def _rs_errors(payload: dict[str, Any], variant: Variant, strict: bool, locations: list[Any]) -> list[_RsError] | None:
    """jsonschema-rs's errors as jsonschema would report them, or None where they might differ:
    a keyword `_message` does not word, a place not reached through `properties` alone, or a
    value whose format the two engines judge differently (see test_known_date_time_differences)."""
    sites = _format_sites(variant.schema_uri, strict)
    if sites is None:
        return None
    flagged = set()
    for path, schema_path in locations:
        # Only `properties/<key>/.../<keyword>`: the schema paths jsonschema reports the same way.
        if schema_path[-1] not in _MAPPED_KEYWORDS or len(schema_path) % 2 == 0 or any(p != "properties" for p in schema_path[:-1:2]):
            return None
        if schema_path[-1] == "format":
            flagged.add(tuple(path))
    for site, name in sites:
        value: Any = payload
        for key in site:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and _FORMATS.conforms(value, name) == (site in flagged):
            return None  # the engines disagree on this value's format: jsonschema decides
    schema = _fastpath().variant_schema(variant.schema_uri, strict)
    return [_RsError(path, schema_path, payload, schema) for path, schema_path in locations]


def _payload_errors(payload: dict[str, Any], variant: Variant, strict: bool, contract: Contract, source: str | None = None) -> list[Violation]:
    """Every violation of a payload that dispatched to `variant`; `[]` when it conforms.

    Verdicts are as they have always been: valid when jsonschema-rs says so, else jsonschema's."""
    fastpath = _fastpath()
    if fastpath.is_valid(payload, variant, strict=strict):  # the common case, and the cheapest call
        return []
    locations = fastpath.error_locations(payload, variant, strict=strict)
    if locations == []:
        return []  # (is_valid could not take the value either: not reached with JSON input)
    errors: Iterable[Any] | None = _rs_errors(payload, variant, strict, locations) if locations is not None else None
    if errors is None:
        errors = _validator(variant.schema_uri, strict).iter_errors(payload)
    return _payload_violations(errors, variant, contract, source)


def _payload_violations(errors: Iterable[Any], variant: Variant, contract: Contract, source: str | None = None) -> list[Violation]:
    """Either engine's errors for a payload of `variant` as Violations, in pointer order."""
    violations = _errors_to_violations(errors, contract, contract.keyword_rules["payload"], "PAY-004", variant, contract.variant_properties(variant), source)
    return sorted(violations, key=lambda v: (v.pointer, v.rule_id))


def validate(payload: JSON, *, strict: bool = False, contract: Contract | None = None) -> list[Violation]:
    """Every violation of one notification payload; `[]` when it conforms.

    In strict mode keys beyond the contract's are reported (PAY-006, a SHOULD).
    """
    return judge(payload, strict=strict, contract=contract)[1]


def judge(payload: JSON, *, strict: bool = False, contract: Contract | None = None, source: str | None = None) -> tuple[Variant | None, list[Violation]]:
    """What `variant_of` and `validate` say of one payload, from one dispatch, each violation
    already seen at `source` (for `b4a validate`, whose precise path runs this per line)."""
    contract = contract or load_contract()
    variant, violations = _dispatch(payload, contract, source)
    if variant is None:
        return None, violations  # (variant_of finds none either)
    return variant, _payload_errors(payload, variant, strict, contract, source)


def is_valid(payload: JSON, *, strict: bool = False) -> bool:
    return not validate(payload, strict=strict)


@functools.lru_cache(maxsize=None)
def _push_validator() -> jsonschema.protocols.Validator:
    contract = load_contract()
    return jsonschema.Draft202012Validator(
        {"$ref": "https://schemas.buddy4all.dev/notifications/v1/fcm-message.json"},
        registry=contract.registry,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def unwrap_send_body(document: JSON) -> tuple[JSON, str]:
    """The FCM message in a document that is either the message or a `{"message": ...}` send
    body, and the pointer prefix where it sits."""
    if isinstance(document, dict) and isinstance(document.get("message"), dict) and "token" not in document:
        return document["message"], "/message"
    return document, ""


def validate_push(message: JSON, *, strict: bool = False, contract: Contract | None = None) -> list[Violation]:
    """Every violation of one FCM v1 message (or a `{"message": ...}` send body) carrying a payload.

    The message must match fcm-message.json; its `data`, decoded, must be a valid payload.
    Pointers of payload errors point into the push (`/data/friend_id`, `/data/type`).
    """
    contract = contract or load_contract()
    message, prefix = unwrap_send_body(message)
    if not isinstance(message, dict):
        return [_violation(contract, "PUSH-001", f"an FCM message is a JSON object, not {_show(message)}", prefix)]
    violations = list(
        _errors_to_violations(_push_validator().iter_errors(message), contract, contract.keyword_rules["push"], "PUSH-001", None, ())
    )
    data = message.get("data")
    if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
        payload = decode_push_data(data, contract)
        for v in validate(payload, strict=strict, contract=contract):
            if v.rule_id == "PAY-003" and v.pointer == "/message_type" and "message_type" in data:
                continue  # already reported as a reserved key (PUSH-002)
            violations.append(_moved(v, wire_pointer(v.pointer, contract)))
    return [_moved(v, prefix + v.pointer) for v in violations] if prefix else violations


def _moved(violation: Violation, pointer: str) -> Violation:
    return dataclasses.replace(violation, pointer=pointer)
