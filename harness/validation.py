"""Judge one payload (or one FCM message) against the contract: dispatch, then precise errors.

The variant is picked from a table (`message_type`, then `status`/`state`), never by trying a
`oneOf`, so an error always speaks of the variant the payload claims to be and names the key.
A valid payload takes the fast path (`harness.fastpath`, jsonschema-rs) when it is available;
errors are always produced by `jsonschema`, whose errors carry paths and keywords.
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

__all__ = ["validate", "validate_push", "variant_of", "is_valid"]


def _show(value: Any) -> str:
    """JSON spelling of a value for messages (`"12"`, `null`), shortened."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _pointer(parts: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _violation(contract: Contract, rule_id: str, message: str, pointer: str = "", **extra: Any) -> Violation:
    rule = contract.rule(rule_id)
    return Violation(rule_id=rule_id, level=rule.level, title=rule.title, message=message, pointer=pointer, **extra)


def variant_of(payload: JSON, contract: Contract | None = None) -> Variant | None:
    """The variant a payload claims to be (by `message_type` and `status`/`state`), or None."""
    contract = contract or load_contract()
    if not isinstance(payload, dict):
        return None
    family = contract.family_by_message_type(payload.get("message_type"))  # type: ignore[arg-type]
    if family is None:
        return None
    if family.discriminator is None:
        return family.variants[0]
    value = payload.get(family.discriminator)
    return family.variant(value) if isinstance(value, str) else None


def _dispatch(payload: JSON, contract: Contract) -> tuple[Variant | None, list[Violation]]:
    """Pick the variant, or say precisely why none can be picked."""
    if not isinstance(payload, dict):
        return None, [_violation(contract, "PAY-001", f"a notification is a JSON object, not {type(payload).__name__} {_show(payload)}")]
    known = ", ".join(f.message_type for f in contract.families)
    if "message_type" not in payload:
        return None, [_violation(contract, "PAY-003", f"required key 'message_type' is missing (one of: {known})", "/message_type")]
    family = contract.family_by_message_type(payload["message_type"])
    if family is None:
        return None, [_violation(contract, "PAY-001", f"unknown message_type {_show(payload['message_type'])}; expected one of: {known}", "/message_type", instance=payload["message_type"])]
    if family.discriminator is None:
        return family.variants[0], []
    key = family.discriminator
    names = ", ".join(v.name for v in family.variants)
    if key not in payload:
        return None, [_violation(contract, "PAY-003", f"required key '{key}' is missing ({family.message_type} needs one of: {names})", f"/{key}")]
    value = payload[key]
    variant = family.variant(value) if isinstance(value, str) else None
    if variant is None:
        return None, [_violation(contract, "PAY-002", f"unknown {key} {_show(value)} for {family.message_type}; expected one of: {names}", f"/{key}", instance=value)]
    return variant, []


@functools.lru_cache(maxsize=None)
def _validator(schema_uri: str, strict: bool) -> jsonschema.protocols.Validator:
    schema = load_contract().inlined(schema_uri)
    if strict:
        schema["unevaluatedProperties"] = False
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


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
            return f"key '{key}' is not part of the contract" if key else error.message
        case "propertyNames":
            return f"data key {_show(key)} is reserved by FCM (from, message_type, google*, gcm*)"
        case "not":
            return f"key '{key}' is not allowed here"
        case _:
            return error.message


def _errors_to_violations(
    errors: Iterable[jsonschema.ValidationError], contract: Contract, keyword_map: dict[str, str], default_rule: str, variant: Variant | None, properties: Iterable[str]
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
                schema_path=_pointer(error.absolute_schema_path),
                instance=error.instance.get(key) if isinstance(error.instance, dict) and key in error.instance else error.instance,
            )


def _payload_errors(payload: dict[str, Any], variant: Variant, strict: bool, contract: Contract) -> list[Violation]:
    errors = _validator(variant.schema_uri, strict).iter_errors(payload)
    violations = _errors_to_violations(errors, contract, contract.keyword_rules["payload"], "PAY-004", variant, contract.variant_properties(variant))
    return sorted(violations, key=lambda v: (v.pointer, v.rule_id))


def validate(payload: JSON, *, strict: bool = False, contract: Contract | None = None) -> list[Violation]:
    """Every violation of one notification payload; `[]` when it conforms.

    In strict mode keys beyond the contract's are reported (PAY-006, a SHOULD).
    """
    contract = contract or load_contract()
    variant, violations = _dispatch(payload, contract)
    if variant is None:
        return violations
    from harness import fastpath  # local: optional engine, imported on first use

    if fastpath.is_valid(payload, variant, strict=strict):
        return []
    return _payload_errors(payload, variant, strict, contract)


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
