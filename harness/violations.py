"""Rule levels, check outcomes and the Violation value every check produces.

    Level        MUST | SHOULD                 (RFC 2119, from rules.json)
    Outcome      PASS < SKIP < NON_STRICT < FAIL < ERROR   ("worst of" order)
    Violation    one broken rule at one place: rule id, level, pointer, message

A check yields Violations; only the pytest layer or the CLI turns them into a verdict.
"""
from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from typing import Any

from harness.types import JSON


class Level(str, enum.Enum):
    MUST = "MUST"
    SHOULD = "SHOULD"


class Outcome(str, enum.Enum):
    """The verdict of one check. Declared in "worst of" order: later members win."""

    PASS = "PASS"
    #: The target lacks the action (its profile says so), so the check could not apply.
    SKIP = "SKIP"
    #: A SHOULD rule is broken (fails the run only in strict mode).
    NON_STRICT = "NON_STRICT"
    #: A MUST rule is broken.
    FAIL = "FAIL"
    #: The harness or the target could not run the check (unreachable, bad profile).
    ERROR = "ERROR"

    @property
    def rank(self) -> int:
        return list(Outcome).index(self)

    @classmethod
    def worst(cls, outcomes: Sequence[Outcome]) -> Outcome:
        return max(outcomes, key=lambda o: o.rank, default=cls.PASS)

    @classmethod
    def for_violations(cls, violations: list[Violation], *, strict: bool = False) -> Outcome:
        """FAIL when a MUST is broken (or a SHOULD in strict mode), NON_STRICT for a SHOULD."""
        if any(v.level is Level.MUST for v in violations):
            return cls.FAIL
        if violations:
            return cls.FAIL if strict else cls.NON_STRICT
        return cls.PASS


@dataclasses.dataclass(frozen=True, kw_only=True)
class Violation:
    """One broken rule, at one place of one message.

    `message` is one line; `str()` gives the verbose form for terminals.
    """

    rule_id: str
    level: Level
    title: str
    message: str
    pointer: str = ""
    variant: str | None = None
    schema_path: str = ""
    instance: JSON = None
    #: Where the message came from, for the reader: "file:line", a connection, a device.
    source: str | None = None

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        at = self.pointer or "(root)"
        judged = f" [judged as {self.variant}]" if self.variant else ""
        return f"{where}{at}: {self.message} ({self.rule_id} {self.level.value}: {self.title}){judged}"

    def to_json(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "level": self.level.value,
            "title": self.title,
            "message": self.message,
            "pointer": self.pointer,
            "variant": self.variant,
            "schema_path": self.schema_path,
            "instance": self.instance,
            "source": self.source,
        }

    def at(self, source: str) -> Violation:
        """The same violation, with where it was seen attached (done in one place by callers)."""
        return dataclasses.replace(self, source=source)
