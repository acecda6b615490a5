"""The FCM HTTP v1 emulator: faithful send/OAuth endpoints, a control API, and its Python client.

The server loads lazily (PEP 562): a harness process that only reads the inbox (`FcmInbox`, in
every pytest worker) does not import the emulator's server, TLS and proxy code.
"""
from __future__ import annotations

import importlib
from typing import Any

from harness.emulator.fcm.inbox import FcmInbox, FcmInboxError
from harness.emulator.fcm.models import CapturedMessage, SendAttempt

__all__ = ["CapturedMessage", "EmulatorSetupError", "FcmEmulator", "FcmInbox", "FcmInboxError", "SendAttempt"]

_LAZY = {"FcmEmulator": "harness.emulator.fcm.server", "EmulatorSetupError": "harness.emulator.fcm.state_dir"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'harness.emulator.fcm' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
