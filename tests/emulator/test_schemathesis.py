"""Schemathesis against the control API's OpenAPI document: no 5xx, no response contradicting it."""
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.emulator.fcm import FcmEmulator
from harness.emulator.fcm.openapi import openapi_document

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture()
def fresh_emulator() -> Iterator[FcmEmulator]:
    with FcmEmulator(proxy=False) as running:
        yield running


def test_schemathesis_finds_no_server_error_and_no_contradiction(fresh_emulator: FcmEmulator) -> None:
    # messages:wait and attempts:wait are exercised by the property tests below: a fuzzer choosing long timeouts
    # would make every example block for minutes.
    result = subprocess.run(
        [str(SCHEMATHESIS), "--config-file", str(CONFIG), "--no-color", "run",
         f"{fresh_emulator.base_url}/emulator/v1/openapi.json", "--checks", "all",
         "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", "15",
         "--seed", "20261125", "--workers", "1", "--generation-database", "none",
         "--request-timeout", "10", "--exclude-path-regex", "(messages|attempts):wait"],
        capture_output=True, text=True, timeout=150)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert "passed" in result.stdout


@pytest.fixture(scope="module")
def wait_emulator() -> Iterator[FcmEmulator]:
    with FcmEmulator(proxy=False) as running:
        yield running


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


WAITS = pytest.mark.parametrize(("kind", "result"), [("messages", "WaitResult"), ("attempts", "AttemptWaitResult")])


@WAITS
def test_wait_accepts_every_schema_valid_body(wait_emulator: FcmEmulator, kind: str, result: str) -> None:
    document = openapi_document(wait_emulator.project_id)
    request_schema = {"$ref": "#/components/schemas/WaitRequest", "components": document["components"]}
    result_schema = {"$ref": f"#/components/schemas/{result}", "components": document["components"]}
    url = f"{wait_emulator.base_url}/emulator/v1/projects/{wait_emulator.project_id}/{kind}:wait"
    session = _session()
    # Timeouts stay tiny: the property is about input handling, not about waiting.
    fields = {
        "count": st.integers(1, 100_000),
        "token": st.none() | st.text(max_size=20),
        "after": st.none() | st.integers(0, 2**53 - 1),
        "timeout": st.floats(0, 0.01) | st.integers(0, 0),
    }
    bodies = st.fixed_dictionaries({"timeout": fields["timeout"]},
                                   optional={k: v for k, v in fields.items() if k != "timeout"})

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(bodies)
    def check(body: dict[str, Any]) -> None:
        jsonschema.validate(body, request_schema)
        response = session.post(url, json=body, timeout=10)
        assert response.status_code == 200, response.text
        jsonschema.validate(response.json(), result_schema)

    check()


@WAITS
def test_wait_refuses_any_other_json_with_a_4xx(wait_emulator: FcmEmulator, kind: str, result: str) -> None:
    url = f"{wait_emulator.base_url}/emulator/v1/projects/{wait_emulator.project_id}/{kind}:wait"
    session = _session()
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
    keys = st.sampled_from(["count", "token", "after", "extra"])
    bodies = st.dictionaries(keys, scalars, max_size=4) | st.lists(scalars, max_size=3) | scalars

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(bodies, st.none() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=3))
    def check(body: object, timeout: object) -> None:
        if isinstance(body, dict):
            # Any valid timeout must stay tiny; an invalid one is refused before any wait.
            body["timeout"] = min(timeout, 0.01) if isinstance(timeout, float) and timeout >= 0 else timeout
            if body["timeout"] is None:
                body["timeout"] = 0
        # data=, not json=: requests sends no body at all for json=None (a wait with defaults).
        response = session.post(url, data=json.dumps(body), headers={"Content-Type": "application/json"},
                                timeout=10)
        assert response.status_code in (200, 400), response.text
        assert set(response.json()) == ({"error"} if response.status_code == 400 else
                                        {kind, "cursor", "timed_out"})

    check()
