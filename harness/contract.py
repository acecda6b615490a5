"""Load the contract (schemas, rules, fixtures) from the installed package, once.

Everything is read through `importlib.resources`, so it works from a wheel outside the checkout;
in a source checkout (editable install) the top-level `schemas/` and `fixtures/` are used.
All schemas go into one immutable `referencing.Registry`; nothing is ever fetched remotely.
"""
from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import json
from collections.abc import Iterator
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import referencing
import referencing.jsonschema

from harness.violations import Level

SCHEMA_BASE = "https://schemas.buddy4all.dev/notifications/v1/"
FAMILY_SCHEMA_FILES = ("friendship.json", "game-session.json", "chat.json", "call.json")


def data_dir(name: str) -> Traversable:
    """`schemas` or `fixtures`: packaged under harness/_data in a wheel, top level in a checkout."""
    packaged = importlib.resources.files("harness") / "_data" / name
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"the contract data directory {name!r} is missing from this install")


@dataclasses.dataclass(frozen=True)
class Rule:
    id: str
    level: Level
    title: str
    description: str
    section: str
    #: the attack or failure a security rule guards against (None for the other sections)
    threat: str | None = None


@dataclasses.dataclass(frozen=True)
class Variant:
    family: str
    name: str
    message_type: str
    discriminator: str | None
    trigger: str
    actor: str
    recipients: tuple[str, ...]
    channels: tuple[str, ...]
    rules: tuple[str, ...]
    delivery_rules: tuple[str, ...]
    schema_uri: str

    @property
    def key(self) -> str:
        """The stable display name, e.g. `friendship/new_request`."""
        return f"{self.family}/{self.name}"

    @property
    def pushed(self) -> bool:
        return "fcm" in self.channels


@dataclasses.dataclass(frozen=True)
class Family:
    name: str
    title: str
    message_type: str
    discriminator: str | None
    schema_file: str
    roles: dict[str, str]
    counterpart_key: str | None
    #: absolute payload keys that identify the event a copy belongs to (rules.json `identity_keys`)
    identity_keys: tuple[str, ...]
    field_rules: dict[str, str]
    rules: tuple[str, ...]
    transitions: tuple[dict[str, Any], ...]
    variants: tuple[Variant, ...]

    def variant(self, name: str) -> Variant | None:
        return next((v for v in self.variants if v.name == name), None)


@dataclasses.dataclass(frozen=True)
class Contract:
    """The whole contract as values. Build it with `load_contract()` (cached)."""

    version: str
    registry: referencing.Registry
    schemas: dict[str, dict[str, Any]]
    rules: dict[str, Rule]
    families: tuple[Family, ...]
    deadlines: dict[str, float]
    keyword_rules: dict[str, dict[str, str]]
    push_conventions: dict[str, Any]
    raw_rules: dict[str, Any]
    _properties_cache: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def family(self, name: str) -> Family:
        for family in self.families:
            if family.name == name:
                return family
        raise KeyError(f"no family {name!r}; known: {', '.join(f.name for f in self.families)}")

    def family_by_message_type(self, message_type: str) -> Family | None:
        return next((f for f in self.families if f.message_type == message_type), None)

    def variant(self, key: str) -> Variant:
        """A variant by its key, `family/name`."""
        family_name, _, name = key.partition("/")
        variant = self.family(family_name).variant(name)
        if variant is None:
            raise KeyError(f"no variant {key!r}")
        return variant

    def variants(self) -> Iterator[Variant]:
        for family in self.families:
            yield from family.variants

    def rule(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def resolve(self, uri: str) -> Any:
        """The schema at an absolute URI (with fragment), resolved through the registry."""
        return self.registry.resolver().lookup(uri).contents

    def variant_properties(self, variant: Variant) -> dict[str, Any]:
        """The variant's top-level `properties`, each `$ref` resolved (used by the push codec).

        Computed once per variant: the error path and the push decoder ask for it per message.
        """
        cached = self._properties_cache.get(variant.schema_uri)
        if cached is None:
            cached = self._properties_cache[variant.schema_uri] = self._resolve_properties(variant)
        return cached

    def inlined(self, uri: str) -> dict[str, Any]:
        """The schema at `uri` with every `$ref` replaced by its target: self-contained, so a
        validator needs no registry lookups (about 3x faster error reports). The contract's
        schemas are not recursive, which is what makes this possible."""
        base = uri.split("#")[0]

        def expand(node: Any, base: str) -> Any:
            if isinstance(node, dict):
                if "$ref" in node:
                    resolved = self.registry.resolver(base_uri=base).lookup(node["$ref"])
                    target_base = node["$ref"].split("#")[0] or base
                    target_base = target_base if "://" in target_base else SCHEMA_BASE + target_base
                    rest = {k: expand(v, base) for k, v in node.items() if k != "$ref"}
                    return {**expand(resolved.contents, target_base), **rest}
                return {k: expand(v, base) for k, v in node.items() if k not in ("examples", "$id", "$schema")}
            if isinstance(node, list):
                return [expand(v, base) for v in node]
            return node

        return expand(self.resolve(uri), base)

    def _resolve_properties(self, variant: Variant) -> dict[str, Any]:
        schema = self.resolve(variant.schema_uri)
        resolver = self.registry.resolver(base_uri=variant.schema_uri.split("#")[0])
        resolved = {}
        for key, sub in schema.get("properties", {}).items():
            if "$ref" in sub:
                sub = {**resolver.lookup(sub["$ref"]).contents, **{k: v for k, v in sub.items() if k != "$ref"}}
            resolved[key] = sub
        return resolved


def _load_json(node: Traversable) -> Any:
    return json.loads(node.read_text(encoding="utf-8"))


@functools.cache
def load_contract() -> Contract:
    root = data_dir("schemas")
    schemas: dict[str, dict[str, Any]] = {}
    for node in sorted(root.iterdir(), key=lambda n: n.name):
        if node.name.endswith(".json"):
            schemas[node.name] = _load_json(node)
    registry: referencing.Registry = referencing.Registry().with_resources(
        (schema["$id"], referencing.jsonschema.DRAFT202012.create_resource(schema))
        for name, schema in schemas.items()
        if name != "rules.json"
    ).crawl()
    raw = schemas.pop("rules.json")
    rules = {
        r["id"]: Rule(r["id"], Level(r["level"]), r["title"], r["description"], r["section"], r.get("threat"))
        for r in raw["rules"]
    }
    families = []
    for f in raw["families"]:
        variants = tuple(
            Variant(
                family=f["name"],
                name=v["name"],
                message_type=f["message_type"],
                discriminator=f["discriminator"],
                trigger=v["trigger"],
                actor=v["actor"],
                recipients=tuple(v["recipients"]),
                channels=tuple(v["channels"]),
                rules=tuple(v["rules"]),
                delivery_rules=tuple(v["delivery_rules"]),
                schema_uri=f"{SCHEMA_BASE}{f['schema']}#/$defs/{v['name']}",
            )
            for v in f["variants"]
        )
        families.append(
            Family(
                name=f["name"],
                title=f["title"],
                message_type=f["message_type"],
                discriminator=f["discriminator"],
                schema_file=f["schema"],
                roles=dict(f["roles"]),
                counterpart_key=f["counterpart_key"],
                identity_keys=tuple(f["identity_keys"]),
                field_rules=dict(f["field_rules"]),
                rules=tuple(f["rules"]),
                transitions=tuple(f.get("transitions", ())),
                variants=variants,
            )
        )
    return Contract(
        version=raw["contract_version"],
        registry=registry,
        schemas=schemas,
        rules=rules,
        families=tuple(families),
        deadlines=dict(raw["deadlines"]),
        keyword_rules=raw["schema_keyword_rules"],
        push_conventions=raw["push"],
        raw_rules=raw,
    )
