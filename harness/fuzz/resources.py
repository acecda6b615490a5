"""Who is a party of what: the resources a request touches and the users they belong to.

`b4a fuzz` judges a notification by the request that caused it: its recipient must be a party
of that request (the acting user, the users its body names, the users of the resource its path
names). The target is only known through its OpenAPI document, so resources are recognised by
their paths (`/friendships/{id}/accept` names a friendship) and users by the `*_id` keys of
bodies and answers (`friend_id`, `partner_id`, `participant_ids`...), as the contract names them.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["KINDS", "Ledger", "ResourceKey", "id_value", "notification_resource", "path_kind", "user_refs"]

#: resource kinds, recognised in a path by these words (checked in this order)
KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("friendship", ("friend",)),
    ("game", ("game",)),
    ("call", ("call",)),
    ("thread", ("thread", "chat")),
    ("user", ("presence", "user")),
)
#: `*_id` keys that name a resource, not a user (a game's catalogue id is neither)
_NOT_USERS = re.compile(r"^(game|thread|session|call|friendship|chat|message|device|id)s?$")
_PARAM = re.compile(r"\{([^}]+)\}")

ResourceKey = tuple[str, int]


def _kind_of(text: str) -> str | None:
    lowered = text.lower()
    for kind, words in KINDS:
        if any(word in lowered for word in words):
            return kind
    return None


def path_kind(path: str, param: str | None = None) -> str | None:
    """The kind of resource a path parameter names (`/friendships/{id}/accept`, id -> friendship),
    from the path before it; None for parameters that are no resource id (a device token)."""
    match = next((m for m in _PARAM.finditer(path) if param is None or m.group(1) == param), None)
    if match is None:
        return _kind_of(path)
    name = match.group(1)
    if name != "id" and not name.endswith("_id"):
        return None
    if name.endswith("_id") and name != "id":
        named = _kind_of(name.removesuffix("_id"))
        if named is not None:
            return named
    return _kind_of(path[:match.start()])


def id_value(value: Any) -> int | None:
    """An id as an int: JSON integers, and digit strings (APIs with string ids)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)  # 3.0 is an integer to JSON Schema, and to many backends
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 20:
        return int(value)
    return None


def user_refs(value: Any) -> set[int]:
    """Every id under a user-naming key (`friend_id`, `callee_id`, `participant_ids`...), at any depth."""
    found: set[int] = set()
    if isinstance(value, Mapping):
        for key, item in value.items():
            key = str(key)
            stem = key.removesuffix("_ids").removesuffix("_id")
            if stem != key and not _NOT_USERS.match(stem):
                items = item if isinstance(item, list) else [item]
                found.update(v for v in map(id_value, items) if v is not None)
            elif isinstance(item, (Mapping, list)):
                found |= user_refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= user_refs(item)
    return found


def notification_resource(payload: Any) -> tuple[str, int] | None:
    """The resource a notification is about: a game session, a call, a chat thread, or for a
    friendship notification the counterpart user ("friend", id)."""
    if not isinstance(payload, Mapping):
        return None
    kind = str(payload.get("message_type", ""))
    if "game" in kind:
        value, name = payload.get("session_id"), "game"
    elif "openvidu" in kind or "call" in kind:
        value, name = payload.get("call_id"), "call"
    elif "chat" in kind:
        thread = payload.get("thread")
        value, name = (thread.get("id") if isinstance(thread, Mapping) else None), "thread"
    elif "friend" in kind:
        value, name = payload.get("friend_id"), "friend"
    else:
        return None
    number = id_value(value)
    return (name, number) if number is not None else None


@dataclasses.dataclass
class Ledger:
    """The resources the fuzzer knows (the pool's, and those its requests created) and their parties."""

    parties: dict[ResourceKey, set[int]] = dataclasses.field(default_factory=dict)
    #: device token -> the user who registered it
    device_owner: dict[str, int] = dataclasses.field(default_factory=dict)

    def add(self, kind: str, ident: int, users: Iterable[int]) -> None:
        self.parties.setdefault((kind, ident), set()).update(users)

    def of(self, key: ResourceKey) -> set[int]:
        return self.parties.get(key, set())

    def ids(self, kind: str) -> list[int]:
        return sorted(ident for known, ident in self.parties if known == kind)
