"""Fixtures: the reference backend as a real subprocess, a REST client, WebSocket listeners."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from harness.emulator.fcm import FcmEmulator, FcmInbox
from harness.reference import ReferenceBackend

from .support import Api, Listeners

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.fixture(scope="session")
def fcm() -> Iterator[FcmEmulator]:
    with FcmEmulator() as emulator:
        yield emulator


@pytest.fixture
def inbox(fcm: FcmEmulator) -> Iterator[FcmInbox]:
    client = fcm.inbox()
    yield client
    client.clear_faults()
    client.close()


@pytest.fixture(scope="session")
def reference(fcm: FcmEmulator) -> Iterator[ReferenceBackend]:
    """One fault-free backend pushing to the emulator, for the whole area (tests use fresh
    users and device tokens, so they don't mix)."""
    with ReferenceBackend(ring_timeout=0.5, fcm_emulator_url=fcm.base_url) as backend:
        yield backend


@pytest.fixture
def api(reference: ReferenceBackend) -> Api:
    return Api(reference.base_url)


@pytest.fixture
def listen(reference: ReferenceBackend) -> Iterator[Listeners]:
    listeners = Listeners(reference.ws_url)
    yield listeners
    listeners.close()


@pytest.fixture(scope="session")
def notification_validator() -> Draft202012Validator:
    """The contract's notification schema (tests may use it; the backend never does)."""
    resources = []
    for path in SCHEMAS.glob("*.json"):
        contents = json.loads(path.read_text())
        if "$id" in contents:
            resources.append((contents["$id"], Resource.from_contents(contents)))
    registry = Registry().with_resources(resources)
    schema = json.loads((SCHEMAS / "notification.json").read_text())
    return Draft202012Validator(schema, registry=registry,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)
