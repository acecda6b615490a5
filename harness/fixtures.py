"""The bundled example cases (fixtures/payloads, fixtures/pushes) as values, for runners."""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

from harness.contract import data_dir


@dataclasses.dataclass(frozen=True)
class FixtureTest:
    id: str
    description: str
    kind: str  # "payload" | "push"
    variant: str | None
    data: Any
    valid: bool
    strict: bool
    violations: tuple[tuple[str, str], ...]  # (rule id, pointer)
    file: str


def load_fixture_files() -> Iterator[tuple[str, dict[str, Any]]]:
    root = data_dir("fixtures")
    for folder in ("payloads", "pushes"):
        for node in sorted((root / folder).iterdir(), key=lambda n: n.name):
            if node.name.endswith(".json"):
                yield f"{folder}/{node.name}", json.loads(node.read_text(encoding="utf-8"))


def iter_fixture_tests() -> Iterator[FixtureTest]:
    for name, document in load_fixture_files():
        kind = document.get("kind", "payload")
        for case in document["cases"]:
            for test in case["tests"]:
                yield FixtureTest(
                    id=test["id"],
                    description=test["description"],
                    kind=kind,
                    variant=case["variant"],
                    data=test["data"],
                    valid=test["valid"],
                    strict=test.get("strict", False),
                    violations=tuple((v["rule"], v["pointer"]) for v in test.get("violations", ())),
                    file=name,
                )
