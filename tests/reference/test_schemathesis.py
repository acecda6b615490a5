"""Schemathesis against the served /openapi.json: no 5xx, no response contradicting the document."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.reference import ReferenceBackend

from .support import Api

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture
def fresh_backend() -> Iterator[ReferenceBackend]:
    """Its own backend: the fuzzer creates many users and rows."""
    with ReferenceBackend(ring_timeout=0.2) as backend:
        yield backend


def test_schemathesis_finds_no_server_error_and_no_contradiction(
        fresh_backend: ReferenceBackend) -> None:
    user = Api(fresh_backend.base_url).user("fuzzer")
    result = subprocess.run(
        [str(SCHEMATHESIS), "--config-file", str(CONFIG), "--no-color", "run",
         f"{fresh_backend.base_url}/openapi.json", "--checks", "all",
         "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", "10",
         "--seed", "20261125", "--workers", "1", "--generation-database", "none",
         "--request-timeout", "10", "-H", f"Authorization: Bearer {user.token}"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert "passed" in result.stdout
    log = "".join(fresh_backend.output)
    assert "unhandled error" not in log and "Traceback" not in log, log[-4000:]
