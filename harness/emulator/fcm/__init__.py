"""The FCM HTTP v1 emulator: faithful send/OAuth endpoints, a control API, and its Python client.

The server loads lazily (PEP 562): a harness process that only reads the inbox (`FcmInbox`, in
every pytest worker) does not import the emulator's server, TLS and proxy code.
"""
from __future__ import annotations

from harness.emulator.fcm.inbox import FcmInbox, FcmInboxError
from harness.emulator.fcm.models import CapturedMessage, SendAttempt
from harness.lazy import lazy_exports

__all__ = ["CapturedMessage", "EmulatorSetupError", "FcmEmulator", "FcmInbox", "FcmInboxError", "SendAttempt"]

_LAZY = {"FcmEmulator": "harness.emulator.fcm.server", "EmulatorSetupError": "harness.emulator.fcm.state_dir"}


__getattr__ = lazy_exports(__name__, globals(), _LAZY)
