"""Buddy4all notification conformance kit: the contract as data, validation, and the harness.

The public API is what `__all__` lists; every other module is importable but not promised.
Names load lazily (PEP 562), so `import harness.reference` or `harness.emulator` does not pull in
the checking code: the reference backend and the emulator stay independent of it.
"""
from __future__ import annotations

from harness.lazy import lazy_exports

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


__getattr__ = lazy_exports(__name__, globals(), _EXPORTS)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
