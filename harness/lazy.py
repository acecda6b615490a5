"""Lazy package exports (PEP 562): a name is imported from its module on first use.

So `import harness.reference` or `harness.emulator.fcm` pulls in nothing it does not use. A name
is bound in the package on first use: later lookups skip `__getattr__`, and importing a submodule
of the same name can never shadow it (`harness.validate` once was).
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, namespace: dict[str, Any], exports: Mapping[str, str]) -> Callable[[str], Any]:
    """The `__getattr__` of `package`: `exports` maps each name to the module that defines it."""
    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value
    return __getattr__
