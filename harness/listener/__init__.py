"""WebSocket capture: one Listener per simulated device, in plain or ActionCable framing."""
from __future__ import annotations

from harness.listener.barrier import connect_all
from harness.listener.connection import Listener
from harness.listener.probe import probe
from harness.listener.values import ConnectError, Received, Refusal, UpgradeRefused

__all__ = ["ConnectError", "Listener", "Received", "Refusal", "UpgradeRefused", "connect_all", "probe"]
