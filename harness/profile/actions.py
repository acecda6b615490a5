"""The one table of what each profile action receives and must extract.

Everything else is derived from it: `ACTION_PARAMS`, the load-time checks of placeholders and
extractions, the `actions` part of schemas/profile.schema.json, docs/profile.md and the summary
of `b4a profile check`. Adding an action means adding one row here and running `b4a docs`.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = ["ACTING", "ACTIONS", "ActionSpec", "GAMES_SECTION", "NEW_USER", "PAIR", "PARAM_MEANINGS", "USER_VARIABLE_MEANINGS",
           "abstract_actions", "action_named", "actions_schema", "describe", "game_verb_for"]

#: The source name of values the `games:` section provides (a fixed id, or what games.lookup extracts).
GAMES_SECTION = "games"

#: What every placeholder a table row names stands for (docs, schema descriptions, `profile check`).
PARAM_MEANINGS: Mapping[str, str] = MappingProxyType({
    "name": "a unique name for the user being created (letters, digits, `-`)",
    "device_token": "the FCM registration token to register for the acting user",
    "friendship_id": "the friendship's id",
    "game_id": "the game's catalogue id (int or string, as the backend spells it)",
    "game_level": "the session's level, an integer (0 unless a check says otherwise)",
    "scheduled_at": "an RFC 3339 date-time string, or null for no schedule",
    "session_id": "the game session's id",
    "state": "the state the session moves to (accepted, started, ...)",
    "from_state": "the state the session is in before the move",
    "text": "the chat message's text",
    "thread_id": "the chat thread's id",
    "call_id": "the call's id",
    "call_session_id": "the call's session id (a string in the contract)",
    "id": "the new user's id",
    "token": "the new user's token (sent as auth says)",
})

#: The user placeholders: `{{actor.id}}`, `{{other.token}}`... and the acting user's shortcuts.
USER_VARIABLE_MEANINGS: Mapping[str, str] = MappingProxyType({
    "actor": "the acting user (attributes id, token, name, label)",
    "user": "the same as actor",
    "other": "the counterpart user of the action (same attributes)",
    "token": "the acting user's token",
    "name": "the acting user's name",
})

# Which user placeholders a row's steps may use.
NEW_USER = "new"  # users.create: only {{name}} (no token exists yet)
ACTING = "acting"  # actor/user/token/name
PAIR = "pair"  # actor/user/token/name and other


@dataclasses.dataclass(frozen=True)
class ActionSpec:
    """One row: a profile section or abstract action, what it gets and what it must give back."""

    name: str  # "friendship.accept", "users.create", ...
    section: str  # its key path in the profile: "actions.friendship.accept", "users.create"
    description: str  # what the steps must do, one sentence
    users: str  # NEW_USER, ACTING or PAIR
    receives: tuple[str, ...] = ()  # placeholders the harness passes, besides the user variables
    # received value -> where it comes from: earlier actions whose extraction supplies it, or GAMES_SECTION
    sources: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=lambda: MappingProxyType({}))
    must_extract: tuple[str, ...] = ()
    may_extract: tuple[str, ...] = ()
    to_state: str | None = None  # game.<verb>: the state it moves a session to
    single_step: bool = False  # presence.request is one step, not a list

    @property
    def is_abstract(self) -> bool:
        """An abstract action of the `actions:` section (what checks call through Target.act)."""
        return self.section.startswith("actions.")

    @property
    def user_variables(self) -> tuple[str, ...]:
        if self.users == NEW_USER:
            return ("name",)
        return ("actor", "user", "token", "name", "other") if self.users == PAIR else ("actor", "user", "token", "name")

    def source_text(self, param: str) -> str:
        """`friendship.request`, `the games section or game.create`: where a received value comes from."""
        names = ["the games section" if s == GAMES_SECTION else s for s in self.sources.get(param, ())]
        return " or ".join(names)


def _sources(**mapping: tuple[str, ...]) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType(mapping)


_FRIENDSHIP = _sources(friendship_id=("friendship.request",))
_CALL = _sources(call_id=("call.request", "call.schedule"), call_session_id=("call.request", "call.schedule"))
_GAME_MOVE_PARAMS = ("session_id", "game_id", "game_level", "scheduled_at", "state", "from_state")
_GAME_MOVE_SOURCES = _sources(session_id=("game.create",), game_id=(GAMES_SECTION, "game.create"))
_CALL_PARAMS = ("call_id", "call_session_id")


def _game_move(verb: str, state: str, what: str) -> ActionSpec:
    return ActionSpec(
        f"game.{verb}", f"actions.game.{verb}",
        f"{what} (the session moves to {state}). Declare it when your API has one endpoint per transition; "
        "otherwise game.transition is used.",
        PAIR, _GAME_MOVE_PARAMS, _GAME_MOVE_SOURCES, to_state=state)


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("users.create", "users.create",
               "Create a user named {{name}} (sign up, then sign in if the token comes from a second request).",
               NEW_USER, ("name",), must_extract=("id", "token")),
    ActionSpec("devices.register", "devices.register",
               "Register the FCM device token {{device_token}} for the acting user.",
               ACTING, ("device_token",)),
    ActionSpec("presence.request", "presence.request",
               "Ask whether {{user}} has an open WebSocket connection; presence.online points at the boolean answer.",
               ACTING, single_step=True),
    ActionSpec("games.lookup", "games.lookup",
               "Find a game id in the backend's catalogue; run once per run, as a user made by users.create.",
               ACTING, must_extract=("game_id",)),
    ActionSpec("friendship.request", "actions.friendship.request",
               "The actor sends {{other}} a friendship request.",
               PAIR, may_extract=("friendship_id",)),
    ActionSpec("friendship.cancel", "actions.friendship.cancel",
               "The actor withdraws the request it sent to {{other}}.", PAIR, ("friendship_id",), _FRIENDSHIP),
    ActionSpec("friendship.accept", "actions.friendship.accept",
               "The actor accepts the request {{other}} sent.", PAIR, ("friendship_id",), _FRIENDSHIP),
    ActionSpec("friendship.reject", "actions.friendship.reject",
               "The actor rejects the request {{other}} sent.", PAIR, ("friendship_id",), _FRIENDSHIP),
    ActionSpec("friendship.terminate", "actions.friendship.terminate",
               "The actor ends its friendship with {{other}}.", PAIR, ("friendship_id",), _FRIENDSHIP),
    ActionSpec("game.create", "actions.game.create",
               "The actor invites {{other}} to a game session (state requested).",
               PAIR, ("game_id", "game_level", "scheduled_at"), _sources(game_id=(GAMES_SECTION,)),
               must_extract=("session_id",), may_extract=("game_id",)),
    _game_move("accept", "accepted", "The partner accepts the invitation"),
    _game_move("reject", "rejected", "The partner rejects the invitation"),
    _game_move("start", "started", "A player starts the session"),
    _game_move("finish", "finished", "A player finishes the session"),
    _game_move("cancel", "canceled", "A player cancels the session"),
    _game_move("resume", "resumed", "A player resumes the finished session"),
    ActionSpec("game.transition", "actions.game.transition",
               "Any move of a session to {{state}} (one endpoint taking the state, e.g. PATCH with the state); "
               "used for every transition whose own action (game.accept, game.start, ...) is not declared.",
               PAIR, _GAME_MOVE_PARAMS, _GAME_MOVE_SOURCES),
    ActionSpec("chat.post", "actions.chat.post",
               "The actor posts {{text}} to its chat thread with {{other}} (open or find the thread first if needed).",
               PAIR, ("text",), must_extract=("thread_id",)),
    ActionSpec("call.request", "actions.call.request",
               "The actor calls {{other}} now.", PAIR, must_extract=_CALL_PARAMS),
    ActionSpec("call.accept", "actions.call.accept",
               "The actor answers the call {{other}} made.", PAIR, _CALL_PARAMS, _CALL),
    ActionSpec("call.reject", "actions.call.reject",
               "The actor declines the call {{other}} made.", PAIR, _CALL_PARAMS, _CALL),
    ActionSpec("call.terminate", "actions.call.terminate",
               "The actor hangs up the call.", PAIR, _CALL_PARAMS, _CALL),
    ActionSpec("call.schedule", "actions.call.schedule",
               "The actor schedules a call with {{other}} at {{scheduled_at}}.",
               PAIR, ("scheduled_at",), must_extract=_CALL_PARAMS),
    # What the security checks (SEC rules) need: without them, the checks of revoked and expired
    # tokens SKIP.
    ActionSpec("security.tokens.issue", "security.tokens.issue",
               "Sign the acting user in once more: a second valid token of the same user (another device's sign-in).",
               ACTING, must_extract=("token",)),
    ActionSpec("security.tokens.expired", "security.tokens.expired",
               "Obtain a token of the acting user that has already expired (a sign-in with a lifetime of 0 s, "
               "or a fixed expired JWT of that user).",
               ACTING, must_extract=("token",)),
    ActionSpec("security.tokens.revoke", "security.tokens.revoke",
               "Revoke {{token}}, the token these steps authenticate with (sign out, or rotate it away); the "
               "harness runs them with a second token of the acting user, from security.tokens.issue.",
               ACTING),
)

_BY_NAME = {spec.name: spec for spec in ACTIONS}
_BY_STATE = {spec.to_state: spec.name for spec in ACTIONS if spec.to_state}


def action_named(name: str) -> ActionSpec:
    return _BY_NAME[name]


def abstract_actions() -> tuple[ActionSpec, ...]:
    """The rows of the `actions:` section, in table order."""
    return tuple(spec for spec in ACTIONS if spec.is_abstract)


def game_verb_for(to_state: str) -> str | None:
    """`game.start` for `started`; None for a state no verb action moves to."""
    return _BY_STATE.get(to_state)


def describe(spec: ActionSpec) -> str:
    """The schema's description of an action: what it does, receives and extracts."""
    parts = [spec.description]
    if spec.receives:
        received = []
        for name in spec.receives:
            source = spec.source_text(name)
            received.append(f"{{{{{name}}}}} (from {source})" if source else f"{{{{{name}}}}}")
        parts.append(f"Receives {', '.join(received)}.")
    if spec.must_extract:
        parts.append(f"Must extract {', '.join(spec.must_extract)}.")
    if spec.may_extract:
        parts.append(f"May extract {', '.join(spec.may_extract)}.")
    return " ".join(parts)


def actions_schema() -> dict[str, Any]:
    """The `actions` property of profile.schema.json, generated from the table."""
    return {
        "description": "Abstract action -> request steps. An action left out makes the checks that need it SKIP. "
                       "Every action may use {{actor}}/{{user}}, {{other}}, {{token}} and {{name}}, the values it "
                       "receives, and what its earlier steps extract.",
        "type": "object",
        "additionalProperties": False,
        "default": {},
        "properties": {
            spec.name: {"description": describe(spec), "$ref": "#/$defs/steps"} for spec in abstract_actions()
        },
    }
