"""Placeholders: typed when alone in a JSON string, text otherwise, errors naming the placeholder."""
from __future__ import annotations

import pytest

from harness.target import User
from harness.templating import TemplateError, malformed, placeholders, render_text, render_value

ALICE = User(label="A", id=41, token="tok-a", name="A-1234")
VARIABLES = {"actor": ALICE, "other": User("B", 42, "tok-b", "B-5678"), "level": 0, "at": None,
             "flag": True, "ids": [5, 6], "extra": {"k": "v"}}


def test_a_lone_placeholder_keeps_its_type() -> None:
    body = {"friend_id": "{{other.id}}", "level": "{{level}}", "at": "{{at}}", "flag": "{{flag}}",
            "ids": "{{ids}}", "first": "{{ ids.0 }}", "nested": ["{{extra.k}}", 3, None]}
    assert render_value(body, VARIABLES) == {"friend_id": 42, "level": 0, "at": None, "flag": True,
                                             "ids": [5, 6], "first": 5, "nested": ["v", 3, None]}


def test_placeholders_inside_text_are_interpolated() -> None:
    assert render_value("user {{other.id}} at {{at}} ({{flag}}) {{ids}}", VARIABLES) == "user 42 at  (true) [5,6]"
    assert render_text("/users/{{actor.name}}", {"actor": User("x", 1, "t", "a b/c")},
                       encode=lambda s: s.replace(" ", "%20").replace("/", "%2F")) == "/users/a%20b%2Fc"


def test_unknown_placeholder_names_itself() -> None:
    with pytest.raises(TemplateError, match=r"^placeholder \{\{thread_id\}\} has no value \(known: actor, at, "):
        render_value({"x": "/threads/{{thread_id}}"}, VARIABLES)
    with pytest.raises(TemplateError, match=r"^placeholder \{\{other\.idd\}\}: other has no 'idd'"):
        render_value("{{other.idd}}", VARIABLES)
    with pytest.raises(TemplateError, match=r"^placeholder \{\{ids\.2\}\}: ids has no '2'"):
        render_text("{{ids.2}}", VARIABLES)


def test_finding_and_malformed() -> None:
    assert list(placeholders({"a": ["{{x}} {{ y.z }}", 1], "b": "{{q}}"})) == ["x", "y.z", "q"]
    assert malformed("/a/{{x}}/b") is None
    assert malformed("/a/{{x}/b") == "{{x}/b"
    assert malformed("{{x}} }}") == "}}"
    assert malformed("{{other id}}") == "{{other id}}"
