"""Notification payloads, built the backend's own way (and bent by the active faults)."""
from __future__ import annotations

from collections.abc import Set
from datetime import datetime, timezone
from typing import Any

from harness.reference.models import Call, ChatThread, GameSession

Payload = dict[str, Any]


def format_time(value: datetime, milliseconds: bool = False) -> str:
    """RFC 3339 in UTC with a "Z"; fractional seconds only when there are some, or always
    exactly three digits with `milliseconds` (the ms-dates style)."""
    value = value.astimezone(timezone.utc)
    # not strftime: glibc's %Y drops the leading zeros of years before 1000
    text = (f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
            f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}")
    if milliseconds:
        text += f".{value.microsecond // 1000:03d}"
    elif value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def friendship(status: str, recipient: int, friend_id: int, open_requests: int,
               faults: Set[str]) -> Payload:
    payload: Payload = {
        "message": ("Friendship status changed" if "wrong-message-text" in faults
                    else "friendship status changed"),
        "message_type": "api_friendship_status",
        "status": "cancelled" if status == "canceled" and "unknown-status" in faults else status,
        "friend_id": recipient if "wrong-friend-id" in faults else friend_id,
        "open_requests": open_requests + (1 if "open-requests-off-by-one" in faults else 0),
    }
    if "string-ids" in faults:
        payload["friend_id"] = str(payload["friend_id"])
    if "missing-key" in faults:
        del payload["open_requests"]
    return payload


def game_session(session: GameSession, for_partner: bool, faults: Set[str],
                 milliseconds: bool = False) -> Payload:
    user_id, partner_id = session.user_id, session.partner_id
    if for_partner and "game-relative-ids" in faults:
        user_id, partner_id = partner_id, user_id
    scheduled_at: str | None = None
    if session.scheduled_at is not None:
        scheduled_at = (session.scheduled_at.strftime("%Y-%m-%d %H:%M")
                        if "bad-date-time" in faults
                        else format_time(session.scheduled_at, milliseconds))
    payload: Payload = {
        "message_type": "api_game_session_status",
        "session_id": session.id,
        "game_id": session.game_id,
        "user_id": user_id,
        "partner_id": partner_id,
        "state": session.state,
        "game_level": session.game_level,
        "scheduled_at": scheduled_at,
    }
    if scheduled_at is None and "scheduled-at-empty" in faults:
        payload["scheduled_at"] = ""
    if scheduled_at is None and "scheduled-at-omitted" in faults:
        del payload["scheduled_at"]
    return payload


def thread_view(thread: ChatThread) -> Payload:
    """The thread representation of the API and of chat notifications."""
    return {"id": thread.id, "participant_ids": list(thread.participant_ids)}


def chat_message(text: str, thread: ChatThread, faults: Set[str]) -> Payload:
    view = thread_view(thread)
    if "wrong-chat-thread" in faults:
        view["id"] += 1
    return {
        "message": text,
        "thread": view,
        "message_type": "api_chat" if "wrong-message-type" in faults else "api_chat_message",
    }


def call_status(status: str, call: Call, recipient: int, faults: Set[str]) -> Payload:
    return {
        "message_type": "openvidu_status",
        "message": "openvidu_session_status_changed",
        "status": status,
        "friend_id": recipient if "call-wrong-friend-id" in faults else call.other(recipient),
        "session_id": call.session_id,
        "call_id": call.id,
    }
