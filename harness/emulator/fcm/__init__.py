"""The FCM HTTP v1 emulator: faithful send/OAuth endpoints, a control API, and its Python client."""
from __future__ import annotations

from harness.emulator.fcm.inbox import FcmInbox, FcmInboxError
from harness.emulator.fcm.models import CapturedMessage, SendAttempt
from harness.emulator.fcm.server import FcmEmulator
from harness.emulator.fcm.state_dir import EmulatorSetupError

__all__ = ["CapturedMessage", "EmulatorSetupError", "FcmEmulator", "FcmInbox", "FcmInboxError", "SendAttempt"]
