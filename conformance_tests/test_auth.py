"""WebSocket authentication: connections without or with bad credentials are refused, and receive nothing."""
from __future__ import annotations

import pytest

from harness.check import CouldNotCheck
from harness.listener import ConnectError, Listener, probe

FAMILY = "auth"
rule = pytest.mark.rule
CREDENTIALS = ("none", "wrong")


def _endpoint(target, credentials):
    """The WebSocket URL and upgrade headers without credentials, or with a token never issued."""
    if credentials == "none":
        return target.unauthenticated_websocket_url(), target.unauthenticated_websocket_headers()
    return target.bad_credentials_websocket_url(), target.bad_credentials_websocket_headers()


@pytest.mark.parametrize(
    "rule_id, credentials",
    [pytest.param("AUTH-001", "none", marks=rule("AUTH-001"), id="without-credentials"),
     pytest.param("AUTH-002", "wrong", marks=rule("AUTH-002"), id="with-a-wrong-token")],
)
def test_a_connection_without_valid_credentials_is_refused(check, rule_id, credentials):
    """Connecting to the notification socket without a token, or with one the backend never issued, is refused: HTTP 401/403 on the upgrade, or ActionCable disconnect unauthorized."""
    ws = check.target.profile.websocket
    url, headers = _endpoint(check.target, credentials)
    try:
        result = probe(url, framing=ws.framing, identifier=ws.identifier, headers=headers, wait=1.0, label=credentials,
                       transcript=check.transcript)
    except ConnectError as exc:
        raise CouldNotCheck(f"could not reach the WebSocket endpoint: {exc}") from None
    check.transcript.record("note", credentials, text=f"connection with {credentials} credentials: {result.how}")
    if result.status is not None and result.status not in (401, 403):
        # 404, 500...: the endpoint did not judge the credentials at all, so nothing can be concluded
        raise CouldNotCheck(f"the upgrade was answered HTTP {result.status}, not a refusal of credentials "
                            "(is websocket.url right?); whether bad credentials are refused is unknown")
    check.judge(rule_id)
    if not result.as_the_contract_asks:
        accepted = "accepted" if not result.refused else f"not refused as the contract asks ({result.how})"
        check.violation(rule_id, f"a connection with {credentials} credentials was {accepted}; "
                        "the contract asks for HTTP 401/403 on the upgrade, or ActionCable disconnect unauthorized", source=credentials)


@rule("AUTH-003", "DLV-001", "DLV-004")
def test_an_unauthenticated_connection_that_was_accepted_receives_nothing(check):
    """Connections without credentials and with a wrong token stay open while A and B chat and befriend: if the backend accepted them, they receive nothing."""
    a = check.user("A")
    b = check.user("B")
    check.connect()
    ws = check.target.profile.websocket
    anonymous = []
    try:
        for credentials in CREDENTIALS:
            url, headers = _endpoint(check.target, credentials)
            listener = Listener(url, framing=ws.framing, identifier=ws.identifier, headers=headers,
                                label=f"anonymous ({credentials} credentials)", transcript=check.transcript)
            try:
                listener.connect(timeout=check.ws_deadline)
            except ConnectError as exc:
                check.transcript.record("note", listener.label, text=f"refused: {exc.reason}")
                continue
            anonymous.append(listener)
        if not anonymous:
            pytest.skip("the target refused every connection without valid credentials (AUTH-001, AUTH-002), so none can receive anything")
        posted = check.require_ok(check.act("chat.post", a, b, text="for B only"))
        check.expect("chat/new_message", posted, actor=a, recipients={b: {"message": "for B only", "thread/id": posted.vars["thread_id"]}})
        invited = check.require_ok(check.act("friendship.request", b, a))
        check.expect("friendship/new_request", invited, actor=b, recipients={a: {"friend_id": b.id, "open_requests": 1}})
        check.finish()  # proves quiet for A and B: what reached them would have reached an anonymous socket too
        if check.problems:
            return  # quiet not proven: AUTH-003 stays unjudged (the check is an ERROR)
        check.judge("AUTH-003")
        for listener in anonymous:
            for received in listener.messages():
                check.violation("AUTH-003", f"{listener.label} received a notification: {str(received.raw)[:200]}",
                                source=listener.label, instance=received.payload)
    finally:
        for listener in anonymous:
            listener.close()
