"""The seed errata: where the backend's own guide page is wrong or silent, and how the contract reads it.

rules.json holds rules, not history, so the errata (CONTRACT.md "Seed errata") are kept here as
values; the seed-errata page is rendered from them.
"""
from __future__ import annotations

import dataclasses

#: The seed: the backend's developer guide page the contract was decided from.
SEED_NAME = "Buddy4all developer guide, \"Notification messages\""


@dataclasses.dataclass(frozen=True)
class Erratum:
    """One point of the seed, quoted, and the contract's reading of it."""

    topic: str
    seed: str
    reading: str
    rule_ids: tuple[str, ...] = ()


ERRATA: tuple[Erratum, ...] = (
    Erratum(
        topic="Stray `.` after the friendship status",
        seed='status: "new_request",.',
        reading="Every friendship status line carries a stray `.` after the comma. It is a typo and is ignored: "
        "`status` is a plain string such as `\"new_request\"`.",
        rule_ids=("PAY-002",),
    ),
    Erratum(
        topic="Ruby hash syntax for `call_id`",
        seed="call_id' => [:internal id of the call:],",
        reading="`'call_id' =>` is Ruby hash syntax (the backend is most likely Rails with ActionCable). "
        "The JSON key is `call_id`, an integer >= 1.",
        rule_ids=("PAY-003", "CALL-001"),
    ),
    Erratum(
        topic="Missing `:]` after the game's `user_id` placeholder",
        seed="user_id: [:id of the user who created the session, partner_id: [:id of the other user:],",
        reading="The placeholder of `user_id` is not closed, so `partner_id` looks like part of its text. "
        "`user_id` (the creator) and `partner_id` (the other user) are two keys.",
        rule_ids=("PAY-003", "GAME-002"),
    ),
    Erratum(
        topic="`friend_id` of the `terminated` row",
        seed="status: \"terminated\",.\nfriend_id: [:id of the invited user:],",
        reading="Copied from the rows above it. Read as the counterpart rule every other friendship row follows: "
        "`friend_id` is the friend who ended the friendship, as seen by the recipient.",
        rule_ids=("FRND-001",),
    ),
    Erratum(
        topic="No recipients for call statuses",
        seed="Video Call status messages are sent whenever the state of the session changes.",
        reading="The seed names no recipients. The contract decides them per status; see the video call page.",
        rule_ids=("CALL-001", "CALL-002", "CALL-003"),
    ),
    Erratum(
        topic="No push format",
        seed="Channel: Websocket and Firebase",
        reading="The seed gives no FCM format. The contract: one FCM HTTP v1 request per device token, the "
        "WebSocket payload flat in `data`, `message_type` sent as `type`, every value a string.",
        rule_ids=("PUSH-001", "PUSH-002", "PUSH-003"),
    ),
)
