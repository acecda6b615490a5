"""The FCM HTTP v1 emulator: faithful send/OAuth endpoints, a control API, and its Python client."""
from __future__ import annotations

from harness.emulator.fcm.inbox import FcmInbox, FcmInboxError
from harness.emulator.fcm.models import CapturedMessage, SendAttempt
from harness.emulator.fcm.server import FcmEmulator

__all__ = ["CapturedMessage", "FcmEmulator", "FcmInbox", "FcmInboxError", "SendAttempt"]
