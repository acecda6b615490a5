"""Target profiles: load the YAML, interpolate the environment, validate, and build `Profile`."""
from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from harness.profile import schema_errors
from harness.contract import data_dir, load_contract
from harness.templating import malformed, placeholders

__all__ = ["ACTION_DEFAULTS", "ACTION_PARAMS", "Auth", "Presence", "Profile", "ProfileError", "Step",
           "WebSocketSpec", "contract_game_transitions", "load_profile", "profile_schema"]

# The parameters each abstract action receives from the checks (besides actor, other, token, name),
# so a profile may use them as placeholders; the checks pass values extracted earlier, too.
ACTION_PARAMS: Mapping[str, tuple[str, ...]] = {
    "friendship.request": (),
    "friendship.cancel": ("friendship_id",),
    "friendship.accept": ("friendship_id",),
    "friendship.reject": ("friendship_id",),
    "friendship.terminate": ("friendship_id",),
    "game.create": ("game_id", "game_level", "scheduled_at"),
    "game.transition": ("session_id", "state", "from_state", "game_level"),
    "chat.post": ("text",),
    "call.request": (),
    "call.accept": ("call_id", "call_session_id"),
    "call.reject": ("call_id", "call_session_id"),
    "call.terminate": ("call_id", "call_session_id"),
    "call.schedule": ("scheduled_at",),
}
# Optional fields of the contract get these values when a check does not care about them.
ACTION_DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    "game.create": {"game_id": 1, "game_level": 0, "scheduled_at": None},
}
USER_ATTRIBUTES = ("id", "token", "name", "label")
USER_VARIABLES = ("actor", "user", "other")


class ProfileError(Exception):
    """The profile cannot be used; str() names the file, the key path and the problem (one line each)."""


@dataclasses.dataclass(frozen=True)
class Step:
    where: str  # its key path in the profile, e.g. "actions.chat.post[1]", for messages
    method: str
    path: str | None
    url: str | None
    query: Mapping[str, Any]
    headers: Mapping[str, str]
    has_json: bool
    json: Any
    auth: bool
    extract: Mapping[str, str]
    expect_status: tuple[int, ...] | None

    def accepts(self, status: int) -> bool:
        return status in self.expect_status if self.expect_status else 200 <= status < 300


@dataclasses.dataclass(frozen=True)
class Auth:
    header: str | None
    format: str
    query: str | None


@dataclasses.dataclass(frozen=True)
class Presence:
    request: Step | None
    online: str | None  # JSON pointer to a boolean in the presence response
    settle_seconds: float | None


@dataclasses.dataclass(frozen=True)
class WebSocketSpec:
    url: str
    framing: str  # "plain" | "actioncable"
    identifier: dict[str, Any] | str | None
    headers: Mapping[str, str]


@dataclasses.dataclass(frozen=True)
class Profile:
    source: str  # the file it came from, or "<profile>" for text
    name: str
    base_url: str
    http_seconds: float
    websocket_seconds: float
    push_seconds: float
    quiet_window_seconds: float
    ring_timeout_seconds: float
    auth: Auth
    create_user: tuple[Step, ...]
    register_device: tuple[Step, ...] | None
    presence: Presence | None
    websocket: WebSocketSpec
    fcm_mode: str
    actions: Mapping[str, tuple[Step, ...]]
    game_transitions: frozenset[tuple[str, str]] | None  # None: all of the contract's graph
    document: Mapping[str, Any]  # the validated profile with defaults, for reports


@functools.cache
def profile_schema() -> dict[str, Any]:
    return json.loads((data_dir("schemas") / "profile.schema.json").read_text(encoding="utf-8"))


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(profile_schema())


def load_profile(path_or_text: str | Path, *, overrides: dict[str, Any] | None = None) -> Profile:
    """Load a profile from a file (a Path, or a str without a newline) or from YAML text.

    `overrides` replace top-level keys after environment interpolation (None values are ignored),
    e.g. {"base_url": args.base_url}. Raises ProfileError listing every problem found.
    """
    if isinstance(path_or_text, Path) or "\n" not in path_or_text:
        source = str(path_or_text)
        try:
            text = Path(path_or_text).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            raise ProfileError(f"{source}: cannot read the profile: {reason}") from None
    else:
        source, text = "<profile>", path_or_text
    document = _parse_yaml(text, source)
    env_errors: list[str] = []
    document = _interpolate(document, (), env_errors)
    _fail(source, env_errors)
    for key, value in (overrides or {}).items():
        if value is not None:
            document[key] = value
    schema = profile_schema()
    _fail(source, schema_errors.messages(_validator(), document))
    document = _with_defaults(document, schema, schema)
    _fail(source, list(_semantic_errors(document)))
    return _build(document, source)


def _fail(source: str, problems: list[str]) -> None:
    if problems:
        raise ProfileError("\n".join(f"{source}: {p}" for p in problems))


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML (libyaml when present: ~19x faster here), duplicate keys refused, dates kept as strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.setdefault(key, key_node.start_mark.line + 1)
        except TypeError:
            raise yaml.constructor.ConstructorError(None, None, "a mapping key must be a plain value", key_node.start_mark) from None
        if first != key_node.start_mark.line + 1:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r} (first at line {first})", key_node.start_mark)
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _parse_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        document = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        kind = "YAML error" if isinstance(error, yaml.constructor.ConstructorError) else "YAML syntax error"
        problem = error.problem or error.context or "unreadable"
        raise ProfileError(f"{where}: {kind}: {problem}") from None
    except yaml.YAMLError as error:
        raise ProfileError(f"{source}: YAML error: {error}") from None
    if document is None:
        raise ProfileError(f"{source}: the profile is empty")
    if not isinstance(document, dict):
        raise ProfileError(f"{source}: expected a mapping of keys at the top level, got {schema_errors.kind(document)}")
    return document


_ENV = re.compile(r"\$\{([^}]*)\}")
_ENV_BODY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.S)


def _interpolate(value: Any, path: tuple[Any, ...], errors: list[str]) -> Any:
    """Resolve ${VAR} and ${VAR:-default} (used when VAR is unset or empty) in every string value."""
    if isinstance(value, dict):
        return {key: _interpolate(item, (*path, key), errors) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, (*path, index), errors) for index, item in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def substitute(match: re.Match[str]) -> str:
        body = _ENV_BODY.fullmatch(match.group(1))
        where = schema_errors.location(path)
        if not body:
            errors.append(f"{where}: malformed environment reference {match.group(0)!r} (use ${{VAR}} or ${{VAR:-default}})")
            return ""
        name, default = body.group(1), body.group(2)
        current = os.environ.get(name)
        if current:
            return current
        if default is not None:
            return default
        if current is None:
            errors.append(f"{where}: environment variable {name} is not set (set it, or give a default: ${{{name}:-value}})")
        return ""  # set but empty: shell semantics, an empty value is a value
    return _ENV.sub(substitute, value)


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:  # only local refs (#/$defs/...) exist in the profile schema
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _with_defaults(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """Fill in the schema's `default`s (the schema is the one place where defaults live)."""
    schema = _resolve(schema, root)
    if isinstance(value, dict):
        out = dict(value)
        properties = schema.get("properties", {})
        for key, sub in properties.items():
            if key not in out and "default" in sub:
                out[key] = json.loads(json.dumps(sub["default"]))
            if key in out:
                out[key] = _with_defaults(out[key], sub, root)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in out.keys() - properties.keys():
                out[key] = _with_defaults(out[key], extra, root)
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_with_defaults(item, schema["items"], root) for item in value]
    return value


def _steps(document: Mapping[str, Any]) -> Iterator[tuple[str, str | None, int, dict[str, Any]]]:
    """(section key path, action name or None, index, step) for every step in the profile."""
    for index, step in enumerate(document["users"]["create"]):
        yield "users.create", None, index, step
    for index, step in enumerate(document.get("devices", {}).get("register", ())):
        yield "devices.register", None, index, step
    if "request" in document.get("presence", {}):
        yield "presence.request", None, -1, document["presence"]["request"]
    for action, steps in document["actions"].items():
        for index, step in enumerate(steps):
            yield f"actions.{action}", action, index, step


def _known_variables(section: str, action: str | None, earlier: set[str], extracted_anywhere: set[str]) -> set[str]:
    if section == "users.create":
        return {"name"} | earlier
    known = {"actor", "user", "token", "name"} | earlier
    if section == "devices.register":
        return known | {"device_token"}
    if action is not None:
        return known | {"other"} | set(ACTION_PARAMS[action]) | extracted_anywhere
    return known


def _placeholder_errors(where: str, value: Any, known: set[str]) -> Iterator[str]:
    """Unknown or malformed placeholders in one templated value, each at its own key path."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _placeholder_errors(f"{where}.{key}", item, known)
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _placeholder_errors(f"{where}[{index}]", item, known)
        return
    if not isinstance(value, str):
        return
    broken = malformed(value)
    if broken is not None:
        yield f"{where}: malformed placeholder near {broken!r} (use {{{{name}}}} or {{{{user.id}}}})"
    for name in placeholders(value):
        root, *attributes = name.split(".")
        if root not in known:
            yield f"{where}: unknown placeholder {{{{{name}}}}} (known here: {', '.join(sorted(known))})"
        elif root in USER_VARIABLES and (len(attributes) != 1 or attributes[0] not in USER_ATTRIBUTES):
            choices = ", ".join(f"{root}.{a}" for a in USER_ATTRIBUTES)
            yield f"{where}: placeholder {{{{{name}}}}} must name one attribute of the user: {choices}"


def _non_finite(value: Any, path: tuple[Any, ...] = ()) -> Iterator[str]:
    """YAML has .nan and .inf; JSON and timeouts have no use for them (and NaN passes `minimum`)."""
    if isinstance(value, float) and not math.isfinite(value):
        yield f"{schema_errors.location(path)}: must be a finite number, got {value}"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, (*path, index))


def _semantic_errors(document: Mapping[str, Any]) -> Iterator[str]:
    """What the schema cannot say: placeholders, required extractions, cross-key rules."""
    yield from _non_finite(document)
    steps = list(_steps(document))
    extracted_anywhere = {name for _, action, _, step in steps if action for name in step.get("extract", {})}
    earlier: dict[str, set[str]] = {}
    for section, action, index, step in steps:
        where = section if index < 0 else f"{section}[{index}]"
        seen = earlier.setdefault(section, set())
        known = _known_variables(section, action, seen, extracted_anywhere)
        for key in ("path", "url", "query", "headers", "json"):
            if key in step:
                yield from _placeholder_errors(f"{where}.{key}", step[key], known)
        if section == "users.create" and step["auth"] and "token" not in seen:
            yield f"{where}.auth: no user token is known yet at this step; set auth: false"
        seen.update(step.get("extract", {}))
    created = earlier.get("users.create", set())
    for name in ("id", "token"):
        if name not in created:
            yield f"users.create: no step extracts {name} (every user needs an id and a token; add e.g. extract: {{{name}: /{name}}})"
    auth = document["auth"]
    if "format" in auth:
        yield from _placeholder_errors("auth.format", auth["format"], {"token", "actor", "user", "name"})
    websocket = document["websocket"]
    for key in ("url", "headers"):
        yield from _placeholder_errors(f"websocket.{key}", websocket[key], {"token", "actor", "user", "name"})
    if websocket["framing"] == "actioncable" and "identifier" not in websocket:
        yield "websocket.identifier: required with framing actioncable (e.g. identifier: {channel: NotificationsChannel})"
    if websocket["framing"] == "plain" and "identifier" in websocket:
        yield "websocket.identifier: only used with framing actioncable"
    transitions = document["supports"]["game_transitions"]
    if isinstance(transitions, list):
        graph = contract_game_transitions()
        for index, text in enumerate(transitions):
            if tuple(text.split("->")) not in graph:
                allowed = ", ".join(f"{a}->{b}" for a, b in sorted(graph))
                yield f"supports.game_transitions[{index}]: {text!r} is not a transition of the contract (allowed: {allowed})"


@functools.cache
def contract_game_transitions() -> frozenset[tuple[str, str]]:
    """The game-session state graph of the contract (rules.json), without the creation edge."""
    game = next(family for family in load_contract().families if family.name == "game-session")
    return frozenset((t["from"], t["to"]) for t in game.transitions if t["from"] is not None)


def _step(where: str, raw: Mapping[str, Any]) -> Step:
    return Step(
        where=where, method=raw["method"], path=raw.get("path"), url=raw.get("url"),
        query=dict(raw.get("query", {})), headers=dict(raw.get("headers", {})),
        has_json="json" in raw, json=raw.get("json"), auth=raw["auth"], extract=dict(raw.get("extract", {})),
        expect_status=tuple(raw["expect_status"]) if "expect_status" in raw else None,
    )


def _build(document: dict[str, Any], source: str) -> Profile:
    def steps(section: str, raw: list[Mapping[str, Any]]) -> tuple[Step, ...]:
        return tuple(_step(f"{section}[{index}]", step) for index, step in enumerate(raw))

    presence = document.get("presence")
    websocket = document["websocket"]
    transitions = document["supports"]["game_transitions"]
    return Profile(
        source=source,
        name=document["name"],
        base_url=document["base_url"].rstrip("/"),
        http_seconds=float(document["timeouts"]["http_seconds"]),
        websocket_seconds=float(document["deadlines"]["websocket_seconds"]),
        push_seconds=float(document["deadlines"]["push_seconds"]),
        quiet_window_seconds=float(document["quiet_window_seconds"]),
        ring_timeout_seconds=float(document["ring_timeout_seconds"]),
        auth=Auth(document["auth"].get("header"), document["auth"]["format"], document["auth"].get("query")),
        create_user=steps("users.create", document["users"]["create"]),
        register_device=steps("devices.register", document["devices"]["register"]) if "devices" in document else None,
        presence=None if presence is None else Presence(
            request=_step("presence.request", presence["request"]) if "request" in presence else None,
            online=presence.get("online"),
            settle_seconds=presence.get("settle_seconds"),
        ),
        websocket=WebSocketSpec(websocket["url"], websocket["framing"], websocket.get("identifier"), dict(websocket["headers"])),
        fcm_mode=document["fcm"]["mode"],
        actions={name: steps(f"actions.{name}", raw) for name, raw in document["actions"].items()},
        game_transitions=None if transitions == "all" else frozenset(tuple(t.split("->")) for t in transitions),  # type: ignore[misc]
        document=document,
    )
