"""Buddy4all notification conformance kit: the contract as data, validation, and the harness.

The public API is what `__all__` lists; every other module is importable but not promised.
Names load lazily (PEP 562), so `import harness.reference` or `harness.emulator` does not pull in
the checking code: the reference backend and the emulator stay independent of it.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Contract": "harness.contract",
    "Family": "harness.contract",
    "Rule": "harness.contract",
    "Variant": "harness.contract",
    "load_contract": "harness.contract",
    "is_valid": "harness.validation",
    "validate": "harness.validation",
    "validate_push": "harness.validation",
    "variant_of": "harness.validation",
    "Level": "harness.violations",
    "Outcome": "harness.violations",
    "Violation": "harness.violations",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    # Bind it here: later lookups skip __getattr__, and a submodule import can never shadow it.
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
