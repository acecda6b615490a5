"""Compare two versions of one schema (a variant's payload, or the FCM message), keyword by keyword.

Both sides are inlined first (every `$ref` replaced by its target, through the contract's own
`referencing.Registry`), so a change in common.json shows up in every variant that uses it, at the
payload key where it matters. A keyword this walker does not know how to judge is reported as
breaking for both sides, for a person to review: never silently compatible.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import referencing
import referencing.jsonschema

from harness.evolution.model import Change, addition, both, consumers, producers, wording
from harness.evolution.snapshot import Snapshot

#: Keywords that document and never change what validates.
ANNOTATIONS = ("title", "description", "examples", "$comment", "default", "deprecated", "readOnly", "writeOnly")
#: Lower bounds: raising one narrows what validates; upper bounds the reverse.
LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
#: Keywords that hold a value the instance must match exactly (format names, patterns).
EXACT = ("format", "pattern", "contentEncoding", "contentMediaType", "multipleOf")
#: Handled explicitly below, or bookkeeping without effect on an inlined schema.
STRUCTURAL = ("type", "const", "enum", "required", "properties", "additionalProperties", "unevaluatedProperties",
              "items", "$schema", "$id", "$defs", "$anchor")
_JSON_TYPES = frozenset({"null", "boolean", "object", "array", "string", "integer", "number"})


def registry_of(snapshot: Snapshot) -> referencing.Registry:
    resources = [
        (schema["$id"], referencing.jsonschema.DRAFT202012.create_resource(schema))
        for name, schema in snapshot.files.items()
        if name != "rules.json" and isinstance(schema, dict) and "$id" in schema
    ]
    return referencing.Registry().with_resources(resources).crawl()


def inlined(registry: referencing.Registry, base: str, node: Any) -> Any:
    """`node` (found in the document at `base`) with every `$ref` replaced by its target.
    The contract's schemas are not recursive; a cycle would be a contract bug and fails loudly."""

    def expand(node: Any, base: str, depth: int) -> Any:
        if depth > 50:
            raise ValueError(f"$ref cycle under {base}")
        if isinstance(node, dict):
            if "$ref" in node:
                try:
                    resolved = registry.resolver(base_uri=base).lookup(node["$ref"])
                except referencing.exceptions.Unresolvable as exc:
                    raise ValueError(f"cannot resolve $ref {node['$ref']!r} in {base}: {exc}") from None
                document = node["$ref"].split("#")[0]
                target_base = urljoin(base, document) if document else base
                rest = {k: expand(v, base, depth + 1) for k, v in node.items() if k != "$ref"}
                return {**expand(resolved.contents, target_base, depth + 1), **rest}
            return {k: expand(v, base, depth + 1) for k, v in node.items() if k not in ("$id", "$schema", "$defs")}
        if isinstance(node, list):
            return [expand(v, base, depth + 1) for v in node]
        return node

    return expand(node, base, 0)


def _types(schema: dict[str, Any]) -> frozenset[str]:
    """The JSON types a schema admits, `number` spelled out as integer + non-integer."""
    if "type" not in schema:
        if "const" in schema:
            return frozenset({_json_type(schema["const"])})
        return _JSON_TYPES | {"fraction"}
    declared = schema["type"]
    declared = {declared} if isinstance(declared, str) else set(declared)
    if "number" in declared:
        declared |= {"integer", "fraction"}
    return frozenset(declared - {"number"})


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "fraction"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _spell(types: frozenset[str]) -> str:
    shown = set(types)
    if {"integer", "fraction"} <= shown:
        shown -= {"integer", "fraction"}
        shown.add("number")
    shown.discard("fraction")
    return "|".join(sorted(shown)) or "nothing"


class SchemaDiff:
    """Walks an old and a new schema side by side and records one Change per difference."""

    def __init__(self, scope: str, rule_of: Callable[[str], str | None]) -> None:
        self.scope = scope
        self.rule_of = rule_of  # keyword -> the rule that judges it (rules.json schema_keyword_rules)
        self.changes: list[Change] = []

    def _add(self, make: Callable[..., Change], pointer: str, keyword: str, kind: str, reason: str, **kw: Any) -> None:
        self.changes.append(make(self.scope, pointer or "/", self.rule_of(keyword), kind, reason, **kw))

    def compare(self, old: Any, new: Any, pointer: str = "") -> list[Change]:
        if isinstance(old, bool) or isinstance(new, bool) or not isinstance(old, dict) or not isinstance(new, dict):
            if old != new:
                self._add(both, pointer, "type", "schema-replaced", f"the schema changed from {old!r} to {new!r}", review=True)
            return self.changes
        self._annotations(old, new, pointer)
        self._type(old, new, pointer)
        self._const(old, new, pointer)
        self._enum(old, new, pointer)
        self._bounds(old, new, pointer)
        self._exact(old, new, pointer)
        self._closedness(old, new, pointer)
        self._properties(old, new, pointer)
        if "items" in old and "items" in new:
            self.compare(old["items"], new["items"], pointer + "/*")
        elif old.get("items") != new.get("items"):
            self._unjudged("items", old, new, pointer)
        known = set(ANNOTATIONS) | set(LOWER_BOUNDS) | set(UPPER_BOUNDS) | set(EXACT) | set(STRUCTURAL)
        for keyword in sorted((set(old) | set(new)) - known):
            if old.get(keyword) != new.get(keyword):
                self._unjudged(keyword, old, new, pointer)
        return self.changes

    def _unjudged(self, keyword: str, old: dict[str, Any], new: dict[str, Any], pointer: str) -> None:
        self._add(both, pointer, keyword, "keyword-changed",
                  f"'{keyword}' changed ({old.get(keyword)!r} -> {new.get(keyword)!r}); the diff cannot judge it, so it counts as breaking",
                  review=True)

    def _annotations(self, old: dict[str, Any], new: dict[str, Any], pointer: str) -> None:
        for keyword in ANNOTATIONS:
            if old.get(keyword) != new.get(keyword):
                self.changes.append(wording(self.scope, pointer or "/", None, "annotation-changed",
                                            f"the {keyword} changed (documentation only)"))

    def _type(self, old: dict[str, Any], new: dict[str, Any], pointer: str) -> None:
        if "const" in old and "const" in new:
            return  # judged as a value
        before, after = _types(old), _types(new)
        if before == after:
            return
        change = f"type {_spell(before)} -> {_spell(after)}"
        if after > before:
            self._add(consumers, pointer, "type", "type-widened", f"{change}: apps may receive a type they do not handle")
        elif after < before:
            self._add(producers, pointer, "type", "type-narrowed", f"{change}: backends may send a type no longer allowed")
        else:
            self._add(both, pointer, "type", "type-changed", f"{change}: neither side's old values are all valid")

    def _const(self, old: dict[str, Any], new: dict[str, Any], pointer: str) -> None:
        if "const" in old and "const" in new:
            if old["const"] != new["const"]:
                self._add(both, pointer, "const", "value-changed",
                          f"the fixed value changed from {old['const']!r} to {new['const']!r}")
        elif "const" in new:
            self._add(producers, pointer, "const", "value-fixed", f"the value is now fixed to {new['const']!r}")
        elif "const" in old:
            self._add(consumers, pointer, "const", "value-freed",
                      f"the value is no longer fixed to {old['const']!r}: apps may receive others")

    def _enum(self, old: dict[str, Any], new: dict[str, Any], pointer: str) -> None:
        if "enum" not in old and "enum" not in new:
            return
        if "enum" not in old:
            self._add(producers, pointer, "enum", "enum-added", f"the value is now one of {new['enum']!r}")
            return
        if "enum" not in new:
            self._add(consumers, pointer, "enum", "enum-removed", f"the value is no longer limited to {old['enum']!r}")
            return
        added = [v for v in new["enum"] if v not in old["enum"]]
        removed = [v for v in old["enum"] if v not in new["enum"]]
        if added:
            self._add(consumers, pointer, "enum", "enum-value-added",
                      f"new value(s) {added!r}: a strict app rejects a value it does not know")
        if removed:
            self._add(producers, pointer, "enum", "enum-value-removed",
                      f"value(s) {removed!r} no longer allowed: backends sending them fail")

    def _bounds(self, old: dict[str, Any], new: dict[str, Any], pointer: str) -> None:
        for keyword in LOWER_BOUNDS + UPPER_BOUNDS:
            if old.get(keyword) == new.get(keyword):
                continue
            lower = keyword in LOWER_BOUNDS
            before, after = old.get(keyword), new.get(keyword)
            if before is None:
                narrowed = True
            elif after is None:
                narrowed = False
            else:
                narrowed = after > before if lower else after < before
            change = f"{keyword} {before if before is not None else '(none)'} -> {after if after is not None else '(none)'}"
            if narrowed:
                self._add(producers, pointer, keyword, "range-narrowed", f"{change}: backends may send values no longer allowed")
            else:
                self._add(consumers, pointer, keyword, "range-widened", f"{change}: apps may receive values they were told could not occur")

    def _exact(self, old: dict[str, Any], new: dict[str, Any], pointer: str) -> None:
        for keyword in EXACT:
            before, after = old.get(keyword), new.get(keyword)
            if before == after:
                continue
            if before is None:
                self._add(producers, pointer, keyword, f"{keyword}-added", f"{keyword} {after!r} now required of the value")
            elif after is None:
                self._add(consumers, pointer, keyword, f"{keyword}-removed", f"{keyword} {before!r} no longer guaranteed")
            else:
                self._add(both, pointer, keyword, f"{keyword}-changed", f"{keyword} {before!r} -> {after!r}")

    def _closedness(self, old: dict[str, Any], new: dict[str, Any], pointer: str) -> None:
        for keyword in ("additionalProperties", "unevaluatedProperties"):
            before, after = old.get(keyword, True), new.get(keyword, True)
            if before == after:
                continue
            if after is False or (before is True and after is not False):
                self._add(producers, pointer, keyword, "keys-closed", f"{keyword} now limits the keys beyond the listed ones")
            elif before is False or after is True:
                self._add(consumers, pointer, keyword, "keys-opened", f"{keyword} no longer limits the keys beyond the listed ones")
            else:
                self.compare(before, after, pointer + "/*")

    def _properties(self, old: dict[str, Any], new: dict[str, Any], pointer: str) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
        for key in sorted(set(old_props) | set(new_props) | old_required | new_required):
            at = f"{pointer}/{key}"
            was_listed, is_listed = key in old_props or key in old_required, key in new_props or key in new_required
            was_required, is_required = key in old_required, key in new_required
            if was_listed and not is_listed:
                self._add(consumers, at, "required" if was_required else "type", "key-removed",
                          f"'{key}' was {'required' if was_required else 'an optional key'} and is gone from the contract")
                continue
            if is_listed and not was_listed:
                if is_required:
                    self._add(producers, at, "required", "key-added-required",
                              f"'{key}' is a new required key: backends that do not send it fail")
                else:
                    self.changes.append(addition(self.scope, at, self.rule_of("type"), "key-added-optional",
                                                 f"'{key}' is a new optional key"))
                continue
            if was_required and not is_required:
                self._add(consumers, at, "required", "key-made-optional", f"'{key}' is no longer required: apps may not get it")
            elif is_required and not was_required:
                self._add(producers, at, "required", "key-made-required", f"'{key}' is now required: backends that omit it fail")
            if key in old_props and key in new_props:
                self.compare(old_props[key], new_props[key], at)
