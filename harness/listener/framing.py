"""The framing seam: how a text frame becomes a notification, a readiness signal or a refusal."""
from __future__ import annotations

import dataclasses
import enum
from typing import Any, Protocol


class StepKind(str, enum.Enum):
    #: A notification for the checks (possibly undecodable: then `parse_error` is set).
    MESSAGE = "message"
    #: The connection is now ready to receive notifications.
    READY = "ready"
    #: The server refused the connection or subscription; `reason` says how.
    REFUSED = "refused"
    #: A keep-alive ping of the framing: recorded sparingly, never delivered.
    PING = "ping"
    #: Any other protocol frame (welcome before subscribing, unknown types): recorded only.
    CONTROL = "control"


@dataclasses.dataclass(frozen=True)
class Step:
    """What one frame (or the socket opening) means, and what to answer."""

    kind: StepKind
    payload: Any = None
    parse_error: str | None = None
    #: One line for REFUSED and CONTROL steps, e.g. "ActionCable disconnect (reason unauthorized)".
    reason: str = ""
    #: A frame to send back right away (the ActionCable `subscribe` command after `welcome`).
    reply: str | None = None


class Framing(Protocol):
    """A stateless decoder for one framing; the listener keeps the connection state."""

    @property
    def name(self) -> str: ...

    @property
    def default_subprotocols(self) -> list[str] | None: ...

    def opened(self) -> Step:
        """The socket is open (upgrade accepted): ready at once, or wait for the server."""
        ...

    def decode(self, text: str) -> Step:
        """Interpret one text frame from the server."""
        ...


FRAMINGS = ("plain", "actioncable")


def make_framing(name: str, identifier: dict[str, Any] | str | None) -> Framing:
    """The framing called `name`; `identifier` is the ActionCable channel identifier."""
    # imported here: the framing modules import Step from this module
    from harness.listener.actioncable import ActionCableFraming
    from harness.listener.plain import PlainFraming

    if name == "plain":
        if identifier is not None:
            raise ValueError("identifier is an ActionCable channel identifier; plain framing takes none")
        return PlainFraming()
    if name == "actioncable":
        return ActionCableFraming.from_identifier(identifier)
    raise ValueError(f"unknown framing {name!r}: expected one of {', '.join(FRAMINGS)}")
