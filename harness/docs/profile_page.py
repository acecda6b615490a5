"""What docs/profile.md shows, computed from the profile schema and the action table.

Every key comes from the schema's descriptions, every action row from harness/profile/actions.py,
and the worked example is a real profile, validated and rendered with the harness's own
templating and URL rules, so the page cannot drift from what `b4a run` does.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import quote

from harness.profile import load_profile, profile_schema
from harness.profile.actions import ACTIONS, PARAM_MEANINGS, USER_VARIABLE_MEANINGS, ActionSpec
from harness.profile.urls import api_url, websocket_url
from harness.templating import render_text, render_value

__all__ = ["PROFILE_PAGE", "profile_page_context"]

PROFILE_PAGE = "profile.md"


@dataclasses.dataclass(frozen=True)
class KeyRow:
    path: str
    type: str
    required: bool
    default: str
    description: str


@dataclasses.dataclass(frozen=True)
class ActionRow:
    name: str
    section: str
    description: str
    receives: str
    must_extract: str
    may_extract: str


@dataclasses.dataclass(frozen=True)
class TraceStep:
    """One thing the harness does in the worked example, and what it sends."""

    what: str
    request: str
    result: str


_REFS = {"#/$defs/steps": "list of steps", "#/$defs/step": "step", "#/$defs/pointer": "JSON pointer"}
_TYPES = {"object": "mapping", "array": "list", "string": "string", "number": "number", "integer": "integer",
          "boolean": "boolean", "null": "null"}


def _type_text(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return _REFS[schema["$ref"]]
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    kinds = schema.get("type")
    if kinds is None:
        return "any JSON"
    names = [_TYPES[kind] for kind in ([kinds] if isinstance(kinds, str) else kinds)]
    if "then" in schema and "const" in schema["then"]:  # supports.game_transitions: 'all' or a list
        names = [f"`{schema['then']['const']}`" if name == "string" else name for name in names]
    return " or ".join(names)


def _default_text(schema: dict[str, Any]) -> str:
    if "default" not in schema or isinstance(schema["default"], (dict, list)):
        return ""
    return f"`{json.dumps(schema['default'])}`"


def _rows(schema: dict[str, Any], prefix: str, skip: frozenset[str] = frozenset()) -> list[KeyRow]:
    rows = []
    required = set(schema.get("required", ()))
    for key, sub in schema.get("properties", {}).items():
        path = f"{prefix}{key}"
        if path in skip:
            continue
        rows.append(KeyRow(path, _type_text(sub), key in required, _default_text(sub), sub.get("description", "")))
        if "properties" in sub and "$ref" not in sub:
            rows.extend(_rows(sub, f"{path}.", skip))
    return rows


def _received_text(spec: ActionSpec) -> str:
    parts = []
    for name in spec.receives:
        source = spec.source_text(name)
        parts.append(f"`{{{{{name}}}}}`" + (f" from {source}" if source else ""))
    return ", ".join(parts) or "—"


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{name}`" for name in names) or "—"


def action_rows() -> tuple[ActionRow, ...]:
    return tuple(ActionRow(spec.name, spec.section, spec.description, _received_text(spec), _names(spec.must_extract),
                           _names(spec.may_extract)) for spec in ACTIONS)


EXAMPLE = """\
name: my-backend
base_url: https://api.example.test/api/v1
auth: {header: Authorization, format: "Bearer {{token}}"}
users:
  create:
    - {method: POST, path: /users, auth: false, json: {name: "{{name}}"}, extract: {id: /data/id, token: /data/token}}
websocket: {url: "/cable?token={{token}}", framing: actioncable, identifier: {channel: NotificationsChannel}}
games: {game_id: 3}
actions:
  friendship.request:
    - {method: POST, path: /friendships, json: {friend_id: "{{other.id}}"}, extract: {friendship_id: /data/id}}
  friendship.accept:
    - {method: PATCH, path: "/friendships/{{friendship_id}}", json: {status: accepted}}
  game.create:
    - method: POST
      path: /game_sessions
      json: {game_id: "{{game_id}}", partner_id: "{{other.id}}", game_level: "{{game_level}}", scheduled_at: "{{scheduled_at}}"}
      extract: {session_id: /data/id}
  game.start:
    - {method: POST, path: "/game_sessions/{{session_id}}/start"}
  game.transition:
    - {method: PATCH, path: "/game_sessions/{{session_id}}", json: {state: "{{state}}"}}
"""


@dataclasses.dataclass(frozen=True)
class _Person:
    """A user as templates see it (the same attributes as harness.target.User)."""

    label: str
    id: int
    token: str
    name: str


def _request(profile: Any, action: str, variables: dict[str, Any], index: int = 0) -> str:
    step = (profile.create_user if action == "users.create" else profile.actions[action])[index]
    url = api_url(profile.base_url, render_text(step.path, variables, encode=lambda value: quote(value, safe="-._~")))
    body = f" {json.dumps(render_value(step.json, variables))}" if step.has_json else ""
    return f"{step.method} {url}{body}"


def worked_example() -> tuple[TraceStep, ...]:
    profile = load_profile(EXAMPLE)  # a broken example fails `b4a docs` loudly, never a wrong page
    a = _Person("A", 41, "<A's token>", "A-1a2b3c4d")
    b = _Person("B", 42, "<B's token>", "B-5e6f7a8b")

    def acting(actor: _Person, other: _Person | None = None, **values: Any) -> dict[str, Any]:
        variables = {"actor": actor, "user": actor, "token": actor.token, "name": actor.name, **values}
        return {**variables, "other": other} if other else variables

    session = {"session_id": 5, "game_id": 3, "game_level": 0, "scheduled_at": None}
    ws = websocket_url(profile.base_url, render_text(profile.websocket.url, acting(a)))
    return (
        TraceStep("users.create for A ({{name}} is unique per user)", _request(profile, "users.create", {"name": a.name}),
                  'answer {"data": {"id": 41, "token": "..."}}: id = 41 and token are extracted (B likewise gets id 42)'),
        TraceStep("A's listener connects: the path joins the origin of base_url", f"GET {ws} (WebSocket upgrade)",
                  "then the ActionCable subscription to NotificationsChannel"),
        TraceStep("friendship.request by A, other B", _request(profile, "friendship.request", acting(a, b)),
                  'answer {"data": {"id": 17}}: friendship_id = 17; {{other.id}} alone in a JSON string stays an integer'),
        TraceStep("friendship.accept by B, other A, friendship_id 17",
                  _request(profile, "friendship.accept", acting(b, a, friendship_id=17)), "B's acceptance reaches A"),
        TraceStep("game.create by A, other B; game_id 3 from the games section, game_level 0, no schedule",
                  _request(profile, "game.create", acting(a, b, game_id=3, game_level=0, scheduled_at=None)),
                  'answer {"data": {"id": 5}}: session_id = 5'),
        TraceStep("B accepts: no game.accept is declared, so game.transition runs with state accepted",
                  _request(profile, "game.transition", acting(b, a, **session, state="accepted", from_state="requested")),
                  "both players receive the accepted notification"),
        TraceStep("A starts the game: game.start is declared, so it runs",
                  _request(profile, "game.start", acting(a, b, **session, state="started", from_state="accepted")),
                  "both players receive the started notification"),
    )


def profile_page_context() -> dict[str, Any]:
    schema = profile_schema()
    return {
        "schema": schema,
        "keys": _rows(schema, "", skip=frozenset(f"actions.{spec.name}" for spec in ACTIONS)),
        "step_keys": _rows(schema["$defs"]["step"], ""),
        "actions": action_rows(),
        "user_variables": tuple(USER_VARIABLE_MEANINGS.items()),
        "params": tuple((name, PARAM_MEANINGS[name]) for name in dict.fromkeys(
            name for spec in ACTIONS for name in (*spec.receives, *spec.must_extract, *spec.may_extract))),
        "example": EXAMPLE,
        "trace": worked_example(),
    }
