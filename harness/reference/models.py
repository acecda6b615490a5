"""The backend's stored records as frozen values."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class User:
    id: int
    name: str
    token: str


@dataclass(frozen=True)
class Friendship:
    id: int
    creator_id: int
    invitee_id: int
    status: str  # pending | canceled | accepted | rejected | terminated

    def other(self, user_id: int) -> int:
        return self.invitee_id if user_id == self.creator_id else self.creator_id


@dataclass(frozen=True)
class GameSession:
    id: int
    game_id: int
    user_id: int  # the creator
    partner_id: int
    state: str
    game_level: int
    scheduled_at: datetime | None


@dataclass(frozen=True)
class ChatThread:
    id: int
    participant_ids: tuple[int, int]


@dataclass(frozen=True)
class ChatMessage:
    id: int
    thread_id: int
    sender_id: int
    text: str


@dataclass(frozen=True)
class Call:
    id: int
    caller_id: int
    callee_id: int
    session_id: str
    # requested | accepted | rejected | terminated | user_not_available | not_responding | scheduled
    status: str
    scheduled_at: datetime | None

    def other(self, user_id: int) -> int:
        return self.callee_id if user_id == self.caller_id else self.caller_id
