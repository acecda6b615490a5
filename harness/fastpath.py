"""Fast yes/no validation for the common valid case: orjson, dispatch table, jsonschema-rs `is_valid`.

The fast path only ever says "conforms" or "ask jsonschema". A `False` / `None` answer is not a
verdict: the caller then runs `jsonschema` (harness.validation), which decides and explains. So the
fast path may be conservative (say "ask" for a valid payload) but must never say "conforms" for
an invalid one; tests/unit/test_differential.py holds both engines to the same verdicts.

jsonschema-rs is optional: when it cannot be imported, `is_valid` is always False and
`BatchValidator.judge` answers None for every line, so everything goes to `jsonschema`.
The engine resolves `$ref`s only through a registry built from the bundled schemas, with
`offline=True`: a reference outside the contract fails at compile time instead of fetching.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from harness.contract import Contract, Variant, load_contract

try:  # optional engine: without it, jsonschema judges every payload
    import jsonschema_rs
except ImportError:  # pragma: no cover - exercised in a subprocess by the tests
    jsonschema_rs = None  # type: ignore[assignment]

__all__ = ["AVAILABLE", "BatchValidator", "is_valid"]

#: Whether jsonschema-rs could be imported (the fast path is active).
AVAILABLE = jsonschema_rs is not None

#: Lines judged per array call: big enough to amortise the per-call cost of jsonschema-rs, small
#: enough that the parsed payloads are still in the CPU cache (measured: 256 beats 64 and 4096).
_CHUNK = 256

# What converting a Python value for jsonschema-rs can raise (non-str dict keys, lone surrogates).
_CONVERSION_ERRORS = (ValueError, TypeError, OverflowError, UnicodeError)


@functools.cache
def _registry() -> Any:
    contract = load_contract()
    return jsonschema_rs.Registry(
        [(schema["$id"], schema) for schema in contract.schemas.values() if "$id" in schema],
        draft=jsonschema_rs.Draft202012,
    )


def _schema(schema_uri: str, strict: bool) -> dict[str, Any]:
    """The same schema harness.validation gives jsonschema for this variant."""
    schema: dict[str, Any] = {"$ref": schema_uri}
    if strict:
        schema["unevaluatedProperties"] = False
    return schema


def _compile(schema: dict[str, Any]) -> Any:
    return jsonschema_rs.Draft202012Validator(schema, registry=_registry(), validate_formats=True, offline=True)


@functools.cache
def _single(schema_uri: str, strict: bool) -> Callable[[Any], bool]:
    """`is_valid` of the validator for one payload of a variant, compiled on first use."""
    return _compile(_schema(schema_uri, strict)).is_valid  # type: ignore[no-any-return]


@functools.cache
def _array(schema_uri: str, strict: bool) -> Any:
    """A validator for a JSON array of payloads of one variant (one call judges a whole group)."""
    return _compile({"items": _schema(schema_uri, strict)})


def is_valid(payload: Any, variant: Variant, *, strict: bool = False) -> bool:
    """True when jsonschema-rs finds `payload` valid for `variant`; False means "ask jsonschema"."""
    if jsonschema_rs is None:
        return False
    check = _single(variant.schema_uri, strict)
    try:
        return check(payload)
    except _CONVERSION_ERRORS:
        return False  # a value jsonschema-rs cannot take (e.g. non-str keys): jsonschema decides


class _Group:
    """The lines of one chunk that dispatched to one variant, waiting for one array call."""

    __slots__ = ("variant", "validator", "positions", "payloads", "add")

    def __init__(self, variant: Variant, validator: Any) -> None:
        self.variant = variant
        self.validator = validator
        self.positions: list[int] = []
        self.payloads: list[Any] = []
        # Bound appends, looked up once: the per-line loop is the hot spot.
        self.add = (self.positions.append, self.payloads.append)


class BatchValidator:
    """Judges many JSON texts (one payload each) and says which conform, as which variant.

    `judge(lines)` returns, per line, the `Variant` the line conforms to, or None when the line
    must go to the precise path (`json.loads` + `harness.validation.validate`): malformed JSON
    (or JSON orjson refuses, such as NaN), no dispatchable variant, or invalid. Dispatch is the
    same table walk as harness.validation's: `message_type`, then `status`/`state`.
    An instance holds per-call scratch lists: use one per thread.
    """

    def __init__(self, *, strict: bool = False, contract: Contract | None = None) -> None:
        contract = contract or load_contract()
        self.strict = strict
        # message_type -> (discriminator key, {discriminator value: group.add}) or (None, group.add)
        self._routes: dict[str, tuple[str | None, Any]] = {}
        self._groups: list[_Group] = []
        if jsonschema_rs is None:
            return
        for family in contract.families:
            groups = {v.name: self._group(v).add for v in family.variants}
            if family.discriminator is None:
                self._routes[family.message_type] = (None, groups[family.variants[0].name])
            else:
                self._routes[family.message_type] = (family.discriminator, groups)

    def _group(self, variant: Variant) -> _Group:
        group = _Group(variant, _array(variant.schema_uri, self.strict))
        self._groups.append(group)
        return group

    def judge(self, lines: Sequence[str | bytes]) -> list[Variant | None]:
        """Per line: the variant it conforms to, or None ("ask jsonschema")."""
        verdicts: list[Variant | None] = [None] * len(lines)
        if jsonschema_rs is None:
            return verdicts
        for start in range(0, len(lines), _CHUNK):
            self._judge_chunk(lines, start, min(start + _CHUNK, len(lines)), verdicts)
        return verdicts

    def _judge_chunk(self, lines: Sequence[str | bytes], start: int, stop: int, verdicts: list[Variant | None]) -> None:
        loads, routes = orjson.loads, self._routes
        for position in range(start, stop):
            try:
                payload = loads(lines[position])
                key, target = routes[payload["message_type"]]
                if key is not None:
                    target = target[payload[key]]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                # Malformed, not an object, unknown or unhashable message_type/status: jsonschema
                # (and json.loads) say precisely what is wrong.
                continue
            add_position, add_payload = target
            add_position(position)
            add_payload(payload)
        for group in self._groups:
            if group.payloads:
                self._settle(group, verdicts)
                group.positions.clear()
                group.payloads.clear()

    @staticmethod
    def _settle(group: _Group, verdicts: list[Variant | None]) -> None:
        """One call for the whole group; only when it fails, find the failing members."""
        try:
            if group.validator.is_valid(group.payloads):
                bad: set[int] = set()
            else:
                paths = [error.instance_path for error in group.validator.iter_errors(group.payloads)]
                if not all(paths):
                    return  # an error about the array itself cannot be pinned to a member
                bad = {path[0] for path in paths}
        except _CONVERSION_ERRORS:
            return  # orjson output always converts; if not, every member takes the precise path
        variant = group.variant
        for index, position in enumerate(group.positions):
            if index not in bad:
                verdicts[position] = variant
