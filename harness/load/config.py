"""What every load process needs to know about the run, as one value the master hands its workers.

A worker on another machine gets the profile's text (not a path) and the URLs from the master over
Locust's message channel, so `b4a load --worker --master-host H` needs nothing else. The profile's
`${VAR}` references are resolved on each worker, from its own environment.
"""
from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class LoadConfig:
    profile_text: str
    profile_source: str  # the file it came from, for messages and the report
    base_url: str
    emulator_url: str | None  # None: pushes are not checked
    project_id: str | None
    users: int
    spawn_rate: float
    duration_s: float
    seed: int
    think: tuple[float, float]  # seconds a user pauses between flows (a fifth of it inside one)
    started_at: float = 0.0  # wall clock when the users started spawning: second 0 of the charts

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "think": list(self.think)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoadConfig:
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{**{k: v for k, v in data.items() if k in fields}, "think": tuple(data["think"])})
