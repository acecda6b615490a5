"""Shared servers for end-to-end tests: one FCM emulator and one clean reference backend."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.emulator.fcm import FcmEmulator
from harness.reference import ReferenceBackend


@pytest.fixture(scope="module")
def emulator() -> Iterator[FcmEmulator]:
    with FcmEmulator() as running:
        yield running


@pytest.fixture(scope="module")
def backend(emulator: FcmEmulator) -> Iterator[ReferenceBackend]:
    with ReferenceBackend(fcm_emulator_url=emulator.base_url) as running:
        yield running
