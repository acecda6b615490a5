"""WebSocket authentication: connections without or with bad credentials are refused."""
from __future__ import annotations

import pytest

from harness.listener import probe

FAMILY = "auth"
rule = pytest.mark.rule


@pytest.mark.parametrize(
    "rule_id, credentials",
    [pytest.param("AUTH-001", "none", marks=rule("AUTH-001"), id="without-credentials"),
     pytest.param("AUTH-002", "wrong", marks=rule("AUTH-002"), id="with-a-wrong-token")],
)
def test_a_connection_without_valid_credentials_is_refused(check, rule_id, credentials):
    """Connecting to the notification socket without a token, or with one the backend never issued, is refused (HTTP 401/403, or ActionCable disconnect unauthorized)."""
    ws = check.target.profile.websocket
    if credentials == "none":
        url, headers = check.target.unauthenticated_websocket_url(), check.target.unauthenticated_websocket_headers()
    else:
        url, headers = check.target.bad_credentials_websocket_url(), check.target.bad_credentials_websocket_headers()
    result = probe(url, framing=ws.framing, identifier=ws.identifier, headers=headers, wait=1.0, label=credentials, transcript=check.transcript)
    check.transcript.record("note", credentials, text=f"connection with {credentials} credentials: {result.how}")
    if not result.refused:
        check.violation(rule_id, f"a connection with {credentials} credentials was accepted ({result.how})", source=credentials)
