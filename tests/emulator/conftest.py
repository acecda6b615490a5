"""Fixtures for the FCM emulator tests: one real emulator per module, reset before each test."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.emulator.fcm import FcmEmulator, FcmInbox

from .helpers import Sender, fetch_token


@pytest.fixture(scope="module")
def emulator() -> Iterator[FcmEmulator]:
    with FcmEmulator(host_mode_port=0) as running:
        yield running


@pytest.fixture()
def inbox(emulator: FcmEmulator) -> Iterator[FcmInbox]:
    client = emulator.inbox()
    client.reset()
    yield client
    client.close()


@pytest.fixture(scope="module")
def service_account_info(emulator: FcmEmulator) -> dict[str, Any]:
    return emulator.service_account()


@pytest.fixture(scope="module")
def credentials_file(emulator: FcmEmulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fcm") / "service-account.json"
    emulator.write_credentials(path)
    return path


@pytest.fixture(scope="module")
def access_token(service_account_info: dict[str, Any]) -> str:
    """A bearer token obtained the real way: google-auth's JWT-bearer grant against /token."""
    return fetch_token(service_account_info)


@pytest.fixture()
def sender(emulator: FcmEmulator, access_token: str, inbox: FcmInbox) -> Sender:
    return Sender(emulator, access_token)
