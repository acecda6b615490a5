"""harness.compiled_types: what compiles, what is refused, and the date-time subset.

The compiled types are held to jsonschema's verdicts on every fixture and generated payload in
test_differential.py; here are the compiler's own promises: a schema it cannot express exactly
leaves its family out (those lines take the precise path), and DATE_TIME accepts only date-times
both jsonschema and jsonschema-rs accept.
"""
from __future__ import annotations

import copy
import json
import re
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import fastpath
from harness.contract import load_contract

msgspec = pytest.importorskip("msgspec")
from harness.compiled_types import DATE_TIME, compile_decoder  # noqa: E402 - after the skip

CONTRACT = load_contract()
GAME = CONTRACT.variant("game-session/requested")
GAME_EXAMPLE = CONTRACT.resolve(GAME.schema_uri)["examples"][0]


def schemas(change: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Every variant's inlined schema, with `change[variant key](schema)` applied."""
    out = {}
    for variant in CONTRACT.variants():
        schema = CONTRACT.inlined(variant.schema_uri)
        if change and variant.key in change:
            change[variant.key](schema)
        out[variant.schema_uri] = schema
    return out


def example(key: str) -> dict[str, Any]:
    return copy.deepcopy(CONTRACT.resolve(CONTRACT.variant(key).schema_uri)["examples"][0])


def passes(decoder: Any, payload: Any) -> bool:
    try:
        decoder.decode(json.dumps(payload).encode())
    except decoder.refused:
        return False
    return True


def test_the_contract_compiles_whole():
    decoder = compile_decoder(CONTRACT, strict=False)
    assert decoder is not None and decoder.families == tuple(f.name for f in CONTRACT.families)
    for variant in CONTRACT.variants():
        struct = decoder.decode(json.dumps(example(variant.key)).encode())
        assert struct.variants[struct.kind] == variant


@pytest.mark.parametrize(("change", "left_out"), [
    ({"call/" + v.name: (lambda s: s["properties"]["session_id"].update(pattern="^ses_")) for v in CONTRACT.family("call").variants}, "call"),
    ({"game-session/finished": lambda s: s["required"].append("winner_id")}, "game-session"),  # one variant differs
    ({f"friendship/{v.name}": (lambda s: s["properties"]["friend_id"].update(maximum=10)) for v in CONTRACT.family("friendship").variants}, "friendship"),
    ({"chat/new_message": lambda s: s["properties"]["message_type"].pop("const")}, "chat"),  # no tag
    ({"chat/new_message": lambda s: s.update(additionalProperties=False)}, "chat"),
], ids=["pattern", "variants-differ", "maximum", "no-const-tag", "additionalProperties"])
def test_what_cannot_be_expressed_leaves_its_family_out(change, left_out):
    decoder = compile_decoder(CONTRACT, strict=False, schemas=schemas(change))
    assert left_out not in decoder.families and len(decoder.families) == len(CONTRACT.families) - 1
    family = CONTRACT.family(left_out)
    assert not passes(decoder, example(family.variants[0].key))  # its lines take the precise path
    other = next(f for f in CONTRACT.families if f.name != left_out)
    assert passes(decoder, example(other.variants[0].key))


def test_an_optional_key_may_be_absent_but_never_wrong_or_null():
    def add_edited(schema: dict[str, Any]) -> None:
        schema["properties"]["edited"] = {"type": "integer", "minimum": 0}

    changed = schemas({"chat/new_message": add_edited})
    decoder = compile_decoder(CONTRACT, strict=False, schemas=changed)
    judge = jsonschema.Draft202012Validator(changed[CONTRACT.variant("chat/new_message").schema_uri])
    chat = example("chat/new_message")
    for value, verdict in [(None, True), (3, True), (-1, False), ("3", False), ("null", False)]:
        payload = chat if value is None else dict(chat, edited=None if value == "null" else value)
        assert passes(decoder, payload) is verdict is judge.is_valid(payload), value


def test_nothing_compiles_without_a_family():
    changed = schemas({v.key: (lambda s: s["properties"]["message_type"].pop("const")) for v in CONTRACT.variants()})
    assert compile_decoder(CONTRACT, strict=True, schemas=changed) is None


# -- DATE_TIME: a strict subset of what both engines accept ----------------------------------


def both_engines_accept(value: str) -> bool:
    by_jsonschema = jsonschema.Draft202012Validator.FORMAT_CHECKER.conforms(value, "date-time")
    by_rs = fastpath.is_valid(dict(GAME_EXAMPLE, scheduled_at=value), GAME)
    return bool(by_jsonschema and by_rs)


def digits(low: int, high: int, width: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: str(n).zfill(width))


DATE_TIMES = st.builds(
    "".join,
    st.tuples(
        digits(0, 9999, 4), st.just("-"), digits(0, 13, 2), st.just("-"), digits(0, 32, 2),
        st.sampled_from(["T", "t", " ", "_"]), digits(0, 25, 2), st.just(":"), digits(0, 61, 2), st.just(":"), digits(0, 61, 2),
        st.sampled_from(["", ".5", ".123456789", "."]),
        st.sampled_from(["Z", "z", "", "+01:00", "-23:59", "+24:00", "+01:60", "+0100"]),
        st.sampled_from(["", "", "", "\n", " ", "\u0660"]),
    ),
)


@settings(max_examples=600, deadline=None, database=None)
@given(value=DATE_TIMES)
def test_date_time_subset_never_accepts_what_an_engine_refuses(value):
    if re.search(DATE_TIME, value):
        assert both_engines_accept(value), value


@pytest.mark.parametrize(("value", "compiled"), [
    ("2026-11-25T14:00:00Z", True),
    ("2026-11-25t14:00:00.123+01:00", True),
    ("2026-01-31T23:59:59-00:00", True),
    ("2024-02-29T00:00:00Z", False),  # a leap day: left to the engines, which both accept it
    ("2026-12-31T23:59:60Z", False),  # a leap second: left to the engines (they disagree)
    ("0000-01-01T00:00:00Z", False),  # year 0000: likewise
    ("2026-11-25T14:00:00Z\n", False),
    ("2026-11-2\u0665T14:00:00Z", False),  # a Unicode digit: Python's \d would match it
])
def test_date_time_subset_examples(value, compiled):
    assert (re.search(DATE_TIME, value) is not None) is compiled
    if compiled:
        assert both_engines_accept(value)
