"""Target profiles: load the YAML, interpolate the environment, validate, and build `Profile`."""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from harness.profile import schema_errors
from harness.profile.actions import abstract_actions
from harness.profile.schema_file import generated_schema
from harness.profile.semantics import contract_game_transitions, semantic_errors

__all__ = ["ACTION_DEFAULTS", "ACTION_PARAMS", "Auth", "Games", "Presence", "Profile", "ProfileError", "Security", "Step",
           "WebSocketSpec", "contract_game_transitions", "load_profile", "profile_schema"]

# The parameters each abstract action receives from the checks (besides actor, other, token, name),
# so a profile may use them as placeholders. Derived from the table in harness/profile/actions.py.
ACTION_PARAMS: Mapping[str, tuple[str, ...]] = MappingProxyType({spec.name: spec.receives for spec in abstract_actions()})
# Optional fields of the contract get these values when a check does not care about them. The game id
# is no default: it comes from the profile's games section (Target.game_id()).
ACTION_DEFAULTS: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    "game.create": MappingProxyType({"game_level": 0, "scheduled_at": None}),
})

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
class Games:
    """Where {{game_id}} comes from: a fixed catalogue id, or steps that look one up (run once per Target)."""
    game_id: Any  # int or str; None when looked up
    lookup: tuple[Step, ...] | None


@dataclasses.dataclass(frozen=True)
class Security:
    """The profile's `security` section: what the SEC checks need (None: not declared, they SKIP)."""
    issue_token: tuple[Step, ...] | None  # a second token of the acting user
    expired_token: tuple[Step, ...] | None  # a token of the acting user that has expired
    revoke_token: tuple[Step, ...] | None  # revoke the token the steps authenticate with
    allowed_origins: tuple[str, ...] | None  # browser origins the WebSocket endpoint accepts

    def steps(self, name: str) -> tuple[Step, ...] | None:
        """`security.tokens.issue` -> its steps (the action table's name for the section)."""
        return {"security.tokens.issue": self.issue_token, "security.tokens.expired": self.expired_token,
                "security.tokens.revoke": self.revoke_token}.get(name)


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
    games: Games | None
    actions: Mapping[str, tuple[Step, ...]]
    # None: every transition of the contract's graph that a declared action can drive
    game_transitions: frozenset[tuple[str, str]] | None
    document: Mapping[str, Any]  # the validated profile with defaults, for reports
    #: `load`: latency budgets of `b4a load` (p99_ms, push_p99_ms...), milliseconds; empty: none
    load_budgets: Mapping[str, float] = dataclasses.field(default_factory=dict)
    security: Security = Security(None, None, None, None)


@functools.cache
def profile_schema() -> dict[str, Any]:
    """schemas/profile.schema.json with its `actions` part from the action table (see schema_file)."""
    return generated_schema()


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(profile_schema())


def load_profile(path_or_text: str | Path, *, overrides: dict[str, Any] | None = None) -> Profile:
    """Load a profile from a file (a Path, or a str without a newline) or from YAML text.

    `overrides` replace top-level keys (None values are ignored), e.g. {"base_url": args.base_url}.
    An overridden key is not interpolated: `--base-url` wins over `${VAR}` even when VAR is unset.
    Raises ProfileError listing every problem found.
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
    replaced = {key: value for key, value in (overrides or {}).items() if value is not None}
    env_errors: list[str] = []
    document = {key: value if key in replaced else _interpolate(value, (key,), env_errors) for key, value in document.items()}
    _fail(source, env_errors)
    document.update(replaced)
    schema = profile_schema()
    _fail(source, schema_errors.messages(_validator(), document))
    document = _with_defaults(document, schema, schema)
    _fail(source, list(semantic_errors(document)))
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
    transitions = document["supports"].get("game_transitions", "all")
    games = document.get("games")
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
        games=None if games is None else Games(
            game_id=games.get("game_id"),
            lookup=steps("games.lookup", games["lookup"]) if "lookup" in games else None,
        ),
        actions={name: steps(f"actions.{name}", raw) for name, raw in document["actions"].items()},
        game_transitions=None if transitions == "all" else frozenset(tuple(t.split("->")) for t in transitions),  # type: ignore[misc]
        document=document,
        load_budgets={key: float(value) for key, value in document.get("load", {}).items()},
        security=_security(document.get("security", {}), steps),
    )


def _security(section: Mapping[str, Any], steps: Any) -> Security:
    tokens = section.get("tokens", {})

    def listed(name: str) -> tuple[Step, ...] | None:
        return steps(f"security.tokens.{name}", tokens[name]) if name in tokens else None

    origins = section.get("origins")
    return Security(listed("issue"), listed("expired"), listed("revoke"),
                    tuple(origins["allowed"]) if origins else None)
