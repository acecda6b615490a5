"""The fast engines and jsonschema give the same verdicts, and the same violations.

Three engines judge payloads: jsonschema (the referee, and the error path of last resort),
jsonschema-rs (`fastpath.is_valid` for parsed payloads; its errors, mapped, for most error
reports) and the msgspec types compiled from the schemas (`BatchValidator`, JSON Lines). A fast
engine is only sound if it never passes what jsonschema fails, and only useful if it passes what
jsonschema passes; the mapped jsonschema-rs errors are only right if they are jsonschema's
violations, to the message. So every engine judges every payload fixture, payloads generated
from each variant schema (hypothesis-jsonschema), and mutations of them, strict and not.
Known edges where the engines differ (date-time corner cases) are pinned, with the RFC 3339
reading, in test_known_date_time_differences.
"""
from __future__ import annotations

import copy
import functools
import json
import re
from typing import Any

import jsonschema
import orjson
import pytest
import referencing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from harness import fastpath, validation
from harness.compiled_types import DATE_TIME
from harness.contract import Variant, load_contract
from harness.fixtures import iter_fixture_tests
from harness.validation import _validator, validate, variant_of

pytestmark = pytest.mark.skipif(not fastpath.AVAILABLE, reason="jsonschema-rs is not installed")

CONTRACT = load_contract()
VARIANTS = list(CONTRACT.variants())
PAYLOAD_FIXTURES = [t for t in iter_fixture_tests() if t.kind == "payload"]
BATCH = {strict: fastpath.BatchValidator(strict=strict) for strict in (False, True)}
SETTINGS = settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def jsonschema_says(payload: Any, variant: Variant, strict: bool) -> bool:
    """The verdict of the exact jsonschema validator harness.validation reports errors with."""
    return bool(_validator(variant.schema_uri, strict).is_valid(payload))


def rs_says(payload: Any, variant: Variant, strict: bool) -> bool:
    return fastpath.is_valid(payload, variant, strict=strict)


def compiled_takes(payload: dict[str, Any], variant: Variant) -> bool:
    """Whether the compiled msgspec types can pass this payload, were it valid: they refuse an
    integer written as a float (2.0) and a date-time outside their strict subset of RFC 3339
    (harness.compiled_types documents both); nothing else."""
    properties = CONTRACT.variant_properties(variant)

    def plain(value: Any, schema: dict[str, Any]) -> bool:
        if isinstance(value, float):
            return False
        if schema.get("format") == "date-time" and isinstance(value, str):
            return re.search(DATE_TIME, value) is not None
        if isinstance(value, dict) and "properties" in schema:
            return all(plain(value[k], sub) for k, sub in schema["properties"].items() if k in value)
        return True

    return all(plain(payload[key], CONTRACT.inlined(variant.schema_uri)["properties"][key]) for key in properties if key in payload)


def mapped_violations(payload: Any, variant: Variant, strict: bool) -> list[Any] | None:
    """The violations harness.validation words from jsonschema-rs's errors, or None where it
    hands the payload to jsonschema."""
    locations = fastpath.error_locations(payload, variant, strict=strict)
    if locations is None:
        return None
    errors = validation._rs_errors(payload, variant, strict, locations)
    return None if errors is None else validation._payload_violations(errors, variant, CONTRACT)


def jsonschema_violations(payload: Any, variant: Variant, strict: bool) -> list[Any]:
    return validation._payload_violations(_validator(variant.schema_uri, strict).iter_errors(payload), variant, CONTRACT)


#: How often the mapped errors were used, and how often jsonschema had to step in (not vacuous).
MAPPED = {"mapped": 0, "jsonschema": 0}


def assert_engines_agree(payload: Any, variant: Variant, strict: bool) -> bool:
    expected = jsonschema_says(payload, variant, strict)
    assert rs_says(payload, variant, strict) == expected, f"engines disagree on {payload!r} as {variant.key} (strict={strict}); jsonschema says {expected}"
    # Errors: jsonschema-rs's, mapped, are jsonschema's violations, message for message.
    mapped = mapped_violations(payload, variant, strict)
    MAPPED["jsonschema" if mapped is None else "mapped"] += 1
    if mapped is not None:
        assert mapped == jsonschema_violations(payload, variant, strict), payload
    if variant_of(payload) == variant:
        # The public answer is the one both engines give.
        assert (validate(payload, strict=strict) == []) is expected, payload
        # The compiled types (orjson-free JSON Lines path) pass it only if it is valid, and then
        # as its variant; they refuse a valid payload only where they say they would.
        # json.dumps, not orjson: it writes integers beyond 64 bits as integers.
        verdict = BATCH[strict].judge([json.dumps(payload)])[0]
        assert verdict in (None, variant), payload
        if verdict is not None:
            assert expected, f"compiled types pass an invalid payload: {payload!r} as {variant.key} (strict={strict})"
        elif expected:
            assert not compiled_takes(payload, variant), f"compiled types refuse a valid payload: {payload!r}"
        assert BATCH[strict].failures([json.dumps(payload)]) == ([] if verdict else [0])
    return expected


def inline_refs(schema: Any, resolver: referencing.Resolver[Any]) -> Any:
    """The schema with every `$ref` replaced by its target (siblings kept), so that
    hypothesis-jsonschema, which cannot follow references to other documents, can read it."""
    if isinstance(schema, list):
        return [inline_refs(item, resolver) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: inline_refs(v, resolver) for k, v in schema.items() if k not in ("$ref", "examples")}
    if "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        out = {**inline_refs(resolved.contents, resolved.resolver), **out}
    return out


def self_contained(variant: Variant) -> dict[str, Any]:
    return inline_refs({"$ref": variant.schema_uri}, CONTRACT.registry.resolver())


# Any JSON value, for keys beyond the contract's. No lone surrogates: JSON text from a backend
# cannot carry them unescaped (test_fastpath covers the escaped case).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


def payloads(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Valid instances of a variant schema. Objects are built here (required keys, optional keys,
    extra keys with any JSON value); leaves come from hypothesis-jsonschema, whose own object
    generation does not run with the installed hypothesis (its `cu.many` lost `.more()`)."""
    if schema.get("type") != "object" or "properties" not in schema:
        return from_schema(schema)
    properties: dict[str, Any] = schema["properties"]
    required = schema.get("required", [])
    known = st.fixed_dictionaries(
        {key: payloads(properties[key]) for key in required},
        optional={key: payloads(sub) for key, sub in properties.items() if key not in required},
    )
    extra = st.dictionaries(TEXT.filter(lambda key: key not in properties), JSON_VALUES, max_size=3)
    return st.tuples(known, extra).map(lambda parts: {**parts[1], **parts[0]})


@functools.cache
def valid_payloads(variant: Variant) -> st.SearchStrategy[Any]:
    # Cached: hypothesis-jsonschema canonicalises a schema each time a strategy is built.
    return payloads(self_contained(variant))


# -- (1) every fixture -------------------------------------------------------------------------


@pytest.mark.parametrize("case", PAYLOAD_FIXTURES, ids=[t.id for t in PAYLOAD_FIXTURES])
def test_engines_agree_on_every_payload_fixture(case):
    variant = variant_of(case.data)
    if variant is None:
        # Dispatch fails before any schema is applied (both paths share the table): the batch
        # path must hand such a line to the precise path.
        assert BATCH[case.strict].judge([orjson.dumps(case.data)]) == [None]
        assert not case.valid
        return
    for strict in (False, True):
        verdict = assert_engines_agree(case.data, variant, strict)
        if strict == case.strict and case.variant == variant.key:
            assert verdict == case.valid, case.id


def test_fixtures_cover_every_variant_with_valid_and_invalid_payloads():
    """The fixture comparison above is not vacuous: both verdicts occur for every variant."""
    for variant in VARIANTS:
        verdicts = {jsonschema_says(t.data, variant, t.strict) for t in PAYLOAD_FIXTURES if variant_of(t.data) == variant}
        assert verdicts == {True, False}, variant.key


# -- (2) generated payloads ---------------------------------------------------------------------


def test_inlined_schemas_are_self_contained_and_equivalent():
    for variant in VARIANTS:
        schema = self_contained(variant)
        assert "$ref" not in orjson.dumps(schema).decode(), variant.key
        example = CONTRACT.resolve(variant.schema_uri)["examples"][0]
        checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
        assert jsonschema.Draft202012Validator(schema, format_checker=checker).is_valid(example)
        broken = dict(example, message_type=7)
        assert not jsonschema.Draft202012Validator(schema, format_checker=checker).is_valid(broken)


BROKEN_DATES = [
    "2026-11-25 14:00",  # the seed's spelling: no T, no seconds, no offset
    "2026-11-25T14:00:00",  # no offset
    "2026-11-25T14:00:00+0100",  # offset without colon
    "2026-02-30T10:00:00Z",  # no such day
    "2026-11-25T25:00:00Z",
    "2026-11-25",
    "25.11.2026 14:00",
    "",
]
OTHER_TYPES = ["12", 12, 0, -1, 1.5, 2.0, None, True, [], {}, "", "x" * 3]


@st.composite
def mutated(draw: st.DrawFn, variant: Variant) -> dict[str, Any]:
    """A valid payload with one typical backend mistake (or an extra key, for strict mode)."""
    payload: dict[str, Any] = copy.deepcopy(draw(valid_payloads(variant)))
    required = CONTRACT.resolve(variant.schema_uri)["required"]
    mistake = draw(st.sampled_from(["drop", "retype", "date", "extra", "nested"]))
    key = draw(st.sampled_from(required))
    if mistake == "drop":
        payload.pop(key, None)
    elif mistake == "retype":
        payload[key] = draw(st.sampled_from(OTHER_TYPES))
    elif mistake == "date" and "scheduled_at" in payload:
        payload["scheduled_at"] = draw(st.sampled_from(BROKEN_DATES))
    elif mistake == "nested" and isinstance(payload.get("thread"), dict):
        payload["thread"]["id"] = draw(st.sampled_from(OTHER_TYPES))
    else:
        payload[draw(st.sampled_from(["extra", "status_text", "thread_id"]))] = draw(st.sampled_from(OTHER_TYPES))
    return payload


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.key for v in VARIANTS])
def test_engines_agree_on_generated_valid_payloads(variant):
    @SETTINGS
    @given(payload=valid_payloads(variant))
    def check(payload: dict[str, Any]) -> None:
        # Generated from the schema, so valid, including extra keys with any JSON value...
        assert assert_engines_agree(payload, variant, strict=False), payload
        # ...which strict mode judges: both engines alike.
        assert_engines_agree(payload, variant, strict=True)

    check()


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.key for v in VARIANTS])
def test_engines_agree_on_mutated_payloads(variant):
    @SETTINGS
    @given(payload=mutated(variant))
    def check(payload: dict[str, Any]) -> None:
        for strict in (False, True):
            assert_engines_agree(payload, variant, strict)

    check()


def test_mutations_do_break_payloads():
    """The mutation strategy is not a no-op: most mutated payloads are invalid."""
    seen: list[bool] = []

    @settings(max_examples=50, deadline=None, database=None, derandomize=True)
    @given(payload=mutated(CONTRACT.variant("game-session/requested")))
    def collect(payload: dict[str, Any]) -> None:
        seen.append(jsonschema_says(payload, CONTRACT.variant("game-session/requested"), False))

    collect()
    assert seen.count(False) > len(seen) // 2


# -- (3) known edges: where the engines differ, and who is right ---------------------------------

GAME = CONTRACT.variant("game-session/accepted")
GAME_EXAMPLE = CONTRACT.resolve(GAME.schema_uri)["examples"][0]

# (value, jsonschema's verdict, jsonschema-rs's verdict, verdict per RFC 3339 section 5.6)
DATE_TIME_EDGES = [
    # Same verdict from both, as RFC 3339 says.
    ("2026-11-25T14:00:00Z", True, True, True),
    ("2026-11-25T14:00:00z", True, True, True),  # 5.6 NOTE: "T" and "Z" may be lower case
    ("2026-11-25t14:00:00Z", True, True, True),
    ("2026-11-25T14:00:00-00:00", True, True, True),  # 4.3: unknown local offset
    ("2026-11-25T14:00:00.123456789Z", True, True, True),
    ("2024-02-29T00:00:00Z", True, True, True),
    ("2023-02-29T00:00:00Z", False, False, False),
    ("2026-11-25 14:00", False, False, False),
    ("2026-11-25T14:00:00+24:00", False, False, False),
    # Differences.
    # Leap second: the ABNF allows time-second 60 (and JSON-Schema-Test-Suite's draft2020-12
    # format tests accept 1998-12-31T23:59:60Z); rfc3339-validator, used by jsonschema, rejects
    # any second 60. jsonschema-rs is right.
    ("2026-12-31T23:59:60Z", False, True, True),
    ("2026-12-31T15:59:60-08:00", False, True, True),
    # Year 0000: date-fullyear is 4DIGIT, so RFC 3339 allows it; jsonschema rejects it.
    ("0000-01-01T00:00:00Z", False, True, True),
    # Trailing newline: not in the grammar; rfc3339-validator's regex ends in `$`, which also
    # matches before a final "\n", so jsonschema accepts it. jsonschema-rs is right.
    ("2026-11-25T14:00:00Z\n", True, False, False),
]


@pytest.mark.parametrize(("value", "by_jsonschema", "by_rs", "by_rfc"), DATE_TIME_EDGES, ids=[repr(e[0]) for e in DATE_TIME_EDGES])
def test_known_date_time_differences(value, by_jsonschema, by_rs, by_rfc):
    """Pins each engine's verdict, so a library update that changes one shows up here."""
    payload = dict(GAME_EXAMPLE, scheduled_at=value)
    assert jsonschema_says(payload, GAME, False) is by_jsonschema
    assert rs_says(payload, GAME, False) is by_rs
    # Where they differ, jsonschema-rs is the one that follows RFC 3339.
    assert by_rs is by_rfc


def test_the_comparison_catches_an_engine_that_skips_formats(monkeypatch):
    """Feed the checker a wrong engine (jsonschema-rs without format validation): it objects."""
    import jsonschema_rs

    lax = jsonschema_rs.Draft202012Validator({"$ref": GAME.schema_uri}, registry=fastpath._registry(), offline=True)
    monkeypatch.setattr(fastpath, "_single", lambda uri, strict: lax.is_valid)
    with pytest.raises(AssertionError, match="engines disagree"):
        assert_engines_agree(dict(GAME_EXAMPLE, scheduled_at="2026-11-25 14:00"), GAME, strict=False)


# -- (4) the mapped jsonschema-rs errors: used where they are jsonschema's, not elsewhere ---------


def test_mapped_errors_report_most_invalid_fixtures_without_jsonschema(monkeypatch):
    """Not vacuous: the invalid fixtures are reported from jsonschema-rs's errors (jsonschema is
    not even asked), and those reports are jsonschema's, violation for violation."""
    invalid = [(t, variant_of(t.data)) for t in PAYLOAD_FIXTURES if not t.valid and variant_of(t.data) is not None]
    expected = {t.id: jsonschema_violations(t.data, v, t.strict) for t, v in invalid}

    def no_jsonschema(*args: Any) -> Any:
        raise AssertionError("jsonschema was asked")

    monkeypatch.setattr(validation, "_validator", no_jsonschema)
    mapped = {t.id: mapped_violations(t.data, v, t.strict) for t, v in invalid}
    asked = [case for case, violations in mapped.items() if violations is None]
    assert len(asked) <= len(invalid) // 10, asked
    for case, violations in mapped.items():
        if violations is not None:
            assert violations == expected[case], case
            assert validate(next(t.data for t, _ in invalid if t.id == case), strict=next(t.strict for t, _ in invalid if t.id == case)) == violations


@pytest.mark.parametrize(("value", "other_error"), [
    ("2026-11-25T14:00:00Z\n", False),  # jsonschema-rs refuses, jsonschema accepts: valid, as before
    ("2026-12-31T23:59:60Z", True),  # jsonschema-rs accepts, jsonschema refuses; with another error
    ("0000-01-01T00:00:00Z", True),
])
def test_where_the_engines_disagree_on_a_format_jsonschema_words_the_errors(value, other_error):
    payload = dict(GAME_EXAMPLE, scheduled_at=value, **({"game_id": "7"} if other_error else {}))
    assert mapped_violations(payload, GAME, False) is None  # handed to jsonschema
    violations = validate(payload)
    assert violations == (jsonschema_violations(payload, GAME, False) if other_error else [])
    if other_error:  # jsonschema's format error is there, next to the type error
        assert [v.pointer for v in violations] == ["/game_id", "/scheduled_at"]


@pytest.mark.parametrize("schema_path", [
    ["properties", "message", "maxLength"],  # a keyword this module does not word
    ["anyOf", 0, "type"],  # a place reached through an applicator
    ["properties", "thread", "additionalProperties"],
    ["properties", "thread", "properties", "id", "not"],
])
def test_errors_at_places_or_keywords_not_mapped_go_to_jsonschema(schema_path):
    chat = CONTRACT.variant("chat/new_message")
    payload = dict(CONTRACT.resolve(chat.schema_uri)["examples"][0], message=5)
    assert validation._rs_errors(payload, chat, False, [(["message"], schema_path)]) is None
    # ...while the real error (a type error, through properties) is mapped.
    assert validation._rs_errors(payload, chat, False, [(["message"], ["properties", "message", "type"])]) is not None


def test_a_format_anywhere_but_under_properties_sends_every_error_to_jsonschema(monkeypatch):
    def schema_is(schema: dict[str, Any]) -> None:
        monkeypatch.setattr(fastpath, "variant_schema", lambda uri, strict: schema)

    schema_is({"type": "object", "properties": {"a": {"properties": {"b": {"type": "string", "format": "date-time"}}}}})
    assert validation._format_sites.__wrapped__("uri", False) == ((("a", "b"), "date-time"),)
    schema_is({"type": "object", "properties": {"a": {"type": "array", "items": {"format": "date-time"}}}})
    assert validation._format_sites.__wrapped__("uri", False) is None
    schema_is({"type": "object", "properties": {"format": {"type": "string"}}})  # a key named format is no format
    assert validation._format_sites.__wrapped__("uri", False) == ()
