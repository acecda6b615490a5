"""pytest plugin (entry point `pytest11`): the `rule` marker and the harness fixtures."""
from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "rule(*ids): the contract rule ids (e.g. FRND-001) this check proves"
    )
