"""The contract data: schemas are valid 2020-12, rules.json follows its meta-schema and is coherent."""
from __future__ import annotations

import jsonschema
import pytest

from harness.contract import load_contract
from harness.validation import validate


def test_every_schema_is_valid_2020_12():
    for name, schema in load_contract().schemas.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$id"].endswith(name), name


def test_rules_follow_their_meta_schema():
    contract = load_contract()
    meta = contract.schemas["rules.schema.json"]
    errors = list(jsonschema.Draft202012Validator(meta).iter_errors(contract.raw_rules))
    assert not errors, errors[0].message


def test_meta_schema_rejects_a_bad_rules_file():
    contract = load_contract()
    broken = dict(contract.raw_rules, rules=[{"id": "FRIEND-1", "level": "MAY", "title": "", "description": "x", "section": "x"}])
    assert list(jsonschema.Draft202012Validator(contract.schemas["rules.schema.json"]).iter_errors(broken))


def test_rule_ids_are_unique_and_every_referenced_rule_exists():
    contract = load_contract()
    ids = [r["id"] for r in contract.raw_rules["rules"]]
    assert len(ids) == len(set(ids))
    referenced = set(contract.keyword_rules["payload"].values()) | set(contract.keyword_rules["push"].values())
    for family in contract.families:
        referenced |= set(family.rules) | set(family.field_rules.values())
        for variant in family.variants:
            referenced |= set(variant.rules) | set(variant.delivery_rules)
    assert referenced <= set(ids), referenced - set(ids)


def test_every_variant_of_the_contract_is_in_the_rules():
    contract = load_contract()
    assert [v.name for v in contract.family("friendship").variants] == ["new_request", "canceled", "accepted", "rejected", "terminated"]
    assert len(contract.family("game-session").variants) == 7
    assert len(contract.family("call").variants) == 7
    pushed = {v.key for v in contract.variants() if v.pushed}
    assert pushed == {"friendship/new_request", "chat/new_message"}


@pytest.mark.parametrize(
    "value, valid",
    [("2026-11-25T14:00:00Z", True), ("2026-11-25T14:00:00.123+01:00", True), (None, True),
     ("2026-11-25 14:00", False), ("2026-11-25", False), ("2026-13-01T00:00:00Z", False), ("yesterday", False), ("2026-11-25T14:00:00", False)],
)
def test_date_time_format_is_enforced(value, valid):
    payload = {"message_type": "api_game_session_status", "session_id": 1, "game_id": 1, "user_id": 1, "partner_id": 2,
               "state": "requested", "game_level": 0, "scheduled_at": value}
    violations = validate(payload)
    assert (violations == []) is valid, violations
    if not valid:
        assert [(v.rule_id, v.pointer) for v in violations] == [("PAY-004", "/scheduled_at")]


def test_the_public_api_is_small_and_importable():
    import harness

    assert set(harness.__all__) == {"Contract", "Family", "Level", "Outcome", "Rule", "Variant", "Violation", "is_valid",
                                    "load_contract", "validate", "validate_push", "variant_of"}
    assert harness.variant_of({"message_type": "openvidu_status", "status": "scheduled"}).key == "call/scheduled"
    assert not harness.is_valid({"message_type": "openvidu_status", "status": "scheduled"})


def test_the_reference_backend_and_emulator_do_not_import_checking_code():
    """Independence: starting them must not load the validator, the contract or jsonschema."""
    import subprocess
    import sys

    code = ("import sys, harness.reference.app, harness.emulator.fcm.app; "
            "print(sorted(m for m in sys.modules if m in ('harness.validation', 'harness.contract', 'harness.check', 'jsonschema')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]", loaded


def test_each_missing_key_is_named_once_at_its_own_pointer():
    from harness.validation import validate_push

    payload = {"message_type": "api_friendship_status", "status": "new_request"}
    assert [(v.rule_id, v.pointer) for v in validate(payload)] == [
        ("PAY-003", "/friend_id"), ("PAY-003", "/message"), ("PAY-003", "/open_requests")]
    assert sorted(v.pointer for v in validate_push({}) if v.rule_id == "PUSH-001") == ["/data", "/token"]
