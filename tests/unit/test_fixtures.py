"""The generic runner: every bundled case gives its stated verdict, at its stated pointers."""
from __future__ import annotations

import json

import jsonschema
import pytest

from harness.contract import data_dir, load_contract
from harness.fixtures import iter_fixture_tests, load_fixture_files
from harness.validation import validate, validate_push, variant_of

TESTS = list(iter_fixture_tests())


@pytest.mark.parametrize("case", TESTS, ids=[t.id for t in TESTS])
def test_fixture_verdict(case):
    judge = validate_push if case.kind == "push" else validate
    violations = judge(case.data, strict=case.strict)
    if case.valid:
        assert violations == [], [str(v) for v in violations]
        return
    got = {(v.rule_id, v.pointer) for v in violations}
    for expected in case.violations:
        assert expected in got, f"expected {expected}, got {sorted(got)}"
    if case.kind == "payload" and case.variant:
        # Dispatch judged it as the variant the case names, never as a union.
        # (Dispatch-level violations, raised before a variant is known, carry no variant.)
        assert {v.variant for v in violations} <= {case.variant, None}


def test_fixture_files_follow_the_case_schema():
    schema = json.loads((data_dir("fixtures") / "case-schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for name, document in load_fixture_files():
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(document))
        assert not errors, f"{name}: {errors[0].message} at {errors[0].json_path}"


def test_fixture_ids_are_unique_and_descriptions_unique_per_case():
    ids = [t.id for t in TESTS]
    assert len(ids) == len(set(ids))
    for _, document in load_fixture_files():
        for case in document["cases"]:
            descriptions = [t["description"] for t in case["tests"]]
            assert len(descriptions) == len(set(descriptions)), case["id"]


def test_every_variant_has_at_least_three_invalid_cases():
    contract = load_contract()
    for variant in contract.variants():
        invalid = [t for t in TESTS if t.variant == variant.key and not t.valid]
        assert len(invalid) >= 3, variant.key


def test_every_rule_named_in_fixtures_exists():
    rules = load_contract().rules
    for t in TESTS:
        for rule_id, _ in t.violations:
            assert rule_id in rules, (t.id, rule_id)


def test_schema_examples_are_valid_and_dispatch_to_their_variant():
    contract = load_contract()
    for variant in contract.variants():
        examples = contract.resolve(variant.schema_uri)["examples"]
        assert examples
        for example in examples:
            assert validate(example, strict=True) == []
            assert variant_of(example) == variant
    for example in contract.schemas["fcm-message.json"]["examples"]:
        assert validate_push(example) == []


def test_a_wrong_verdict_is_caught_by_the_runner():
    """The runner itself can fail: a valid example judged against a mutated copy is invalid."""
    example = dict(load_contract().resolve(load_contract().variant("friendship/new_request").schema_uri)["examples"][0])
    example["friend_id"] = "12"
    assert [(v.rule_id, v.pointer) for v in validate(example)] == [("PAY-004", "/friend_id")]
