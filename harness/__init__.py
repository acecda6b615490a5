"""Buddy4all notification conformance kit: the contract as data, validation, and the harness.

The public API is what `__all__` lists; every other module is importable but not promised.
"""
from __future__ import annotations

from harness.contract import Contract, Family, Rule, Variant, load_contract
from harness.validate import is_valid, validate, validate_push, variant_of
from harness.violations import Level, Outcome, Violation

__all__ = [
    "Contract",
    "Family",
    "Level",
    "Outcome",
    "Rule",
    "Variant",
    "Violation",
    "is_valid",
    "load_contract",
    "validate",
    "validate_push",
    "variant_of",
]
