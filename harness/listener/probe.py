"""probe(): try a connection (say, without a token) and report whether and how it was refused."""
from __future__ import annotations

import time
from typing import Any

from harness.listener.connection import Listener, State
from harness.listener.values import Refusal, UpgradeRefused
from harness.transcript import Transcript

#: Time allowed for the TCP connect and the upgrade answer; `wait` covers what follows.
UPGRADE_TIMEOUT = 5.0


def probe(url: str, *, framing: str = "plain", identifier: dict[str, Any] | str | None = None,
          headers: dict[str, str] | None = None, subprotocols: list[str] | None = None,
          wait: float = 1.0, label: str = "", transcript: Transcript | None = None) -> Refusal:
    """Refused: the upgrade fails with an HTTP status, the server sends an ActionCable `disconnect`
    or `reject_subscription`, or closes the socket (ActionCable: before it is ready; plain: within
    `wait` seconds). Accepted: ActionCable `welcome` (and `confirm_subscription` when an identifier
    is given), or a plain socket still open after `wait` seconds.

    A server that cannot be reached at all raises ConnectError: that is no refusal to credit.
    """
    listener = Listener(url, framing=framing, identifier=identifier, headers=headers,
                        subprotocols=subprotocols, label=label, transcript=transcript)
    try:
        try:
            listener._start(UPGRADE_TIMEOUT)
        except UpgradeRefused as exc:
            return _verdict(listener, Refusal(True, f"HTTP {exc.status} on upgrade", (), status=exc.status), transcript)
        deadline = time.monotonic() + wait
        # plain: readiness is immediate, so watch the socket for the whole window
        until = (State.ENDED,) if framing == "plain" else (State.READY, State.ENDED)
        state = listener._settle(deadline, until=until)
        received = tuple(listener.messages())
        if state is State.ENDED:
            return _verdict(listener, Refusal(True, listener._end_info()[1], received), transcript)
        if state is State.READY:
            return _verdict(listener, Refusal(False, "accepted", received), transcript)
        awaited = "confirm_subscription" if identifier is not None else "welcome"
        return _verdict(listener, Refusal(False, f"open without {awaited} after {wait:g} s", received), transcript)
    finally:
        listener.close()


def _verdict(listener: Listener, refusal: Refusal, transcript: Transcript | None) -> Refusal:
    if transcript is not None:
        transcript.record("note", listener.label, event="probe", refused=refusal.refused, how=refusal.how,
                          received=len(refusal.received))
    return refusal
