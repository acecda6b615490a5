"""Contracts to compare: the installed one, copied and mutated one change kind at a time."""
from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.evolution.snapshot import Snapshot, installed

ROOT = Path(__file__).resolve().parents[2]

Files = dict[str, Any]


def mutated(mutate: Callable[[Files], None], label: str = "mutated") -> Snapshot:
    """The installed contract after `mutate` edited a deep copy of its files."""
    files = copy.deepcopy(installed().files)
    mutate(files)
    return Snapshot(label, files)


def family(files: Files, name: str) -> dict[str, Any]:
    return next(f for f in files["rules.json"]["families"] if f["name"] == name)


def variant(files: Files, family_name: str, name: str) -> dict[str, Any]:
    return next(v for v in family(files, family_name)["variants"] if v["name"] == name)


def variant_schema(files: Files, family_name: str, name: str) -> dict[str, Any]:
    return files[family(files, family_name)["schema"]]["$defs"][name]  # type: ignore[no-any-return]


def rule(files: Files, rule_id: str) -> dict[str, Any]:
    return next(r for r in files["rules.json"]["rules"] if r["id"] == rule_id)


def write_contract(snapshot: Snapshot, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, document in snapshot.files.items():
        (folder / name).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def base() -> Snapshot:
    return installed()
