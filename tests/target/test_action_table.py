"""The action table decides what a profile's steps may use and must extract; the schema is generated from it."""
from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness.contract import data_dir
from harness.profile import ACTION_DEFAULTS, ACTION_PARAMS, ProfileError, load_profile, profile_schema
from harness.profile.actions import ACTIONS, GAMES_SECTION, abstract_actions, action_named, game_verb_for
from harness.profile.schema_file import format_json, generated_text
from harness.profile.semantics import contract_game_transitions

BASE: dict[str, Any] = {
    "name": "t",
    "base_url": "http://127.0.0.1:9",
    "auth": {"header": "Authorization", "format": "Bearer {{token}}"},
    "users": {"create": [{"method": "POST", "path": "/users", "auth": False, "extract": {"id": "/id", "token": "/token"}}]},
    "websocket": {"url": "/ws?token={{token}}"},
    "actions": {},
}


def problems(**actions: Any) -> list[str]:
    """The profile errors of BASE with these actions (`friendship_request=[...]`) and top-level keys (`top_games=...`)."""
    document = copy.deepcopy(BASE)
    for key, value in actions.items():
        if key.startswith("top_"):
            document[key[4:]] = value
        else:
            document["actions"][key.replace("_", ".", 1)] = value
    try:
        load_profile(json.dumps(document) + "\n")
    except ProfileError as error:
        return [line.removeprefix("<profile>: ") for line in str(error).splitlines()]
    return []


def step(path: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"method": "POST", "path": path, **extra}]


# -- the table ---------------------------------------------------------------------------------


def test_the_table_lists_every_action_once_and_says_what_the_suite_passes() -> None:
    names = [spec.name for spec in ACTIONS]
    assert len(names) == len(set(names))
    assert names[:4] == ["users.create", "devices.register", "presence.request", "games.lookup"]
    assert dict(ACTION_PARAMS) == {spec.name: spec.receives for spec in abstract_actions()}
    assert ACTION_PARAMS["friendship.accept"] == ("friendship_id",)
    assert ACTION_PARAMS["game.create"] == ("game_id", "game_level", "scheduled_at")
    for verb in ("accept", "reject", "start", "finish", "cancel", "resume", "transition"):
        assert ACTION_PARAMS[f"game.{verb}"] == ("session_id", "game_id", "game_level", "scheduled_at", "state", "from_state")
    assert ACTION_PARAMS["call.accept"] == ("call_id", "call_session_id") and ACTION_PARAMS["call.schedule"] == ("scheduled_at",)
    assert action_named("users.create").must_extract == ("id", "token")
    assert action_named("game.create").must_extract == ("session_id",) and action_named("game.create").may_extract == ("game_id",)
    assert action_named("chat.post").must_extract == ("thread_id",)
    assert action_named("friendship.request").may_extract == ("friendship_id",)
    assert action_named("game.create").sources["game_id"] == (GAMES_SECTION,)
    assert "game_id" not in ACTION_DEFAULTS["game.create"], "the game id comes from the profile, never a default"


def test_every_state_of_the_graph_but_requested_has_its_verb() -> None:
    states = {to for _, to in contract_game_transitions()}
    assert {state: game_verb_for(state) for state in states} == {
        "accepted": "game.accept", "rejected": "game.reject", "started": "game.start", "finished": "game.finish",
        "canceled": "game.cancel", "resumed": "game.resume"}
    assert game_verb_for("requested") is None


def test_every_source_of_a_received_value_extracts_it() -> None:
    """The table is consistent: a value said to come from action X is one X must or may extract."""
    for spec in ACTIONS:
        assert set(spec.sources) <= set(spec.receives), spec.name
        for name, sources in spec.sources.items():
            for source in sources:
                if source != GAMES_SECTION:
                    giver = action_named(source)
                    assert name in giver.must_extract + giver.may_extract, (spec.name, name, source)


# -- the generated schema ------------------------------------------------------------------------


def test_the_committed_schema_is_the_generated_one() -> None:
    committed = data_dir("schemas") / "profile.schema.json"
    assert committed.read_text(encoding="utf-8") == generated_text(), "run `b4a docs` to regenerate schemas/profile.schema.json"


def test_the_actions_part_names_every_action_and_what_it_gets_and_gives() -> None:
    schema = profile_schema()
    Draft202012Validator.check_schema(schema)
    actions = schema["properties"]["actions"]["properties"]
    assert list(actions) == [spec.name for spec in abstract_actions()]
    assert actions["friendship.accept"]["description"] == (
        "The actor accepts the request {{other}} sent. Receives {{friendship_id}} (from friendship.request).")
    assert "Must extract session_id. May extract game_id." in actions["game.create"]["description"]
    assert "{{game_id}} (from the games section)" in actions["game.create"]["description"]
    assert "Must extract thread_id." in actions["chat.post"]["description"]


def test_every_key_of_the_schema_is_described() -> None:
    """docs/profile.md lists every key with its description: none may be missing."""
    missing = []

    def walk(node: dict[str, Any], path: str) -> None:
        for key, sub in node.get("properties", {}).items():
            if "description" not in sub:
                missing.append(f"{path}{key}")
            walk(sub, f"{path}{key}.")

    schema = profile_schema()
    walk(schema, "")
    walk(schema["$defs"]["step"], "step.")
    assert missing == []


def test_format_json_keeps_short_containers_on_one_line() -> None:
    assert format_json({"a": [1, 2], "b": {"c": None}}) == '{"a": [1, 2], "b": {"c": null}}'
    long = {"k": ["x" * 60, "y" * 60]}
    assert format_json(long) == '{\n  "k": [\n    "' + "x" * 60 + '",\n    "' + "y" * 60 + '"\n  ]\n}'
    described = {"description": "d", "type": "string"}
    assert format_json({"p": described}) == '{\n  "p": {\n    "description": "d",\n    "type": "string"\n  }\n}'
    assert json.loads(format_json(profile_schema())) == profile_schema()


# -- load-time checks from the table -------------------------------------------------------------


def test_a_value_extracted_by_another_action_is_not_a_placeholder_here() -> None:
    """Before: any value extracted anywhere was accepted. Now only what the action receives."""
    found = problems(chat_post=step("/t", extract={"thread_id": "/id"}),
                     friendship_accept=step("/threads/{{thread_id}}"))
    assert found == ["actions.friendship.accept[0].path: unknown placeholder {{thread_id}} "
                     "(known here: actor, friendship_id, name, other, token, user)"]


def test_a_received_value_its_source_does_not_extract() -> None:
    found = problems(friendship_request=step("/friendships", json={"to": "{{other.id}}"}),
                     friendship_accept=step("/friendships/{{friendship_id}}/accept"))
    assert found == ["actions.friendship.accept[0].path: {{friendship_id}} is extracted by no step of "
                     "friendship.request (add extract: {friendship_id: /id} there)"]
    # an API that accepts by the other user's id needs no friendship id at all
    assert problems(friendship_request=step("/friendships", json={"to": "{{other.id}}"}),
                    friendship_accept=step("/users/{{other.id}}/friendship/accept")) == []
    # without friendship.request its checks SKIP: nothing to complain about
    assert problems(friendship_accept=step("/friendships/{{friendship_id}}/accept")) == []


def test_required_extractions() -> None:
    assert problems(game_create=step("/games", json={"with": "{{other.id}}"}), chat_post=step("/c", json={"t": "{{text}}"})) == [
        "actions.game.create: no step extracts session_id (game.create must extract session_id; add e.g. extract: {session_id: /id})",
        "actions.chat.post: no step extracts thread_id (chat.post must extract thread_id; add e.g. extract: {thread_id: /id})",
    ]
    assert problems(call_schedule=step("/calls", extract={"call_id": "/id"})) == [
        "actions.call.schedule: no step extracts call_session_id (call.schedule must extract call_id, call_session_id; "
        "add e.g. extract: {call_session_id: /id})"]
    # a required value missing at its source is said once, there, not again at every user of it
    assert problems(call_request=step("/calls", extract={"call_id": "/id"}),
                    call_accept=step("/calls/{{call_id}}/{{call_session_id}}")) == [
        "actions.call.request: no step extracts call_session_id (call.request must extract call_id, call_session_id; "
        "add e.g. extract: {call_session_id: /id})"]
    assert problems(top_games={"lookup": step("/games")}) == [
        "games.lookup: no step extracts game_id (games.lookup must extract game_id; add e.g. extract: {game_id: /id})"]


def test_game_id_needs_a_games_section() -> None:
    create = step("/sessions", json={"game": {"id": "{{game_id}}"}}, extract={"session_id": "/id"})
    assert problems(game_create=create) == [
        "actions.game.create[0].json.game.id: {{game_id}} comes from the games section, and the profile has none "
        "(add games: {game_id: 42} with an id of your catalogue, or games: {lookup: [...]})"]
    assert problems(game_create=create, top_games={"game_id": "g-42"}) == []
    assert problems(game_create=create, top_games={"lookup": step("/games", extract={"game_id": "/0/id"})}) == []
    # a move may use the session's game id: from the games section, or from game.create's extraction
    moves = step("/games/{{game_id}}/sessions/{{session_id}}/start")
    plain_create = step("/sessions", extract={"session_id": "/id"})
    assert problems(game_create=plain_create, game_start=moves) == [
        "actions.game.start[0].path: {{game_id}} comes from the games section or from game.create's extraction, and the "
        "profile has neither (add games: {game_id: 42}, or extract: {game_id: /game_id} in game.create)"]
    assert problems(game_create=step("/sessions", extract={"session_id": "/id", "game_id": "/game_id"}), game_start=moves) == []


def test_game_create_may_pick_the_game_itself_in_an_earlier_step() -> None:
    steps = [{"method": "GET", "path": "/games", "extract": {"game_id": "/0/id"}},
             {"method": "POST", "path": "/games/{{game_id}}/sessions", "extract": {"session_id": "/id"}}]
    assert problems(game_create=steps) == []


def test_a_lookup_runs_as_a_user_and_may_use_only_its_own_values() -> None:
    assert problems(top_games={"lookup": step("/users/{{user.id}}/games", extract={"game_id": "/0"})}) == []
    assert problems(top_games={"lookup": step("/games/{{other.id}}", extract={"game_id": "/0"})}) == [
        "games.lookup[0].path: unknown placeholder {{other.id}} (known here: actor, name, token, user)"]


@pytest.mark.parametrize("verb", ["accept", "reject", "start", "finish", "cancel", "resume"])
def test_each_move_receives_the_session_and_its_states(verb: str) -> None:
    moves = step("/s/{{session_id}}/" + verb, json={"from": "{{from_state}}", "to": "{{state}}", "lvl": "{{game_level}}"})
    assert problems(**{f"game_{verb}": moves}) == []
    assert problems(**{f"game_{verb}": step("/s/{{thread_id}}")})[0].startswith(
        f"actions.game.{verb}[0].path: unknown placeholder {{{{thread_id}}}} (known here: actor, from_state, game_id, ")


def test_listed_transitions_need_their_action() -> None:
    start = step("/s/{{session_id}}/start")
    assert problems(game_start=start, top_supports={"game_transitions": ["accepted->started", "requested->accepted"]}) == [
        "supports.game_transitions[1]: 'requested->accepted' needs actions.game.accept or actions.game.transition, "
        "and the profile declares neither"]
    assert problems(game_start=start, top_supports={"game_transitions": ["accepted->started"]}) == []
    generic = step("/s/{{session_id}}", json={"state": "{{state}}"})
    assert problems(game_transition=generic, top_supports={"game_transitions": ["requested->accepted"]}) == []


def test_the_default_transitions_are_what_the_declared_actions_allow() -> None:
    document = copy.deepcopy(BASE)
    document["actions"]["game.start"] = step("/s/{{session_id}}/start")
    profile = load_profile(json.dumps(document) + "\n")
    assert profile.game_transitions is None and "supports" not in document
    assert "game_transitions" not in profile.document["supports"], "no default is written in: it depends on the actions"
