"""WebSocket authentication: connections without or with bad credentials are refused."""
from __future__ import annotations

import pytest

from harness.listener import probe

FAMILY = "auth"
rule = pytest.mark.rule


def _probe(check, url, label):
    ws = check.target.profile.websocket
    return probe(url, framing=ws.framing, identifier=ws.identifier, wait=1.0, label=label, transcript=check.transcript)


@rule("AUTH-001")
def test_a_connection_without_credentials_is_refused(check):
    """Connecting to the notification socket without a token is refused (HTTP 401/403, or ActionCable disconnect unauthorized)."""
    result = _probe(check, check.target.unauthenticated_websocket_url(), "anonymous")
    check.transcript.record("note", "anonymous", text=f"connection without credentials: {result.how}")
    if not result.refused:
        check.violation("AUTH-001", f"a connection without credentials was accepted ({result.how})", source="anonymous")


@rule("AUTH-002")
def test_a_connection_with_a_wrong_token_is_refused(check):
    """Connecting with a token the backend never issued is refused."""
    result = _probe(check, check.target.bad_credentials_websocket_url(), "impostor")
    check.transcript.record("note", "impostor", text=f"connection with a wrong token: {result.how}")
    if not result.refused:
        check.violation("AUTH-002", f"a connection with a wrong token was accepted ({result.how})", source="impostor")
