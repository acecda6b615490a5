"""The shipped profiles load; the schema is sound; no input makes the loader raise anything else."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from harness.contract import load_contract
from harness.profile import ACTION_PARAMS, Profile, ProfileError, load_profile, profile_schema
from harness.profile.actions import game_verb_for

PROFILES = Path(__file__).resolve().parents[2] / "fixtures" / "profiles"


@pytest.mark.parametrize("name", ["reference", "reference-cable", "rails-example"])
def test_shipped_profiles_load(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("B4A_BASE_URL", raising=False)
    profile = load_profile(PROFILES / f"{name}.yaml")
    assert profile.name == name
    assert profile.base_url in ("http://127.0.0.1:8080", "http://127.0.0.1:3000/api/v1")
    verbs = {game_verb_for(state) for state in ("accepted", "rejected", "started", "finished", "canceled", "resumed")}
    assert set(profile.actions) == set(ACTION_PARAMS) - verbs, "every abstract action is mapped; game moves by game.transition"
    assert profile.games is not None
    monkeypatch.setenv("B4A_BASE_URL", "http://127.0.0.1:1234")
    assert load_profile(PROFILES / f"{name}.yaml").base_url == "http://127.0.0.1:1234"


def test_reference_profiles_differ_only_in_the_websocket() -> None:
    plain, cable = (load_profile(PROFILES / f"{n}.yaml").document for n in ("reference", "reference-cable"))
    assert {k: v for k, v in plain.items() if k not in ("name", "websocket")} == \
           {k: v for k, v in cable.items() if k not in ("name", "websocket")}
    assert plain["websocket"] == {"url": "/ws?token={{token}}", "framing": "plain", "headers": {}}
    assert cable["websocket"] == {"url": "/cable?token={{token}}", "framing": "actioncable",
                                  "identifier": {"channel": "NotificationsChannel"}, "headers": {}}


def test_rails_example_is_the_rails_shape() -> None:
    profile = load_profile(PROFILES / "rails-example.yaml")
    assert profile.base_url == "http://127.0.0.1:3000/api/v1", "the API prefix is in base_url"
    assert all(step.path and not step.path.startswith("/api/")
               for steps in [*profile.actions.values(), profile.create_user] for step in steps)
    assert profile.register_device and profile.register_device[0].path == "/me/devices"
    assert profile.games and profile.games.lookup and profile.games.lookup[0].extract == {"game_id": "/data/0/id"}
    assert profile.auth.header == "Authorization" and profile.auth.format == "Bearer {{token}}"
    assert len(profile.actions["chat.post"]) == 2
    assert profile.websocket.framing == "actioncable" and profile.websocket.url.startswith("/cable")
    assert profile.websocket.identifier == {"channel": "NotificationsChannel"}
    assert profile.presence and profile.presence.settle_seconds == 1.0
    assert (PROFILES / "rails-example.yaml").read_text().count("\n#") >= 10, "keys are explained"


def test_schema_is_valid_2020_12_and_defaults_match_the_contract() -> None:
    schema = profile_schema()
    Draft202012Validator.check_schema(schema)
    deadlines = schema["properties"]["deadlines"]["properties"]
    assert {k: v["default"] for k, v in deadlines.items()} == load_contract().deadlines
    assert set(schema["properties"]["actions"]["properties"]) == set(ACTION_PARAMS)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False, width=16)
    | st.sampled_from(["", "GET", "PUTT", "/x", "{{other.id}}", "{{nope}}", "${NOPE_UNSET}", "http://h", "{{"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["method", "path", "url", "json", "extract", "auth", "header", "query", "x"]), children, max_size=3),
    max_leaves=8,
)
BASE = yaml.safe_load((PROFILES / "reference.yaml").read_text())


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


PATHS = _paths(BASE)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=json_values)
def test_any_mutation_gives_a_profile_or_a_profile_error(path: tuple[Any, ...], value: Any) -> None:
    document = copy.deepcopy(BASE)
    node = document
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    try:
        assert isinstance(load_profile(yaml.dump(document, Dumper=yaml.CSafeDumper) + "\n"), Profile)
    except ProfileError as error:
        lines = str(error).splitlines()
        assert lines and all(line.startswith("<profile>: ") and "Traceback" not in line for line in lines)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="ab:{}[]-#&*!|>'\"\n\t %@`", min_size=2, max_size=60).filter(lambda t: "\n" in t))
def test_any_text_gives_a_profile_error(text: str) -> None:
    with pytest.raises(ProfileError, match=r"^<profile>"):
        load_profile(text)
