"""The table of deliberate bugs the reference backend can switch on, each breaking one rule."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """One switchable bug: its `--fault` name, the contract rule it breaks, what it does."""

    name: str
    rule_id: str
    description: str


#: Every fault the backend knows. Names and rule ids are stable: the suite's self-test uses them.
FAULTS: tuple[Fault, ...] = (
    Fault("wrong-friend-id", "FRND-001",
          "friendship notifications carry the recipient's own id as friend_id"),
    Fault("open-requests-off-by-one", "FRND-002",
          "open_requests is one more than the recipient's pending incoming requests"),
    Fault("push-on-websocket-only", "DLV-003",
          "the WebSocket-only friendship 'canceled' is also pushed through FCM"),
    Fault("missing-push", "DLV-002",
          "friendship new_request is sent over WebSocket only, no push"),
    Fault("echo-to-actor", "DLV-005",
          "friendship notifications are also sent to the acting user"),
    Fault("leak-to-third", "DLV-004",
          "chat notifications are broadcast to every connected user"),
    Fault("game-one-side", "GAME-001",
          "game session updates reach only the partner, not the creator"),
    Fault("missing-key", "PAY-003",
          "friendship notifications lack open_requests"),
    Fault("string-ids", "PAY-004",
          "friendship friend_id is sent as a JSON string"),
    Fault("wrong-message-type", "PAY-001",
          "chat notifications say message_type 'api_chat'"),
    Fault("accept-unauthenticated-socket", "AUTH-001",
          "/ws and /cable accept connections without a token or with a bad one"),
    Fault("bad-date-time", "PAY-004",
          "game scheduled_at is sent as '2026-11-25 14:00' instead of RFC 3339"),
    Fault("no-user-not-available", "CALL-002",
          "calling an offline user rings anyway; the caller never gets user_not_available"),
    Fault("no-user-not-responding", "CALL-003",
          "an unanswered call never times out; the caller never gets user_not_responding"),
    Fault("push-data-not-strings", "PUSH-001",
          "push data carries integers as JSON numbers (raw v1 request, bypassing the SDK check)"),
    Fault("push-message-type-key", "PUSH-002",
          "push data carries the reserved key message_type instead of type"),
    Fault("notify-refused-action", "DLV-008",
          "a refused friendship accept (409) still notifies the creator"),
    Fault("duplicate-delivery", "DLV-006",
          "every WebSocket frame is sent twice"),
    Fault("push-to-unregistered", "PUSH-005",
          "device tokens FCM reports UNREGISTERED are kept and used again"),
    Fault("push-failure-fails-action", "PUSH-004",
          "pushes are sent inside the request, before WebSocket delivery; a failed push returns 502"),
    Fault("wrong-chat-thread", "CHAT-001",
          "the chat notification's thread id is off by one"),
    Fault("game-relative-ids", "GAME-002",
          "the partner's copy of a game update has user_id and partner_id swapped"),
    Fault("invalid-transition-accepted", "DLV-008",
          "game state changes outside the contract's graph are accepted and notified"),
    Fault("call-wrong-friend-id", "CALL-001",
          "call notifications carry the recipient's own id as friend_id"),
    Fault("wrong-message-text", "PAY-005",
          "friendship message text is 'Friendship status changed' (capital F)"),
    Fault("unknown-status", "PAY-002",
          "the friendship 'canceled' notification says status 'cancelled'"),
    Fault("extra-key", "PAY-006",
          "every notification carries an extra key sent_at (RFC 3339, now)"),
    Fault("drop-second-connection", "DLV-001",
          "only the first-opened WebSocket connection of a user receives notifications"),
    Fault("swap-order", "DLV-007",
          "per connection, notifications go out in swapped pairs; a lone one after 300 ms"),
    Fault("accept-bad-token-socket", "AUTH-002",
          "a socket with an unknown token is let in (anonymous); one without a token is refused"),
    Fault("anonymous-receives-all", "AUTH-003",
          "sockets without valid credentials are let in and receive every notification sent"),
    Fault("open-requests-counts-outgoing", "FRND-002",
          "open_requests also counts the pending requests the recipient sent"),
    Fault("scheduled-at-empty", "PAY-004",
          "an unscheduled game session carries scheduled_at \"\" instead of null"),
    Fault("scheduled-at-omitted", "PAY-003",
          "an unscheduled game session has no scheduled_at key"),
    Fault("presence-sticky", "CALL-002",
          "a user who closed every connection still counts as online for calls"),
    Fault("presence-any-close", "CALL-002",
          "closing any one connection makes the user count as offline for calls"),
    Fault("ring-timer-not-cancelled", "CALL-003",
          "an answered, declined or hung-up call still ends with user_not_responding"),
    Fault("ring-too-early", "CALL-003",
          "user_not_responding is sent after half the ring timeout"),
    Fault("game-partner-moves-one-side", "GAME-001",
          "a game change made by the partner (not accept/reject) notifies only the partner"),
    Fault("late-delivery", "DLV-001",
          "the friendship 'canceled' notification is delivered 3 s after the action"),
    Fault("invalid-transition-silent", "GAME-003",
          "game state changes outside the contract's graph are accepted (200), notifying nobody"),
    Fault("push-data-differs", "PUSH-003",
          "the friendship new_request push carries open_requests one less than the WebSocket copy"),
    Fault("validate-only-push", "DLV-002",
          "pushes are sent with validate_only=true: FCM answers 200 and delivers nothing"),
    Fault("push-wrong-project", "DLV-002",
          "pushes are sent to a project id other than the service account's (403 PERMISSION_DENIED)"),
    Fault("push-bad-bearer", "DLV-002",
          "pushes carry an access token no authority issued (401 UNAUTHENTICATED)"),
    Fault("drop-one-in-thousand", "DLV-001",
          "drops the 1st, 1001st, 2001st... WebSocket copy sent (1 in 1,000, counted over every connection)"),
    Fault("delay-one-in-hundred", "DLV-001",
          "holds the 1st, 101st, 201st... WebSocket copy sent 3 s (1 in 100, counted over every connection)"),
    Fault("subscription-trusts-user-param", "SEC-001",
          "a user id in the socket URL (?user_id=) or the ActionCable identifier adds that user's stream"),
    Fault("mixed-credentials-both-streams", "SEC-001",
          "a socket carrying two users' tokens (query and header) receives both users' notifications"),
    Fault("token-wildcard", "SEC-002",
          "sockets look their token up with SQL LIKE: '%' signs in as the first user"),
    Fault("expired-token-accepted", "SEC-003",
          "sockets accept tokens whose lifetime has passed"),
    Fault("revoked-token-accepted", "SEC-004",
          "sockets accept tokens revoked by signing out"),
    Fault("revoked-socket-still-receives", "SEC-005",
          "signing out leaves the sockets opened with the token open and receiving"),
    Fault("revoked-socket-kept-open", "SEC-006",
          "signing out deafens the sockets opened with the token but never closes them"),
    Fault("oversized-frame-blocks-loop", "SEC-007",
          "a client frame of 64 KiB or more blocks the event loop for 3 s (every socket stalls)"),
    Fault("deaf-beyond-connection-limit", "SEC-008",
          "a user's connections beyond the 20th are accepted but receive nothing"),
    Fault("flood-guard-deafens", "SEC-008",
          "over 100 connections of one user within 10 s leave the user's open sockets deaf for 10 s"),
    Fault("any-origin", "SEC-009",
          "WebSocket upgrades from any browser Origin are accepted"),
    Fault("level-overflow-crash", "SEC-010",
          "a game_level of 2**31 or more makes game session creation fail with HTTP 500"),
)

FAULTS_BY_NAME: dict[str, Fault] = {fault.name: fault for fault in FAULTS}


def parse_faults(names: list[str] | tuple[str, ...]) -> frozenset[str]:
    """Check fault names against the table; raise ValueError naming the unknown ones."""
    unknown = sorted(set(names) - FAULTS_BY_NAME.keys())
    if unknown:
        raise ValueError(
            f"unknown fault(s): {', '.join(unknown)} (see `b4a serve --list-faults`)"
        )
    return frozenset(names)


def format_fault_table() -> str:
    """The `--list-faults` listing: name, rule id, description, one fault per line."""
    width = max(len(fault.name) for fault in FAULTS)
    return "\n".join(
        f"{fault.name:<{width}}  {fault.rule_id:<8}  {fault.description}" for fault in FAULTS
    )
