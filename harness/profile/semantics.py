"""What the schema cannot say about a profile: placeholders, extractions across actions, cross-key rules.

Every rule comes from the action table (harness/profile/actions.py): a step may use only the user
variables of its row, the values the row receives and what its own earlier steps extracted; each
row must extract its `must_extract` values; a received value that another action extracts must be
extracted there. One message per problem, each starting with its key path.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping
from typing import Any

from harness.contract import load_contract
from harness.profile import schema_errors
from harness.profile.actions import ACTIONS, GAMES_SECTION, NEW_USER, ActionSpec, action_named, game_verb_for
from harness.templating import malformed, placeholders

__all__ = ["USER_ATTRIBUTES", "USER_VARIABLES", "contract_game_transitions", "declared_steps", "semantic_errors",
           "step_key_path"]

USER_ATTRIBUTES = ("id", "token", "name", "label")
USER_VARIABLES = ("actor", "user", "other")
_TEMPLATED_KEYS = ("path", "url", "query", "headers", "json")
_CONNECTION_VARIABLES = frozenset({"token", "actor", "user", "name"})  # auth.format, websocket.url/headers


@functools.cache
def contract_game_transitions() -> frozenset[tuple[str, str]]:
    """The game-session state graph of the contract (rules.json), without the creation edge."""
    game = next(family for family in load_contract().families if family.name == "game-session")
    return frozenset((t["from"], t["to"]) for t in game.transitions if t["from"] is not None)


def declared_steps(document: Mapping[str, Any], spec: ActionSpec) -> list[Mapping[str, Any]] | None:
    """The raw steps of one table row in a (schema-valid) profile document, or None when not declared."""
    if spec.name == "users.create":
        return list(document["users"]["create"])
    if spec.name == "devices.register":
        return document.get("devices", {}).get("register")
    if spec.name == "presence.request":
        request = document.get("presence", {}).get("request")
        return None if request is None else [request]
    if spec.name == "games.lookup":
        return document.get("games", {}).get("lookup")
    if spec.section.startswith("security."):
        node: Any = document
        for key in spec.section.split("."):
            node = node.get(key) if isinstance(node, Mapping) else None
        return node
    return document.get("actions", {}).get(spec.name)


def step_key_path(spec: ActionSpec, index: int) -> str:
    return spec.section if spec.single_step else f"{spec.section}[{index}]"


def semantic_errors(document: Mapping[str, Any]) -> Iterator[str]:
    yield from _non_finite(document)
    declared = {spec.name: steps for spec in ACTIONS if (steps := declared_steps(document, spec)) is not None}
    extracted = {name: {key for step in steps for key in step.get("extract", {})} for name, steps in declared.items()}
    for spec in ACTIONS:
        if spec.name in declared:
            yield from _row_errors(spec, declared[spec.name], extracted, "games" in document)
    auth = document["auth"]
    if "format" in auth:
        yield from _placeholder_errors("auth.format", auth["format"], _CONNECTION_VARIABLES)
    websocket = document["websocket"]
    for key in ("url", "headers"):
        yield from _placeholder_errors(f"websocket.{key}", websocket[key], _CONNECTION_VARIABLES)
    if websocket["framing"] == "actioncable" and "identifier" not in websocket:
        yield "websocket.identifier: required with framing actioncable (e.g. identifier: {channel: NotificationsChannel})"
    if websocket["framing"] == "plain" and "identifier" in websocket:
        yield "websocket.identifier: only used with framing actioncable"
    yield from _transition_errors(document)
    tokens = document.get("security", {}).get("tokens", {})
    if "revoke" in tokens and "issue" not in tokens:
        yield ("security.tokens.revoke: needs security.tokens.issue too (the harness revokes a second token of a "
               "user, so that the user's first token keeps proving what still arrives)")


def _row_errors(spec: ActionSpec, steps: list[Mapping[str, Any]], extracted: Mapping[str, set[str]],
                has_games: bool) -> Iterator[str]:
    seen: set[str] = set()  # extracted by this row's earlier steps
    for index, step in enumerate(steps):
        where = step_key_path(spec, index)
        known = {*spec.user_variables, *spec.receives, *seen}
        for key in _TEMPLATED_KEYS:
            if key in step:
                yield from _placeholder_errors(f"{where}.{key}", step[key], known)
                yield from _source_errors(f"{where}.{key}", step[key], spec, seen, extracted, has_games)
        if spec.users == NEW_USER and step["auth"] and "token" not in seen:
            yield f"{where}.auth: no user token is known yet at this step; set auth: false"
        seen.update(step.get("extract", {}))
    for name in spec.must_extract:
        if name in seen:
            continue
        if spec.name == "users.create":
            yield (f"users.create: no step extracts {name} (every user needs an id and a token; "
                   f"add e.g. extract: {{{name}: /{name}}})")
        else:
            yield (f"{spec.section}: no step extracts {name} ({spec.name} must extract {', '.join(spec.must_extract)}; "
                   f"add e.g. extract: {{{name}: /id}})")


def _source_errors(where: str, value: Any, spec: ActionSpec, seen: set[str], extracted: Mapping[str, set[str]],
                   has_games: bool) -> Iterator[str]:
    """A received value nobody supplies: its source action extracts no such value, or there is no games section."""
    for at, text in _strings(where, value):
        yield from _unsupplied(at, text, spec, seen, extracted, has_games)


def _unsupplied(where: str, text: str, spec: ActionSpec, seen: set[str], extracted: Mapping[str, set[str]],
                has_games: bool) -> Iterator[str]:
    for name in dict.fromkeys(p.split(".")[0] for p in placeholders(text)):
        sources = spec.sources.get(name, ())
        if not sources or name in seen:
            continue

        def supplies(source: str) -> bool:
            return has_games if source == GAMES_SECTION else name in extracted.get(source, set())

        if any(supplies(source) for source in sources):
            continue
        declared = [s for s in sources if s != GAMES_SECTION and s in extracted]
        if any(name in action_named(s).must_extract for s in declared):
            continue  # that action's own "no step extracts" line says it
        if GAMES_SECTION in sources:
            if declared:
                yield (f"{where}: {{{{{name}}}}} comes from the games section or from {' or '.join(declared)}'s extraction, "
                       f"and the profile has neither (add games: {{game_id: 42}}, or extract: {{{name}: /{name}}} in {declared[0]})")
            else:
                yield (f"{where}: {{{{{name}}}}} comes from the games section, and the profile has none "
                       f"(add games: {{game_id: 42}} with an id of your catalogue, or games: {{lookup: [...]}})")
        elif declared:
            yield (f"{where}: {{{{{name}}}}} is extracted by no step of {' or '.join(declared)} "
                   f"(add extract: {{{name}: /id}} there)")


def _transition_errors(document: Mapping[str, Any]) -> Iterator[str]:
    transitions = document.get("supports", {}).get("game_transitions")
    if not isinstance(transitions, list):
        return
    actions = document.get("actions", {})
    graph = contract_game_transitions()
    for index, text in enumerate(transitions):
        edge = tuple(text.split("->"))
        if edge not in graph:
            allowed = ", ".join(f"{a}->{b}" for a, b in sorted(graph))
            yield f"supports.game_transitions[{index}]: {text!r} is not a transition of the contract (allowed: {allowed})"
            continue
        verb = game_verb_for(edge[1])
        if verb not in actions and "game.transition" not in actions:
            needs = f"actions.{verb} or actions.game.transition" if verb else "actions.game.transition"
            yield f"supports.game_transitions[{index}]: {text!r} needs {needs}, and the profile declares neither"


def _placeholder_errors(where: str, value: Any, known: set[str] | frozenset[str]) -> Iterator[str]:
    """Unknown or malformed placeholders in one templated value, each at its own key path."""
    for at, text in _strings(where, value):
        broken = malformed(text)
        if broken is not None:
            yield f"{at}: malformed placeholder near {broken!r} (use {{{{name}}}} or {{{{user.id}}}})"
        for name in placeholders(text):
            root, *attributes = name.split(".")
            if root not in known:
                yield f"{at}: unknown placeholder {{{{{name}}}}} (known here: {', '.join(sorted(known))})"
            elif root in USER_VARIABLES and (len(attributes) != 1 or attributes[0] not in USER_ATTRIBUTES):
                choices = ", ".join(f"{root}.{a}" for a in USER_ATTRIBUTES)
                yield f"{at}: placeholder {{{{{name}}}}} must name one attribute of the user: {choices}"


def _strings(where: str, value: Any) -> Iterator[tuple[str, str]]:
    """(key path, string) for every string in a templated value: `json.friend_id`, `json.ids[0]`."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(f"{where}.{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(f"{where}[{index}]", item)
    elif isinstance(value, str):
        yield where, value


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
