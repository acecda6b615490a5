"""Each kind of contract change, made alone to a copy of the real contract, is found once per
variant it affects and judged for consumers (apps) and producers (backends) as the diff's rules say.

Every case lists ALL the changes the diff must report: an extra or a missing one fails the case.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harness.evolution import Bump, diff_contracts

from .conftest import Files, family, mutated, rule, variant, variant_schema

C, P, B, OK = "consumers", "producers", "both", "compatible"
ID_REF = "common.json#/$defs/id"


def _drop_key(files: Files) -> None:
    schema = variant_schema(files, "friendship", "new_request")
    del schema["properties"]["friend_id"]
    schema["required"].remove("friend_id")


def _optional_key(files: Files) -> None:
    variant_schema(files, "call", "accepted")["required"].remove("call_id")


def _new_required_key(files: Files) -> None:
    schema = variant_schema(files, "chat", "new_message")
    schema["properties"]["sent_at"] = {"type": "string", "format": "date-time"}
    schema["required"].append("sent_at")


def _new_optional_key(files: Files) -> None:
    variant_schema(files, "chat", "new_message")["properties"]["sender_name"] = {"type": "string"}


def _type_changed(files: Files) -> None:
    variant_schema(files, "call", "requested")["properties"]["session_id"] = {"type": "integer", "minimum": 1}


def _type_widened(files: Files) -> None:
    variant_schema(files, "friendship", "canceled")["properties"]["friend_id"] = {"$ref": ID_REF, "type": ["integer", "string"]}


def _type_narrowed(files: Files) -> None:
    variant_schema(files, "game-session", "started")["properties"]["scheduled_at"]["type"] = "string"


def _enum_value_added(files: Files) -> None:
    files["fcm-message.json"]["properties"]["data"]["properties"]["type"]["enum"].append("api_poke")


def _enum_value_removed(files: Files) -> None:
    files["fcm-message.json"]["properties"]["data"]["properties"]["type"]["enum"].remove("openvidu_status")


def _range_narrowed(files: Files) -> None:
    variant_schema(files, "friendship", "rejected")["properties"]["open_requests"]["maximum"] = 1000


def _range_widened(files: Files) -> None:
    variant_schema(files, "game-session", "finished")["properties"]["game_level"]["minimum"] = -1


def _common_range_narrowed(files: Files) -> None:
    files["common.json"]["$defs"]["openvidu_session_id"]["minLength"] = 8


def _const_changed(files: Files) -> None:
    variant_schema(files, "friendship", "accepted")["properties"]["message"]["const"] = "friendship changed"


def _format_added(files: Files) -> None:
    variant_schema(files, "call", "scheduled")["properties"]["session_id"]["pattern"] = "^ses_"


def _keys_closed(files: Files) -> None:
    variant_schema(files, "call", "terminated")["unevaluatedProperties"] = False


def _unknown_keyword(files: Files) -> None:
    variant_schema(files, "call", "rejected")["dependentRequired"] = {"call_id": ["session_id"]}


def _description(files: Files) -> None:
    variant_schema(files, "friendship", "terminated")["properties"]["friend_id"]["description"] = "The friend who ended it."


def _variant_added(files: Files) -> None:
    friendship = family(files, "friendship")
    blocked = dict(variant(files, "friendship", "terminated"), name="blocked", trigger="A blocks B")
    friendship["variants"].append(blocked)
    schema = files["friendship.json"]
    schema["$defs"]["blocked"] = dict(schema["$defs"]["terminated"], properties={
        **schema["$defs"]["terminated"]["properties"], "status": {"const": "blocked"}})
    schema["oneOf"].append({"$ref": "#/$defs/blocked"})


def _variant_removed(files: Files) -> None:
    call = family(files, "call")
    call["variants"] = [v for v in call["variants"] if v["name"] != "scheduled"]
    del files["call.json"]["$defs"]["scheduled"]
    files["call.json"]["oneOf"] = [r for r in files["call.json"]["oneOf"] if r["$ref"] != "#/$defs/scheduled"]


def _family_removed(files: Files) -> None:
    files["rules.json"]["families"] = [f for f in files["rules.json"]["families"] if f["name"] != "chat"]
    del files["chat.json"]
    files["notification.json"]["oneOf"] = [r for r in files["notification.json"]["oneOf"] if r["$ref"] != "chat.json"]


def _recipient_added(files: Files) -> None:
    variant(files, "friendship", "accepted")["recipients"].append("B")


def _recipient_removed(files: Files) -> None:
    variant(files, "game-session", "canceled")["recipients"].remove("A")


def _channel_added(files: Files) -> None:
    variant(files, "call", "requested")["channels"].append("fcm")


def _channel_removed(files: Files) -> None:
    variant(files, "chat", "new_message")["channels"].remove("fcm")


def _deadline_shortened(files: Files) -> None:
    files["rules.json"]["deadlines"]["websocket_seconds"] = 1.0


def _deadline_lengthened(files: Files) -> None:
    files["rules.json"]["deadlines"]["push_seconds"] = 10.0


def _rule_raised(files: Files) -> None:
    rule(files, "DLV-005")["level"] = "MUST"


def _rule_lowered(files: Files) -> None:
    rule(files, "FRND-002")["level"] = "SHOULD"


def _must_rule_added(files: Files) -> None:
    files["rules.json"]["rules"].append({"id": "CALL-004", "level": "MUST", "title": "a call rings at most once",
                                         "description": "One requested per call.", "section": "call"})


def _should_rule_added(files: Files) -> None:
    files["rules.json"]["rules"].append({"id": "CHAT-002", "level": "SHOULD", "title": "a thread title is sent",
                                         "description": "thread.title is present.", "section": "chat"})


def _must_rule_removed(files: Files) -> None:
    files["rules.json"]["rules"] = [r for r in files["rules.json"]["rules"] if r["id"] != "CHAT-001"]
    for f in files["rules.json"]["families"]:
        f["field_rules"] = {k: v for k, v in f["field_rules"].items() if v != "CHAT-001"}
        for v in f["variants"]:
            v["rules"] = [r for r in v["rules"] if r != "CHAT-001"]


def _rule_reworded(files: Files) -> None:
    rule(files, "GAME-001")["description"] = "Each state change notifies both users, whoever acted, on every connection."


def _must_rule_attached(files: Files) -> None:
    variant(files, "friendship", "canceled")["rules"].append("PUSH-004")


def _transition_added(files: Files) -> None:
    family(files, "game-session")["transitions"].append({"from": "finished", "to": "canceled", "by": ["A", "B"]})


def _transition_removed(files: Files) -> None:
    game = family(files, "game-session")
    game["transitions"] = [t for t in game["transitions"] if (t["from"], t["to"]) != ("resumed", "canceled")]


def _push_encoding(files: Files) -> None:
    files["rules.json"]["push"]["null_encoding"] = ""


def _identity_key(files: Files) -> None:
    family(files, "friendship")["identity_keys"].append("friend_id")


Case = tuple[Callable[[Files], None], set[tuple[str, str, str]], Bump]

CASES: dict[str, Case] = {
    "key removed": (_drop_key, {("key-removed", "friendship/new_request", C)}, Bump.MAJOR),
    "key made optional": (_optional_key, {("key-made-optional", "call/accepted", C)}, Bump.MAJOR),
    "key added as required": (_new_required_key, {("key-added-required", "chat/new_message", P)}, Bump.MAJOR),
    "optional key added": (_new_optional_key, {("key-added-optional", "chat/new_message", OK)}, Bump.MINOR),
    "type changed": (_type_changed, {("type-changed", "call/requested", B), ("range-widened", "call/requested", C),
                                     ("range-narrowed", "call/requested", P), ("annotation-changed", "call/requested", OK)},
                     Bump.MAJOR),
    "type widened": (_type_widened, {("type-widened", "friendship/canceled", C),
                                     ("annotation-changed", "friendship/canceled", OK)}, Bump.MAJOR),
    "type narrowed": (_type_narrowed, {("type-narrowed", "game-session/started", P)}, Bump.MAJOR),
    "new enum value": (_enum_value_added, {("enum-value-added", "push", C)}, Bump.MAJOR),
    "enum value removed": (_enum_value_removed, {("enum-value-removed", "push", P)}, Bump.MAJOR),
    "range narrowed": (_range_narrowed, {("range-narrowed", "friendship/rejected", P)}, Bump.MAJOR),
    "range widened": (_range_widened, {("range-widened", "game-session/finished", C)}, Bump.MAJOR),
    "common definition narrowed (every variant using it)": (
        _common_range_narrowed,
        {("range-narrowed", f"call/{v}", P) for v in ("requested", "accepted", "rejected", "terminated",
                                                       "user_not_available", "user_not_responding", "scheduled")},
        Bump.MAJOR),
    "fixed value changed": (_const_changed, {("value-changed", "friendship/accepted", B)}, Bump.MAJOR),
    "pattern added": (_format_added, {("pattern-added", "call/scheduled", P)}, Bump.MAJOR),
    "keys closed": (_keys_closed, {("keys-closed", "call/terminated", P)}, Bump.MAJOR),
    "unknown keyword": (_unknown_keyword, {("keyword-changed", "call/rejected", B)}, Bump.MAJOR),
    "description": (_description, {("annotation-changed", "friendship/terminated", OK)}, Bump.PATCH),
    "variant added": (_variant_added, {("variant-added", "friendship/blocked", B)}, Bump.MAJOR),
    "variant removed": (_variant_removed, {("variant-removed", "call/scheduled", B)}, Bump.MAJOR),
    "family removed": (_family_removed, {("family-removed", "chat", B)}, Bump.MAJOR),
    "recipient added": (_recipient_added, {("recipient-added", "friendship/accepted", P)}, Bump.MAJOR),
    "recipient removed": (_recipient_removed, {("recipient-removed", "game-session/canceled", B)}, Bump.MAJOR),
    "channel added": (_channel_added, {("channel-added", "call/requested", P)}, Bump.MAJOR),
    "channel removed": (_channel_removed, {("channel-removed", "chat/new_message", B)}, Bump.MAJOR),
    "deadline shortened": (_deadline_shortened, {("deadline-shortened", "contract", P)}, Bump.MAJOR),
    "deadline lengthened": (_deadline_lengthened, {("deadline-lengthened", "contract", C)}, Bump.MAJOR),
    "rule raised SHOULD -> MUST": (_rule_raised, {("rule-raised", "contract", P)}, Bump.MAJOR),
    "rule lowered MUST -> SHOULD": (_rule_lowered, {("rule-lowered", "contract", C)}, Bump.MAJOR),
    "MUST rule added": (_must_rule_added, {("rule-added", "contract", P)}, Bump.MAJOR),
    "SHOULD rule added": (_should_rule_added, {("rule-added", "contract", OK)}, Bump.MINOR),
    "MUST rule removed": (_must_rule_removed, {("rule-removed", "contract", C)}, Bump.MAJOR),
    "rule reworded": (_rule_reworded, {("rule-reworded", "contract", OK)}, Bump.PATCH),
    "MUST rule attached to a variant": (_must_rule_attached, {("rule-attached", "friendship/canceled", P)}, Bump.MAJOR),
    "state transition added": (_transition_added, {("transition-added", "game-session", B)}, Bump.MAJOR),
    "state transition removed": (_transition_removed, {("transition-removed", "game-session", P)}, Bump.MAJOR),
    "push encoding changed": (_push_encoding, {("push-encoding-changed", "contract", B)}, Bump.MAJOR),
    "identity key added": (_identity_key, {("identity-key-added", "friendship", OK)}, Bump.MINOR),
}


def _side(change: Any) -> str:
    if change.breaks_consumers and change.breaks_producers:
        return B
    if change.breaks_consumers:
        return C
    return P if change.breaks_producers else OK


@pytest.mark.parametrize("name", sorted(CASES))
def test_change_kind(name: str, base: Any) -> None:
    mutate, expected, bump = CASES[name]
    diff = diff_contracts(base, mutated(mutate))
    found = {(c.kind, c.scope, _side(c)) for c in diff.changes}
    assert found == expected, "\n".join(f"{c.kind} {c.scope} {c.pointer}: {c.reason}" for c in diff.changes)
    assert diff.bump is bump
    for change in diff.changes:
        assert change.pointer and change.reason


def test_no_change_is_no_bump(base: Any) -> None:
    diff = diff_contracts(base, mutated(lambda files: None))
    assert diff.changes == () and diff.bump is Bump.NONE and diff.required_version == base.version


def test_a_change_is_judged_the_other_way_round_when_reverted(base: Any) -> None:
    """Adding a required key breaks producers; taking it away again breaks consumers."""
    after = mutated(_new_required_key)
    assert {(c.kind, _side(c)) for c in diff_contracts(base, after).changes} == {("key-added-required", P)}
    assert {(c.kind, _side(c)) for c in diff_contracts(after, base).changes} == {("key-removed", C)}


def test_pointer_and_rule_name_the_payload_key(base: Any) -> None:
    (change,) = diff_contracts(base, mutated(_optional_key)).changes
    assert (change.pointer, change.rule) == ("/call_id", "PAY-003")
    (change,) = diff_contracts(base, mutated(_type_narrowed)).changes
    assert (change.pointer, change.rule) == ("/scheduled_at", "PAY-004")
    (change,) = diff_contracts(base, mutated(_enum_value_added)).changes
    assert (change.pointer, change.rule) == ("/data/type", "PUSH-002")


def test_an_optional_key_made_required_breaks_producers(base: Any) -> None:
    def optional_name(files: Files) -> None:
        variant_schema(files, "chat", "new_message")["properties"]["thread"]["properties"]["name"] = {"type": "string"}

    def required_name(files: Files) -> None:
        optional_name(files)
        variant_schema(files, "chat", "new_message")["properties"]["thread"]["required"].append("name")

    (change,) = diff_contracts(mutated(optional_name), mutated(required_name)).changes
    assert (change.kind, change.scope, change.pointer, _side(change)) == ("key-made-required", "chat/new_message", "/thread/name", P)
