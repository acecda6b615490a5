"""Every kind of profile mistake gives one exact line: file, key path, problem; never a traceback."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.profile import ProfileError, load_profile

BASE: dict[str, Any] = {
    "name": "t",
    "base_url": "http://127.0.0.1:9",
    "auth": {"header": "Authorization", "format": "Bearer {{token}}"},
    "users": {"create": [{"method": "POST", "path": "/users", "json": {"name": "{{name}}"}, "auth": False,
                          "extract": {"id": "/id", "token": "/token"}}]},
    "websocket": {"url": "/ws?token={{token}}"},
    "actions": {
        "friendship.request": [{"method": "POST", "path": "/friendships", "json": {"friend_id": "{{other.id}}"},
                                "extract": {"friendship_id": "/id"}}],
        "friendship.accept": [{"method": "POST", "path": "/friendships/{{friendship_id}}/accept"}],
    },
}


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False))
    return path


def error_of(tmp_path: Path, document: Any, **kwargs: Any) -> str:
    path = write(tmp_path, document)
    with pytest.raises(ProfileError) as caught:
        load_profile(path, **kwargs)
    message = str(caught.value)
    prefix = f"{path}: "
    assert all(line.startswith(str(path)) for line in message.splitlines()), message
    return message.replace(prefix, "profile.yaml: ").replace(f"{path}:", "profile.yaml:")


def changed(**edits: Any) -> dict[str, Any]:
    """BASE with dotted-path edits; a value of ... deletes the key."""
    document = copy.deepcopy(BASE)
    for dotted, value in edits.items():
        *parents, last = dotted.split("__")
        node: Any = document
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        if value is ...:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return document


def test_base_profile_is_valid(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, BASE))
    assert profile.name == "t" and profile.source == str(tmp_path / "profile.yaml")
    # defaults come from the schema
    assert (profile.http_seconds, profile.websocket_seconds, profile.push_seconds) == (10.0, 2.0, 5.0)
    assert profile.quiet_window_seconds == 0.5 and profile.fcm_mode == "proxy"
    assert profile.websocket.framing == "plain" and profile.game_transitions is None
    assert profile.actions["friendship.accept"][0].auth is True
    assert profile.register_device is None and profile.presence is None


def test_bad_method(tmp_path: Path) -> None:
    document = changed()
    document["actions"]["friendship.accept"][0]["method"] = "PUTT"
    assert error_of(tmp_path, document) == (
        "profile.yaml: actions.friendship.accept[0].method: 'PUTT' is not one of GET, POST, PUT, PATCH, DELETE")


def test_users_create_must_extract_id(tmp_path: Path) -> None:
    document = changed()
    del document["users"]["create"][0]["extract"]["id"]
    assert error_of(tmp_path, document) == (
        "profile.yaml: users.create: no step extracts id (every user needs an id and a token; "
        "add e.g. extract: {id: /id})")


def test_users_create_step_before_the_token_must_not_authenticate(tmp_path: Path) -> None:
    document = changed()
    del document["users"]["create"][0]["auth"]
    assert error_of(tmp_path, document) == (
        "profile.yaml: users.create[0].auth: no user token is known yet at this step; set auth: false")


def test_a_later_users_create_step_may_use_the_extracted_token(tmp_path: Path) -> None:
    document = changed()
    document["users"]["create"] = [
        {"method": "POST", "path": "/signup", "auth": False, "json": {"n": "{{name}}"}, "extract": {"token": "/t"}},
        {"method": "GET", "path": "/me", "extract": {"id": "/id"}},
    ]
    assert [s.auth for s in load_profile(write(tmp_path, document)).create_user] == [False, True]


def test_unknown_placeholder(tmp_path: Path) -> None:
    document = changed()
    document["actions"]["friendship.request"][0]["json"]["friend_id"] = "{{oter.id}}"
    assert error_of(tmp_path, document) == (
        "profile.yaml: actions.friendship.request[0].json.friend_id: unknown placeholder {{oter.id}} "
        "(known here: actor, name, other, token, user)")


def test_unknown_user_attribute(tmp_path: Path) -> None:
    document = changed()
    document["actions"]["friendship.request"][0]["path"] = "/users/{{other.idd}}/friend"
    assert error_of(tmp_path, document) == (
        "profile.yaml: actions.friendship.request[0].path: placeholder {{other.idd}} must name one attribute "
        "of the user: other.id, other.token, other.name, other.label")


def test_malformed_placeholder(tmp_path: Path) -> None:
    document = changed()
    document["actions"]["friendship.accept"][0]["path"] = "/friendships/{{friendship_id}/accept"
    assert error_of(tmp_path, document) == (
        "profile.yaml: actions.friendship.accept[0].path: malformed placeholder near "
        "'{{friendship_id}/accept' (use {{name}} or {{user.id}})")


def test_placeholders_of_earlier_steps_and_action_params_are_known(tmp_path: Path) -> None:
    document = changed()
    document["actions"]["chat.post"] = [
        {"method": "POST", "path": "/threads", "json": {"with": "{{other.id}}"}, "extract": {"thread_id": "/id"}},
        {"method": "POST", "path": "/threads/{{thread_id}}/messages", "json": {"text": "{{text}}"}},
    ]
    assert len(load_profile(write(tmp_path, document)).actions["chat.post"]) == 2
    document["actions"]["chat.post"][1]["json"]["text"] = "{{txt}}"
    assert "actions.chat.post[1].json.text: unknown placeholder {{txt}}" in error_of(tmp_path, document)


def test_unknown_top_level_key(tmp_path: Path) -> None:
    assert error_of(tmp_path, changed(deadline={"websocket_seconds": 1})) == (
        "profile.yaml: unknown top-level key 'deadline' (did you mean 'deadlines'? allowed: name, base_url, "
        "timeouts, deadlines, quiet_window_seconds, ring_timeout_seconds, load, auth, users, devices, presence, "
        "websocket, fcm, games, actions, supports, security)")


def test_unknown_action(tmp_path: Path) -> None:
    document = changed()
    document["actions"]["friendship.acept"] = document["actions"].pop("friendship.accept")
    message = error_of(tmp_path, document)
    assert message.startswith("profile.yaml: actions: unknown key 'friendship.acept' (did you mean 'friendship.accept'? allowed: ")


def test_missing_required_key(tmp_path: Path) -> None:
    assert error_of(tmp_path, changed(websocket=...)) == "profile.yaml: missing required top-level key 'websocket'"


def test_wrong_type(tmp_path: Path) -> None:
    assert error_of(tmp_path, changed(ring_timeout_seconds="1.0")) == (
        "profile.yaml: ring_timeout_seconds: expected a number, got a string '1.0'")
    assert error_of(tmp_path, changed(users__create={"method": "POST"})) == (
        "profile.yaml: users.create: expected a list, got a mapping")


def test_out_of_range_and_empty(tmp_path: Path) -> None:
    assert error_of(tmp_path, changed(deadlines={"push_seconds": 0})) == (
        "profile.yaml: deadlines.push_seconds: must be > 0, got 0")
    assert error_of(tmp_path, changed(actions={"chat.post": []})) == (
        "profile.yaml: actions.chat.post: must not be empty")


def test_non_finite_numbers(tmp_path: Path) -> None:
    text = yaml.safe_dump(changed(timeouts={"http_seconds": 1.5}), sort_keys=False).replace("1.5", ".nan")
    assert error_of(tmp_path, text) == "profile.yaml: timeouts.http_seconds: must be a finite number, got nan"


def test_pattern_errors_say_what_is_expected(tmp_path: Path) -> None:
    assert error_of(tmp_path, changed(base_url="127.0.0.1:8080")) == (
        "profile.yaml: base_url: '127.0.0.1:8080' is not an absolute http:// or https:// URL "
        "(the HTTP API base; step paths are appended to it, so it may carry a path such as /api/v1)")
    document = changed()
    document["actions"]["friendship.request"][0]["extract"]["friendship_id"] = "id"
    assert error_of(tmp_path, document) == (
        "profile.yaml: actions.friendship.request[0].extract.friendship_id: 'id' is not a JSON pointer "
        "such as /id or /data/token (empty for the whole body)")
    document = changed()
    document["actions"]["friendship.request"][0]["extract"] = {"friendship-id": "/id"}
    assert error_of(tmp_path, document) == (
        "profile.yaml: actions.friendship.request[0].extract: key 'friendship-id' is not a variable name "
        "(letters, digits and _, not starting with a digit)")


def test_exactly_one_of(tmp_path: Path) -> None:
    assert error_of(tmp_path, changed(auth={"header": "Authorization", "query": "access_token"})) == (
        "profile.yaml: auth: give only one of header or query, not header and query")
    assert error_of(tmp_path, changed(auth={})) == "profile.yaml: auth: needs header or query"
    assert error_of(tmp_path, changed(auth={"query": "access_token", "format": "Bearer {{token}}"})) == (
        "profile.yaml: auth: 'format' is only used together with 'header'")
    document = changed()
    document["actions"]["friendship.accept"][0]["url"] = "http://elsewhere/x"
    assert error_of(tmp_path, document) == (
        "profile.yaml: actions.friendship.accept[0]: give only one of path or url, not path and url")
    assert error_of(tmp_path, changed(presence={"request": {"method": "GET", "path": "/p"}})) == (
        "profile.yaml: presence: needs request + online or settle_seconds")


def test_actioncable_needs_an_identifier(tmp_path: Path) -> None:
    assert error_of(tmp_path, changed(websocket={"url": "/cable", "framing": "actioncable"})) == (
        "profile.yaml: websocket.identifier: required with framing actioncable "
        "(e.g. identifier: {channel: NotificationsChannel})")


def test_game_transitions(tmp_path: Path) -> None:
    def changed(**edits: Any) -> dict[str, Any]:  # BASE plus a generic game.transition action
        document = copy.deepcopy(BASE)
        document["actions"]["game.transition"] = [{"method": "POST", "path": "/s/{{session_id}}", "json": {"state": "{{state}}"}}]
        return {**document, **edits}

    assert error_of(tmp_path, changed(supports={"game_transitions": "some"})) == (
        "profile.yaml: supports.game_transitions: expected 'all', got 'some'")
    message = error_of(tmp_path, changed(supports={"game_transitions": ["requested->accepted", "finished->started"]}))
    assert message.startswith("profile.yaml: supports.game_transitions[1]: 'finished->started' is not a transition "
                              "of the contract (allowed: accepted->canceled, accepted->started, ")
    profile = load_profile(write(tmp_path, changed(supports={"game_transitions": ["requested->accepted"]})))
    assert profile.game_transitions == frozenset({("requested", "accepted")})


def test_several_mistakes_are_all_reported_one_per_line(tmp_path: Path) -> None:
    document = changed(name="", ring_timeout_seconds=-1)
    assert error_of(tmp_path, document).splitlines() == [
        "profile.yaml: name: must not be empty",
        "profile.yaml: ring_timeout_seconds: must be > 0, got -1",
    ]


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    text = "name: t\nbase_url: http://x\nauth:\n  header: [Authorization\nusers: {}\n"
    message = error_of(tmp_path, text)
    assert message.startswith("profile.yaml:5:6: YAML syntax error: "), message
    assert "\n" not in message


def test_yaml_duplicate_key_has_line_and_column(tmp_path: Path) -> None:
    text = yaml.safe_dump(BASE, sort_keys=False) + "name: again\n"
    line = text.count("\n")
    assert error_of(tmp_path, text) == f"profile.yaml:{line}:1: YAML error: duplicate key 'name' (first at line 1)"


def test_yaml_dates_stay_strings(tmp_path: Path) -> None:
    text = yaml.safe_dump(BASE, sort_keys=False)
    assert text.rstrip().endswith("/accept")  # actions is the last section: append one more action
    text += ("  call.schedule:\n  - {method: POST, path: /calls, json: {at: 2026-11-25T14:00:00Z}, "
             "extract: {call_id: /id, call_session_id: /sid}}\n")
    profile = load_profile(write(tmp_path, text))
    assert profile.actions["call.schedule"][0].json == {"at": "2026-11-25T14:00:00Z"}


def test_unset_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("B4A_TEST_URL", raising=False)
    assert error_of(tmp_path, changed(base_url="${B4A_TEST_URL}")) == (
        "profile.yaml: base_url: environment variable B4A_TEST_URL is not set "
        "(set it, or give a default: ${B4A_TEST_URL:-value})")


def test_environment_interpolation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("B4A_TEST_URL", raising=False)
    document = changed(base_url="${B4A_TEST_URL:-http://127.0.0.1:8080}", websocket={"url": "/ws?token={{token}}",
                       "headers": {"Origin": "http://${B4A_TEST_HOST:-localhost}:3000"}})
    profile = load_profile(write(tmp_path, document))
    assert profile.base_url == "http://127.0.0.1:8080"
    assert profile.websocket.headers == {"Origin": "http://localhost:3000"}
    monkeypatch.setenv("B4A_TEST_URL", "https://api.example.test/v2/")
    monkeypatch.setenv("B4A_TEST_HOST", "app.example.test")
    profile = load_profile(write(tmp_path, document))
    assert profile.base_url == "https://api.example.test/v2"
    assert profile.websocket.headers == {"Origin": "http://app.example.test:3000"}
    assert error_of(tmp_path, changed(name="${not-a-name}")) == (
        "profile.yaml: name: malformed environment reference '${not-a-name}' (use ${VAR} or ${VAR:-default})")


def test_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    assert load_profile(path, overrides={"base_url": "http://10.0.0.1:81"}).base_url == "http://10.0.0.1:81"
    assert load_profile(path, overrides={"base_url": None}).base_url == "http://127.0.0.1:9"
    assert error_of(tmp_path, BASE, overrides={"base_url": "ftp://x"}).startswith(
        "profile.yaml: base_url: 'ftp://x' is not an absolute http:// or https:// URL")


def test_an_override_wins_over_an_unset_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`b4a run --base-url URL` works with a profile whose base_url is ${VAR} and VAR unset (CI sets one or the other)."""
    monkeypatch.delenv("B4A_TEST_URL", raising=False)
    monkeypatch.delenv("B4A_TEST_NAME", raising=False)
    path = write(tmp_path, changed(base_url="${B4A_TEST_URL}"))
    assert load_profile(path, overrides={"base_url": "http://10.0.0.1:81/api"}).base_url == "http://10.0.0.1:81/api"
    assert error_of(tmp_path, changed(base_url="${B4A_TEST_URL}"), overrides={"base_url": None}).startswith(
        "profile.yaml: base_url: environment variable B4A_TEST_URL is not set")
    # only the overridden key is exempt
    assert error_of(tmp_path, changed(base_url="${B4A_TEST_URL}", name="${B4A_TEST_NAME}"),
                    overrides={"base_url": "http://10.0.0.1:81"}) == (
        "profile.yaml: name: environment variable B4A_TEST_NAME is not set (set it, or give a default: ${B4A_TEST_NAME:-value})")


def test_unreadable_or_empty_or_not_a_mapping(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ProfileError, match=r"^.*nope\.yaml: cannot read the profile: No such file or directory$"):
        load_profile(missing)
    assert error_of(tmp_path, "# only a comment\n") == "profile.yaml: the profile is empty"
    assert error_of(tmp_path, "- a\n- b\n") == "profile.yaml: expected a mapping of keys at the top level, got a list"


def test_text_input_is_labelled(tmp_path: Path) -> None:
    text = yaml.safe_dump(changed(name=5), sort_keys=False)
    with pytest.raises(ProfileError) as caught:
        load_profile(text)
    assert str(caught.value) == "<profile>: name: expected a string, got an integer 5"
