"""`diff_contracts(old, new)`: every difference between two contracts, each judged for consumers and
producers, and the version the new contract must carry.

Payload schemas are compared per variant (harness.evolution.schema_diff); rules.json is compared
here: rules and their levels, per variant the recipients, channels and rules, the game state graph,
deadlines and the push encoding. What this module does not know how to judge counts as breaking
for both sides, flagged for review.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from typing import Any

from harness.evolution.model import Bump, Change, Side, addition, both, consumers, next_version, producers, wording
from harness.evolution.schema_diff import SchemaDiff, inlined, registry_of
from harness.evolution.snapshot import Snapshot

#: rules.json keys compared below; any other top-level key that differs is reported as unjudged.
_RULES_KEYS = {"$schema", "contract_version", "deadlines", "schema_keyword_rules", "push", "roles", "rules", "families"}
#: Schema files that are not part of the notification contract (the harness's own inputs and outputs).
NOT_CONTRACT = {"rules.schema.json", "profile.schema.json", "report.schema.json"}
FCM_MESSAGE = "fcm-message.json"
UNION = "notification.json"
COMMON = "common.json"


@dataclasses.dataclass(frozen=True)
class ContractDiff:
    old: Snapshot
    new: Snapshot
    changes: tuple[Change, ...]

    @property
    def bump(self) -> Bump:
        return max((c.bump for c in self.changes), default=Bump.NONE)

    @property
    def required_version(self) -> str:
        """What the new contract's version must be, following from the old one's."""
        return next_version(self.old.version, self.bump)

    @property
    def version_follows(self) -> bool:
        return self.new.version == self.required_version

    def breaking(self, side: Side) -> list[Change]:
        return [c for c in self.changes if c.breaks(side)]

    def is_breaking(self, sides: Iterable[Side]) -> bool:
        return any(self.breaking(side) for side in sides)


def diff_contracts(old: Snapshot, new: Snapshot) -> ContractDiff:
    """Raises ValueError for a contract whose schemas cannot be resolved (a dangling $ref)."""
    changes: list[Change] = []
    changes += _rules(old.rules, new.rules)
    changes += _contract_settings(old.rules, new.rules)
    changes += _families(old, new)
    changes += _push_schema(old, new)
    changes += _common_annotations(old, new)
    changes += _union(old, new)
    return ContractDiff(old, new, tuple(changes))


def _rule_levels(rules: dict[str, Any]) -> dict[str, str]:
    return {r["id"]: r["level"] for r in rules.get("rules", ())}


def _index(items: list[dict[str, Any]], key: str) -> dict[str, tuple[int, dict[str, Any]]]:
    return {item[key]: (i, item) for i, item in enumerate(items)}


def _rules(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    before, after = _index(old.get("rules", []), "id"), _index(new.get("rules", []), "id")
    for rule_id, (i, rule) in after.items():
        at = f"rules.json#/rules/{i}"
        if rule_id not in before:
            title = f"{rule['level']} {rule_id}: {rule['title']}"
            if rule["level"] == "MUST":
                changes.append(producers("contract", at, rule_id, "rule-added",
                                         f"new rule {title}: a backend that passed the old contract may fail it"))
            else:
                changes.append(addition("contract", at, rule_id, "rule-added",
                                        f"new rule {title}: reported, failing only in strict mode"))
            continue
        was = before[rule_id][1]
        if was["level"] != rule["level"]:
            if rule["level"] == "MUST":
                changes.append(producers("contract", f"{at}/level", rule_id, "rule-raised",
                                         f"{rule_id} raised from {was['level']} to MUST: what was reported now fails"))
            else:
                changes.append(consumers("contract", f"{at}/level", rule_id, "rule-lowered",
                                         f"{rule_id} lowered from MUST to {rule['level']}: apps can no longer rely on it"))
        for field in ("title", "description", "threat"):  # threat: the security rules' prose
            if was.get(field) != rule.get(field):
                changes.append(wording("contract", f"{at}/{field}", rule_id, "rule-reworded",
                                       f"the {field} of {rule_id} was rewritten: a person should judge whether it asks more or less",
                                       review=True))
        if was.get("section") != rule.get("section"):
            changes.append(wording("contract", f"{at}/section", rule_id, "rule-moved",
                                   f"{rule_id} moved from section {was.get('section')!r} to {rule.get('section')!r}"))
    for rule_id, (i, rule) in before.items():
        if rule_id not in after:
            at = f"rules.json#/rules/{i}"
            if rule["level"] == "MUST":
                changes.append(consumers("contract", at, rule_id, "rule-removed",
                                         f"the MUST {rule_id} ({rule['title']}) is gone: apps can no longer rely on it"))
            else:
                changes.append(wording("contract", at, rule_id, "rule-removed", f"the SHOULD {rule_id} ({rule['title']}) is gone"))
    return changes


def _contract_settings(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    deadline_rule = {"websocket_seconds": "DLV-001", "push_seconds": "DLV-002"}
    old_deadlines, new_deadlines = old.get("deadlines", {}), new.get("deadlines", {})
    for name in sorted(set(old_deadlines) | set(new_deadlines)):
        before, after = old_deadlines.get(name), new_deadlines.get(name)
        at, rule = f"rules.json#/deadlines/{name}", deadline_rule.get(name)
        if before == after:
            continue
        if before is None or (after is not None and after < before):
            changes.append(producers("contract", at, rule, "deadline-shortened",
                                     f"{name} {before} -> {after}: backends must deliver sooner"))
        else:
            changes.append(consumers("contract", at, rule, "deadline-lengthened",
                                     f"{name} {before} -> {after}: apps may wait longer than they were told"))
    old_push, new_push = old.get("push", {}), new.get("push", {})
    for key in sorted(set(old_push) | set(new_push)):
        before, after = old_push.get(key), new_push.get(key)
        if before == after:
            continue
        at = f"rules.json#/push/{key}"
        if key in ("reserved_keys", "reserved_prefixes") and isinstance(before, list) and isinstance(after, list):
            if set(after) - set(before):
                changes.append(producers("contract", at, "PUSH-002", "push-reserved-added",
                                         f"newly reserved {sorted(set(after) - set(before))}: backends must not send them"))
            if set(before) - set(after):
                changes.append(consumers("contract", at, "PUSH-002", "push-reserved-removed",
                                         f"no longer reserved {sorted(set(before) - set(after))}: apps may receive them"))
        else:
            changes.append(both("contract", at, "PUSH-003", "push-encoding-changed",
                                f"the FCM data encoding's {key} changed ({before!r} -> {after!r}): both ends of a push must change"))
    for key in ("schema_keyword_rules", "roles"):
        if old.get(key) != new.get(key):
            changes.append(wording("contract", f"rules.json#/{key}", None, f"{key.replace('_', '-')}-changed",
                                   f"{key} changed (which rule names a schema error, or role wording): reports change, payloads do not"))
    for key in sorted((set(old) | set(new)) - _RULES_KEYS):
        if old.get(key) != new.get(key):
            changes.append(both("contract", f"rules.json#/{key}", None, "unjudged-change",
                                f"rules.json '{key}' changed; the diff does not know it, so it counts as breaking", review=True))
    return changes


def _keyword_rule(rules: dict[str, Any], table: str) -> Callable[[str], str | None]:
    mapping = rules.get("schema_keyword_rules", {}).get(table, {})
    return lambda keyword: mapping.get(keyword, mapping.get("type"))


def _variant_schema(snapshot: Snapshot, registry: Any, family: dict[str, Any], variant: str) -> Any:
    base = snapshot.files[family["schema"]]["$id"]
    try:
        node = snapshot.files[family["schema"]]["$defs"][variant]
    except KeyError:
        raise ValueError(f"{snapshot.label}: {family['schema']} has no $defs/{variant} for variant {family['name']}/{variant}") from None
    return inlined(registry, base, node)


def _families(old: Snapshot, new: Snapshot) -> list[Change]:
    changes: list[Change] = []
    old_registry, new_registry = registry_of(old), registry_of(new)
    before, after = _index(old.rules["families"], "name"), _index(new.rules["families"], "name")
    for name, (i, family) in after.items():
        at = f"rules.json#/families/{i}"
        if name not in before:
            changes.append(both(name, at, "PAY-001", "family-added",
                                f"new family {name} (message_type {family['message_type']}): apps reject an unknown "
                                "message_type; backends must send it"))
            continue
        was = before[name][1]
        for key, kind in (("message_type", "message-type-changed"), ("discriminator", "discriminator-changed"),
                          ("counterpart_key", "counterpart-key-changed")):
            if was.get(key) != family.get(key):
                changes.append(both(name, f"{at}/{key}", "PAY-001" if key == "message_type" else "PAY-002", kind,
                                    f"{key} {was.get(key)!r} -> {family.get(key)!r}: both ends must change"))
        if was.get("schema") != family.get("schema"):
            changes.append(consumers(name, f"{at}/schema", None, "schema-file-renamed",
                                     f"the schema file moved from {was.get('schema')} to {family.get('schema')}: tools that load it by name break"))
        for key in ("title", "roles"):
            if was.get(key) != family.get(key):
                changes.append(wording(name, f"{at}/{key}", None, "family-reworded", f"the family's {key} changed"))
        changes += _identity_and_field_rules(name, at, was, family, _rule_levels(old.rules), _rule_levels(new.rules))
        changes += _rule_lists(name, f"{at}/rules", was.get("rules", []), family.get("rules", []), old.rules, new.rules)
        changes += _transitions(name, at, was.get("transitions", []), family.get("transitions", []))
        changes += _family_file_annotations(old, new, was, family)
        changes += _variants(old, new, old_registry, new_registry, was, family, at, f"rules.json#/families/{before[name][0]}")
    for name, (i, family) in before.items():
        if name not in after:
            changes.append(both(name, f"rules.json#/families/{i}", "PAY-001", "family-removed",
                                f"family {name} (message_type {family['message_type']}) is gone: apps lose it; backends "
                                "still sending it fail"))
    return changes


def _identity_and_field_rules(scope: str, at: str, was: dict[str, Any], family: dict[str, Any],
                              old_rules: dict[str, str], new_rules: dict[str, str]) -> list[Change]:
    changes: list[Change] = []
    before, after = was.get("identity_keys", []), family.get("identity_keys", [])
    for key in after:
        if key not in before:
            changes.append(addition(scope, f"{at}/identity_keys", None, "identity-key-added",
                                    f"'{key}' identifies an event's copies (for attributing stray copies); the family's "
                                    "field rules, not this list, are what require its value"))
    for key in before:
        if key not in after:
            changes.append(wording(scope, f"{at}/identity_keys", None, "identity-key-removed",
                                   f"'{key}' no longer identifies an event's copies"))
    old_fields, new_fields = was.get("field_rules", {}), family.get("field_rules", {})
    for key in sorted(set(old_fields) | set(new_fields)):
        if old_fields.get(key) == new_fields.get(key):
            continue
        rule = new_fields.get(key) or old_fields.get(key)
        if key not in old_fields:
            if rule in old_rules:  # a rule new in this diff is reported once, as rule-added
                changes.append(addition(scope, f"{at}/field_rules/{key}", rule, "field-rule-added",
                                        f"a wrong '{key}' is now reported as {rule}"))
        elif key not in new_fields:
            if rule in new_rules:  # a rule gone in this diff is reported once, as rule-removed
                changes.append(wording(scope, f"{at}/field_rules/{key}", rule, "field-rule-removed",
                                       f"a wrong '{key}' is no longer reported as {rule}", review=True))
        else:
            changes.append(wording(scope, f"{at}/field_rules/{key}", rule, "field-rule-changed",
                                   f"a wrong '{key}' is reported as {new_fields.get(key)} (was {old_fields.get(key)})", review=True))
    return changes


def _rule_lists(scope: str, at: str, before: list[str], after: list[str], old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Rules attached to or detached from a variant or family; a rule new (or gone) in this diff is
    reported once, as rule-added (rule-removed), not once per variant."""
    changes: list[Change] = []
    old_levels, new_levels = _rule_levels(old), _rule_levels(new)
    for rule in after:
        if rule in before or rule not in old_levels:
            continue
        level = new_levels.get(rule, "MUST")
        if level == "MUST":
            changes.append(producers(scope, at, rule, "rule-attached", f"the MUST {rule} now applies here"))
        else:
            changes.append(addition(scope, at, rule, "rule-attached", f"the SHOULD {rule} now applies here"))
    for rule in before:
        if rule in after or rule not in new_levels:
            continue
        level = old_levels.get(rule, "MUST")
        if level == "MUST":
            changes.append(consumers(scope, at, rule, "rule-detached", f"the MUST {rule} no longer applies here: apps lose that guarantee"))
        else:
            changes.append(wording(scope, at, rule, "rule-detached", f"the SHOULD {rule} no longer applies here"))
    return changes


def _transitions(scope: str, at: str, before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[Change]:
    changes: list[Change] = []
    old_edges = {(t["from"], t["to"]): set(t.get("by", ())) for t in before}
    new_edges = {(t["from"], t["to"]): set(t.get("by", ())) for t in after}
    for (start, end), by in new_edges.items():
        edge = f"{start} -> {end}"
        if (start, end) not in old_edges:
            changes.append(both(scope, f"{at}/transitions", "GAME-003", "transition-added",
                                f"new transition {edge}: backends must notify it, apps may see a move they were told is impossible"))
        elif by - old_edges[(start, end)]:
            changes.append(both(scope, f"{at}/transitions", "GAME-003", "transition-actor-added",
                                f"{edge} may now be made by {sorted(by - old_edges[(start, end)])}"))
    for (start, end), by in old_edges.items():
        edge = f"{start} -> {end}"
        if (start, end) not in new_edges:
            changes.append(producers(scope, f"{at}/transitions", "DLV-008", "transition-removed",
                                     f"{edge} left the state graph: a backend that still notifies it breaks DLV-008"))
        elif by - new_edges[(start, end)]:
            changes.append(producers(scope, f"{at}/transitions", "DLV-008", "transition-actor-removed",
                                     f"{edge} may no longer be made by {sorted(by - new_edges[(start, end)])}"))
    return changes


def _family_file_annotations(old: Snapshot, new: Snapshot, was: dict[str, Any], family: dict[str, Any]) -> list[Change]:
    before, after = old.files.get(was["schema"], {}), new.files.get(family["schema"], {})
    return [
        wording(family["name"], f"{family['schema']}#/{key}", None, "annotation-changed", f"the family schema's {key} changed")
        for key in ("title", "description")
        if before.get(key) != after.get(key)
    ]


def _variants(old: Snapshot, new: Snapshot, old_registry: Any, new_registry: Any,
              was: dict[str, Any], family: dict[str, Any], at: str, old_at: str) -> list[Change]:
    changes: list[Change] = []
    name = family["name"]
    before, after = _index(was["variants"], "name"), _index(family["variants"], "name")
    rule_of = _keyword_rule(new.rules, "payload")
    for variant, (j, spec) in after.items():
        scope, vat = f"{name}/{variant}", f"{at}/variants/{j}"
        if variant not in before:
            changes.append(both(scope, vat, "PAY-002", "variant-added",
                                f"new variant {scope} ({spec['trigger']}): a strict app rejects an unknown "
                                f"{family.get('discriminator') or 'variant'}; backends must send it"))
            continue
        old_spec = before[variant][1]
        changes += _delivery(scope, vat, old_spec, spec)
        changes += _rule_lists(scope, f"{vat}/rules", old_spec.get("rules", []), spec.get("rules", []), old.rules, new.rules)
        changes += _rule_lists(scope, f"{vat}/delivery_rules", old_spec.get("delivery_rules", []),
                               spec.get("delivery_rules", []), old.rules, new.rules)
        diff = SchemaDiff(scope, rule_of)
        changes += diff.compare(_variant_schema(old, old_registry, was, variant), _variant_schema(new, new_registry, family, variant))
    for variant, (j, spec) in before.items():
        if variant not in after:
            changes.append(both(f"{name}/{variant}", f"{old_at}/variants/{j}", "PAY-002",
                                "variant-removed",
                                f"variant {name}/{variant} is gone: apps lose it; backends still sending it fail PAY-002"))
    return changes


def _delivery(scope: str, at: str, was: dict[str, Any], spec: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    rule = (spec.get("delivery_rules") or ["DLV-001"])[0]
    for key, noun in (("recipients", "recipient"), ("channels", "channel")):
        before, after = was.get(key, []), spec.get(key, [])
        for item in after:
            if item not in before:
                channel_rule = "DLV-002" if item == "fcm" else rule
                changes.append(producers(scope, f"{at}/{key}", channel_rule if key == "channels" else rule, f"{noun}-added",
                                         f"new {noun} {item!r}: backends must deliver there too"))
        for item in before:
            if item not in after:
                channel_rule = "DLV-003" if item == "fcm" else rule
                changes.append(both(scope, f"{at}/{key}", channel_rule if key == "channels" else "DLV-004", f"{noun}-removed",
                                    f"{noun} {item!r} dropped: apps there lose the notification; backends still "
                                    "delivering there break the contract"))
    if was.get("actor") != spec.get("actor"):
        changes.append(both(scope, f"{at}/actor", "DLV-005", "actor-changed",
                            f"the acting user changed from {was.get('actor')!r} to {spec.get('actor')!r}", review=True))
    if was.get("trigger") != spec.get("trigger"):
        changes.append(wording(scope, f"{at}/trigger", None, "trigger-reworded",
                               f"the trigger now reads {spec.get('trigger')!r}", review=True))
    return changes


def _push_schema(old: Snapshot, new: Snapshot) -> list[Change]:
    before, after = old.files.get(FCM_MESSAGE), new.files.get(FCM_MESSAGE)
    if before is None or after is None:
        if before != after:
            return [both("push", FCM_MESSAGE, "PUSH-001", "push-schema-" + ("added" if before is None else "removed"),
                         f"{FCM_MESSAGE} was {'added' if before is None else 'removed'}", review=True)]
        return []
    diff = SchemaDiff("push", _keyword_rule(new.rules, "push"))
    return diff.compare(inlined(registry_of(old), before["$id"], before), inlined(registry_of(new), after["$id"], after))


def _common_annotations(old: Snapshot, new: Snapshot) -> list[Change]:
    """Type changes in common.json appear in every variant using them; only its wording is reported here."""
    before, after = old.files.get(COMMON, {}).get("$defs", {}), new.files.get(COMMON, {}).get("$defs", {})
    return [
        wording("common", f"{COMMON}#/$defs/{name}", None, "annotation-changed", f"the description of common {name} changed")
        for name in sorted(set(before) & set(after))
        if before[name].get("description") != after[name].get("description")
    ]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _union(old: Snapshot, new: Snapshot) -> list[Change]:
    """notification.json is the union of the families for tools that cannot dispatch: a family
    added or removed is reported by rules.json; anything else that changes in it is unjudged."""
    before, after = old.files.get(UNION), new.files.get(UNION)
    if before is None or after is None:
        return []
    strip = ("oneOf", "title", "description")
    if _canonical({k: v for k, v in before.items() if k not in strip}) != _canonical({k: v for k, v in after.items() if k not in strip}):
        return [both("contract", UNION, None, "unjudged-change", f"{UNION} changed beyond its list of families", review=True)]
    changes = []
    if sorted(_canonical(x) for x in before.get("oneOf", [])) != sorted(_canonical(x) for x in after.get("oneOf", [])):
        families_before = {f["schema"] for f in old.rules["families"]}
        families_after = {f["schema"] for f in new.rules["families"]}
        if families_before == families_after:
            changes.append(both("contract", f"{UNION}#/oneOf", "PAY-001", "union-changed",
                                f"{UNION}'s list of families changed while rules.json's did not", review=True))
    for key in ("title", "description"):
        if before.get(key) != after.get(key):
            changes.append(wording("contract", f"{UNION}#/{key}", None, "annotation-changed", f"the union's {key} changed"))
    return changes
