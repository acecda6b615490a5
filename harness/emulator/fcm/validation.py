"""FCM's own checks on a `messages:send` body: proto3 JSON shape, target, data keys, size."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import orjson

from harness.emulator.fcm.condition import TOPIC_NAME, ConditionError, parse_condition
from harness.emulator.fcm.errors import (
    BAD_REQUEST_TYPE,
    FcmRejection,
    SendRejected,
    bare_invalid_argument,
    fcm_error,
    invalid_json,
)

#: "4096 bytes for most messages, or 2048 bytes in the case of messages to topics" (ErrorCode doc).
MAX_PAYLOAD_BYTES = 4096
MAX_TOPIC_PAYLOAD_BYTES = 2048
#: Android TTL: "max 4 weeks".
MAX_TTL_SECONDS = 4 * 7 * 24 * 3600
RESERVED_DATA_KEYS = frozenset({"from", "message_type"})
RESERVED_DATA_PREFIXES = ("google.", "gcm.")
TARGETS = ("token", "topic", "condition", "fid")

_DURATION = re.compile(r"(\d{1,12})(?:\.(\d{1,9}))?s")
# A registration token is opaque, but never empty, never spaced, ASCII and of bounded length.
_TOKEN = re.compile(r"[\x21-\x7e]{1,4096}")

Spec = Any  # a kind name ("str", "bool", ...), a tuple of enum names, or a nested dict of fields

_NOTIFICATION: dict[str, Spec] = {"title": "str", "body": "str", "image": "str"}
_ANDROID_NOTIFICATION: dict[str, Spec] = {
    **{name: "str" for name in (
        "title", "body", "icon", "color", "sound", "tag", "click_action", "body_loc_key",
        "title_loc_key", "channel_id", "ticker", "event_time", "image",
    )},
    **{name: "bool" for name in (
        "sticky", "local_only", "default_sound", "default_vibrate_timings",
        "default_light_settings", "bypass_proxy_notification",
    )},
    "body_loc_args": "str_list",
    "title_loc_args": "str_list",
    "vibrate_timings": "duration_list",
    "notification_count": "int",
    "notification_priority": (
        "PRIORITY_UNSPECIFIED", "PRIORITY_MIN", "PRIORITY_LOW", "PRIORITY_DEFAULT",
        "PRIORITY_HIGH", "PRIORITY_MAX",
    ),
    "visibility": ("VISIBILITY_UNSPECIFIED", "PRIVATE", "PUBLIC", "SECRET"),
    "proxy": ("PROXY_UNSPECIFIED", "ALLOW", "DENY", "IF_PRIORITY_LOWERED"),
    "light_settings": {"color": "object", "light_on_duration": "duration", "light_off_duration": "duration"},
}
_ANDROID: dict[str, Spec] = {
    "collapse_key": "str",
    "priority": ("NORMAL", "HIGH"),
    "ttl": "duration",
    "restricted_package_name": "str",
    "data": "map",
    "notification": _ANDROID_NOTIFICATION,
    "fcm_options": {"analytics_label": "str"},
    "direct_boot_ok": "bool",
    "bandwidth_constrained_ok": "bool",
    "restricted_satellite_ok": "bool",
}
_WEBPUSH: dict[str, Spec] = {
    "headers": "map",
    "data": "map",
    "notification": "object",
    "fcm_options": {"link": "str", "analytics_label": "str"},
}
_APNS: dict[str, Spec] = {
    "headers": "map",
    "payload": "object",
    "fcm_options": {"analytics_label": "str", "image": "str"},
    "live_activity_token": "str",
}
MESSAGE_FIELDS: dict[str, Spec] = {
    "name": "str",
    "data": "map",
    "notification": _NOTIFICATION,
    "android": _ANDROID,
    # AndroidConfigV2 is new in the public schema and not sent by the Admin SDKs: shape unchecked.
    "android_v2": "object",
    "webpush": _WEBPUSH,
    "apns": _APNS,
    "fcm_options": {"analytics_label": "str"},
    "token": "str",
    "topic": "str",
    "condition": "str",
    "fid": "str",
}


@dataclass(frozen=True)
class SendRequest:
    """A send body that passed FCM's checks."""

    message: dict[str, Any]
    validate_only: bool
    target: str  # one of TARGETS
    recipient: str


def parse_send_body(raw: bytes) -> SendRequest:
    """Parse and check a `messages:send` body; raise SendRejected with FCM's answer."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise SendRejected(
            invalid_json("Invalid JSON payload received. Unexpected token.", explanation=f"body is not JSON: {exc}")
        ) from None
    if not isinstance(body, dict):
        raise SendRejected(invalid_json(
            f"Invalid JSON payload received. Expected an object, got {_render(body)}.",
        ))
    validate_only = False
    message: Any = None
    unknown = []
    for key, value in body.items():
        if key in ("validate_only", "validateOnly"):
            if not isinstance(value, bool):
                raise SendRejected(_bad_value("validate_only", "TYPE_BOOL", value))
            validate_only = value
        elif key == "message":
            message = value
        else:
            unknown.append(f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.')
    if unknown:
        raise SendRejected(invalid_json("\n".join(unknown)))
    if message is None:
        raise SendRejected(fcm_error("INVALID_ARGUMENT", "Message is not set.", field_path="message"))
    if not isinstance(message, dict):
        raise SendRejected(_bad_value("message", "type.googleapis.com/google.firebase.fcm.v1.Message", message))
    _check_fields(message, MESSAGE_FIELDS, "message")
    target, recipient = _check_target(message)
    for path, data in (("message.data", _field(message, "data")),
                       ("message.android.data", _field(_field(message, "android") or {}, "data"))):
        if data:
            _check_data_keys(data, path)
    _check_size(message, target)
    ttl = _field(_field(message, "android") or {}, "ttl")
    if ttl is not None and _duration_seconds(ttl) > MAX_TTL_SECONDS:
        raise SendRejected(fcm_error(
            "INVALID_ARGUMENT", "The ttl is invalid: it must be at most 4 weeks.", field_path="message.android.ttl"
        ))
    return SendRequest(message, validate_only, target, recipient)


def _field(obj: dict[str, Any], name: str) -> Any:
    """Read a field under either of its proto3 JSON names (snake_case or lowerCamelCase)."""
    value = obj.get(name)
    if value is None:
        value = obj.get(_camel(name))
    return value


@functools.cache
def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _check_fields(obj: dict[str, Any], spec: dict[str, Spec], path: str) -> None:
    known = {key: key if key in spec else _snake(key) for key in obj}
    unknown = [
        f'Invalid JSON payload received. Unknown name "{key}" at \'{path}\': Cannot find field.'
        for key, name in known.items() if name not in spec
    ]
    if unknown:
        raise SendRejected(invalid_json("\n".join(unknown)))
    for key, name in known.items():
        if obj[key] is not None:
            _check_value(obj[key], spec[name], f"{path}.{name}")


@functools.cache
def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _check_value(value: Any, spec: Spec, path: str) -> None:
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            raise SendRejected(_bad_value(path, "TYPE_MESSAGE", value))
        _check_fields(value, spec, path)
    elif isinstance(spec, tuple):
        # firebase-admin sends android.priority in lower case: enum names are matched case-blind.
        if isinstance(value, bool) or not (
            (isinstance(value, str) and value.upper() in spec)
            or (isinstance(value, int) and 0 <= value < len(spec))
        ):
            raise SendRejected(_bad_value(path, "TYPE_ENUM", value))
    elif spec == "str":
        if not isinstance(value, str):
            raise SendRejected(_bad_value(path, "TYPE_STRING", value))
    elif spec == "bool":
        if not isinstance(value, bool):
            raise SendRejected(_bad_value(path, "TYPE_BOOL", value))
    elif spec == "int":
        if isinstance(value, bool) or not isinstance(value, int) or not -(2**31) <= value < 2**31:
            raise SendRejected(_bad_value(path, "TYPE_INT32", value))
    elif spec == "object":
        if not isinstance(value, dict):
            raise SendRejected(_bad_value(path, "type.googleapis.com/google.protobuf.Struct", value))
    elif spec == "map":
        _check_map(value, path)
    elif spec == "duration":
        if not isinstance(value, str) or not _DURATION.fullmatch(value):
            raise SendRejected(_bad_value(path, "type.googleapis.com/google.protobuf.Duration", value))
    elif spec in ("str_list", "duration_list"):
        if not isinstance(value, list):
            raise SendRejected(_bad_value(path, "TYPE_STRING", value))
        for index, item in enumerate(value):
            _check_value(item, "str" if spec == "str_list" else "duration", f"{path}[{index}]")


def _check_map(value: Any, path: str) -> None:
    if not isinstance(value, dict):
        raise SendRejected(_bad_value(path, "TYPE_MESSAGE", value))
    for index, item in enumerate(value.values()):
        if not isinstance(item, str):
            raise SendRejected(_bad_value(f"{path}[{index}].value", "TYPE_STRING", item))


def _check_target(message: dict[str, Any]) -> tuple[str, str]:
    present = [name for name in TARGETS if _field(message, name) not in (None, "")]
    if not present:
        raise SendRejected(fcm_error("INVALID_ARGUMENT", "Recipient of the message is not set.", field_path="message"))
    if len(present) > 1:
        raise SendRejected(invalid_json(
            f"Invalid JSON payload received. Oneof field 'target' is already set. Cannot set '{present[1]}'",
            explanation=f"message sets more than one target: {', '.join(present)}",
        ))
    target = present[0]
    value: str = _field(message, target)
    if target in ("token", "fid") and not _TOKEN.fullmatch(value):
        raise SendRejected(fcm_error(
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
            field_path=f"message.{target}",
            explanation=f"message.{target} {value!r} is not a registration token (empty, spaced, non-ASCII or too long)",
        ))
    if target == "topic" and not TOPIC_NAME.fullmatch(value):
        raise SendRejected(fcm_error(
            "INVALID_ARGUMENT",
            "Invalid topic name: it must match [a-zA-Z0-9-_.~%]{1,900}, without a /topics/ prefix.",
            field_path="message.topic",
        ))
    if target == "condition":
        try:
            parse_condition(value)
        except ConditionError as exc:
            raise SendRejected(fcm_error(
                "INVALID_ARGUMENT", f"Invalid condition expression provided: {exc}", field_path="message.condition"
            )) from None
    return target, value


def _check_data_keys(data: dict[str, str], path: str) -> None:
    for key in data:
        if key in RESERVED_DATA_KEYS or key.startswith(RESERVED_DATA_PREFIXES):
            raise SendRejected(fcm_error(
                "INVALID_ARGUMENT",
                f"Invalid data payload key: {key}",
                field_path=path,
                explanation=f"{path} uses the reserved key {key!r} (reserved: from, message_type, google.*, gcm.*)",
            ))


def _check_size(message: dict[str, Any], target: str) -> None:
    # The emulator counts the UTF-8 bytes of every key and value of `message.data`; FCM does not
    # document its exact accounting, so this is a close approximation of its limit.
    data = _field(message, "data") or {}
    size = sum(len(key.encode()) + len(value.encode()) for key, value in data.items())
    limit = MAX_TOPIC_PAYLOAD_BYTES if target in ("topic", "condition") else MAX_PAYLOAD_BYTES
    if size > limit:
        raise SendRejected(bare_invalid_argument(
            f"message.data is {size} bytes (keys and values); FCM's limit is {limit} bytes"
            + (" for topic messages" if limit == MAX_TOPIC_PAYLOAD_BYTES else "")
        ))


def _duration_seconds(text: str) -> float:
    match = _DURATION.fullmatch(text)
    return float(match.group(1)) if match else 0.0


def _bad_value(path: str, type_name: str, value: Any) -> FcmRejection:
    message = f"Invalid value at '{path}' ({type_name}), {_render(value)}"
    details = ({"@type": BAD_REQUEST_TYPE, "fieldViolations": [{"field": path, "description": message}]},)
    return FcmRejection(400, "INVALID_ARGUMENT", message, "INVALID_ARGUMENT", details, message)


def _render(value: Any) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= 80 else text[:77] + "..."
