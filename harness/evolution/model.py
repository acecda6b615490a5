"""What `b4a diff` finds: one Change per difference, judged for consumers and producers.

Consumers are the apps that parse notifications: a change breaks them when a payload valid under the
new contract may be one they were not written for (a key removed or made optional, a type widened,
a new enum value or variant), or when a guarantee they relied on is gone (a MUST lowered, a recipient
or channel dropped). Producers are the backends that send them: a change breaks them when a backend
conforming to the old contract may fail the new one (a key added as required, a type or range
narrowed, a new MUST, a new recipient or channel, a shorter deadline).
"""
from __future__ import annotations

import dataclasses
import enum
from typing import Any


class Bump(enum.IntEnum):
    """The least version step a change demands (semantic versioning of the contract)."""

    NONE = 0
    PATCH = 1  # wording only
    MINOR = 2  # a compatible addition
    MAJOR = 3  # breaking for consumers or producers

    @property
    def word(self) -> str:
        return self.name.lower()


class Side(str, enum.Enum):
    CONSUMERS = "consumers"
    PRODUCERS = "producers"


@dataclasses.dataclass(frozen=True)
class Change:
    #: the variant (`friendship/new_request`), the family (`friendship`), `push` (the FCM message
    #: schema) or `contract` (rules, deadlines, push conventions)
    scope: str
    #: a JSON pointer into the notification (`/thread/id`) for payload and push changes, else into
    #: rules.json (`rules.json#/rules/15`)
    pointer: str
    #: the rule that judges what changed (PAY-003 for a required key, the rule itself for a rule change)
    rule: str | None
    #: a stable short name of the kind of change, e.g. `key-made-optional`
    kind: str
    reason: str
    breaks_consumers: bool = False
    breaks_producers: bool = False
    #: compatible, but adds something (a minor step) rather than rewording (a patch)
    addition: bool = False
    #: the diff judged the structure; a person should judge the meaning (reworded normative text)
    review: bool = False

    @property
    def bump(self) -> Bump:
        if self.breaks_consumers or self.breaks_producers:
            return Bump.MAJOR
        return Bump.MINOR if self.addition else Bump.PATCH

    def breaks(self, side: Side) -> bool:
        return self.breaks_consumers if side is Side.CONSUMERS else self.breaks_producers

    @property
    def verdict(self) -> str:
        sides = [s.value for s in Side if self.breaks(s)]
        if sides:
            return "breaking for " + " and ".join(sides)
        return "compatible addition" if self.addition else "compatible"

    def as_json(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "pointer": self.pointer,
            "rule": self.rule,
            "kind": self.kind,
            "reason": self.reason,
            "breaks": {"consumers": self.breaks_consumers, "producers": self.breaks_producers},
            "bump": self.bump.word,
            "review": self.review,
        }


def consumers(scope: str, pointer: str, rule: str | None, kind: str, reason: str, **kw: Any) -> Change:
    return Change(scope, pointer, rule, kind, reason, breaks_consumers=True, **kw)


def producers(scope: str, pointer: str, rule: str | None, kind: str, reason: str, **kw: Any) -> Change:
    return Change(scope, pointer, rule, kind, reason, breaks_producers=True, **kw)


def both(scope: str, pointer: str, rule: str | None, kind: str, reason: str, **kw: Any) -> Change:
    return Change(scope, pointer, rule, kind, reason, breaks_consumers=True, breaks_producers=True, **kw)


def addition(scope: str, pointer: str, rule: str | None, kind: str, reason: str, **kw: Any) -> Change:
    return Change(scope, pointer, rule, kind, reason, addition=True, **kw)


def wording(scope: str, pointer: str, rule: str | None, kind: str, reason: str, **kw: Any) -> Change:
    return Change(scope, pointer, rule, kind, reason, **kw)


def next_version(version: str, bump: Bump) -> str:
    """The version a contract at `version` takes after changes demanding `bump`."""
    try:
        major, minor, patch = (int(part) for part in version.split("."))
    except ValueError:
        raise ValueError(f"contract_version {version!r} is not MAJOR.MINOR.PATCH") from None
    if bump is Bump.MAJOR:
        return f"{major + 1}.0.0"
    if bump is Bump.MINOR:
        return f"{major}.{minor + 1}.0"
    if bump is Bump.PATCH:
        return f"{major}.{minor}.{patch + 1}"
    return version
