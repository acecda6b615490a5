"""Fast engines for the common valid case: they say "conforms" or "ask jsonschema", never explain.

Two engines, each for what it is fastest at:
  - `BatchValidator` judges JSON texts (`b4a validate --jsonl`): msgspec types compiled from the
    variant schemas (harness.compiled_types) parse, dispatch and judge a line in one C call,
    about as fast as `orjson.loads` alone, and never build a dict for a valid line.
  - `is_valid` / `error_locations` judge a payload already parsed, with jsonschema-rs validators
    compiled once per variant from the same inlined schema jsonschema uses (no registry lookups
    at call time). harness.validation asks `error_locations` where a payload is invalid and turns
    the answer into the same Violations jsonschema's errors give, or asks jsonschema when it cannot.

A "no" from a fast engine is not a verdict: the caller then asks harness.validation, which decides.
So an engine may be conservative (refuse a valid payload) but must never pass an invalid one;
tests/unit/test_differential.py holds every engine to jsonschema's verdicts.

Both libraries are optional: without msgspec every line takes the precise path; without
jsonschema-rs, `is_valid` is always False and `error_locations` None, so jsonschema judges.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from harness.contract import Contract, Variant, load_contract

if TYPE_CHECKING:
    from harness.compiled_types import LineDecoder

try:  # optional engine: without it, jsonschema judges every payload
    import jsonschema_rs
except ImportError:  # pragma: no cover - exercised in a subprocess by the tests
    jsonschema_rs = None  # type: ignore[assignment]

__all__ = ["AVAILABLE", "BatchValidator", "error_locations", "is_valid", "lines_available", "variant_schema"]

#: Whether jsonschema-rs could be imported (`is_valid` and `error_locations` are active).
AVAILABLE = jsonschema_rs is not None

# What converting a Python value for jsonschema-rs can raise (non-str dict keys, lone surrogates).
_CONVERSION_ERRORS = (ValueError, TypeError, OverflowError, UnicodeError)

#: (instance path, schema path) of one error, as jsonschema-rs reports it.
Location = tuple[list[str | int], list[str | int]]


def lines_available() -> bool:
    """Whether msgspec can be imported (`BatchValidator` passes lines without the precise path).
    Imported on first use: `harness.validate` alone never pays for it."""
    return _line_compiler() is not None


@functools.cache
def _line_compiler() -> Callable[..., LineDecoder | None] | None:
    try:  # optional engine: without it, every JSON line takes the precise path
        from harness.compiled_types import compile_decoder
    except ImportError:
        return None
    return compile_decoder


@functools.cache
def variant_schema(schema_uri: str, strict: bool) -> dict[str, Any]:
    """The schema a variant is judged by, by every engine: the variant's schema with its `$ref`s
    inlined (no lookups at call time) and, in strict mode, `unevaluatedProperties: false` on top.
    Shared and cached: never mutate it."""
    schema = load_contract().inlined(schema_uri)
    if strict:
        schema["unevaluatedProperties"] = False
    return schema


@functools.cache
def _registry() -> Any:
    contract = load_contract()
    return jsonschema_rs.Registry(
        [(schema["$id"], schema) for schema in contract.schemas.values() if "$id" in schema],
        draft=jsonschema_rs.Draft202012,
    )


def _compile(schema: dict[str, Any]) -> Any:
    """A jsonschema-rs validator; a `$ref` resolves only through the bundled schemas (`offline`):
    a reference outside the contract fails here instead of fetching."""
    return jsonschema_rs.Draft202012Validator(schema, registry=_registry(), validate_formats=True, offline=True)


@functools.cache
def _validator(schema_uri: str, strict: bool) -> Any:
    """The jsonschema-rs validator of one variant, compiled on first use."""
    return _compile(variant_schema(schema_uri, strict))


@functools.cache
def _single(schema_uri: str, strict: bool) -> Callable[[Any], bool]:
    """`is_valid` of the variant's validator, looked up once."""
    return _validator(schema_uri, strict).is_valid  # type: ignore[no-any-return]


def is_valid(payload: Any, variant: Variant, *, strict: bool = False) -> bool:
    """True when jsonschema-rs finds `payload` valid for `variant`; False means "ask jsonschema"."""
    if jsonschema_rs is None:
        return False
    try:
        return _single(variant.schema_uri, strict)(payload)
    except _CONVERSION_ERRORS:
        return False  # a value jsonschema-rs cannot take (e.g. non-str keys): jsonschema decides


def error_locations(payload: Any, variant: Variant, *, strict: bool = False) -> list[Location] | None:
    """Where jsonschema-rs finds `payload` invalid for `variant` (`[]`: valid), in its order; None
    when it cannot say (no engine, or a value it cannot take), and jsonschema must."""
    if jsonschema_rs is None:
        return None
    try:
        return [(error.instance_path, error.schema_path) for error in _validator(variant.schema_uri, strict).iter_errors(payload)]
    except _CONVERSION_ERRORS:
        return None


class BatchValidator:
    """Judges JSON texts (one payload each) and says which conform, as which variant.

    `judge(lines)` returns, per line, the `Variant` the line conforms to, or None when the line
    must go to the precise path (parsed as `json.loads` reads it, judged by harness.validation): malformed JSON (or
    JSON msgspec refuses, such as NaN), no dispatchable variant, invalid, or valid in a way the
    compiled types do not take (an integer written 1.0). `failures(lines)` returns only the
    positions of those lines: what `b4a validate --jsonl` needs when it prints errors only.
    Lines are `bytes` or `str`; the caller has checked that bytes are UTF-8 (msgspec does not
    look inside the strings of keys it skips).
    """

    def __init__(self, *, strict: bool = False, contract: Contract | None = None) -> None:
        self.strict = strict
        compile_decoder = _line_compiler()
        self._decoder = compile_decoder(contract or load_contract(), strict=strict) if compile_decoder else None

    @property
    def active(self) -> bool:
        """Whether any line can pass here (msgspec is installed and a family compiled)."""
        return self._decoder is not None

    def judge(self, lines: Sequence[str | bytes]) -> list[Variant | None]:
        """Per line: the variant it conforms to, or None ("ask jsonschema")."""
        if self._decoder is None:
            return [None] * len(lines)
        decode, refused = self._decoder.decode, self._decoder.refused
        verdicts: list[Variant | None] = []
        add = verdicts.append
        for line in lines:  # the hot loop: locals only
            try:
                struct = decode(line)
            except refused:
                add(None)
                continue
            add(struct.variants[struct.kind])
        return verdicts

    def failures(self, lines: Sequence[str | bytes]) -> list[int]:
        """The positions of the lines `judge` answers None for, in order."""
        if self._decoder is None:
            return list(range(len(lines)))
        decode, refused = self._decoder.decode, self._decoder.refused
        failed: list[int] = []
        for position, line in enumerate(lines):  # the hot loop: locals only
            try:
                decode(line)
            except refused:
                failed.append(position)
        return failed
