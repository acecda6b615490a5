"""schemas/profile.schema.json as generated: the hand-written file with its `actions` part from the table.

The file is committed (other tools and the docs read it); `b4a docs` rewrites it and `b4a docs
--check` reports it stale when the action table changed. The harness itself validates profiles
against `generated_schema()`, so the table is the single source of truth even on a stale file.
"""
from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.contract import data_dir
from harness.profile.actions import ACTIONS, actions_schema, describe

__all__ = ["FILE_NAME", "committed_schema", "format_json", "generated_schema", "generated_text"]

FILE_NAME = "profile.schema.json"
_WIDTH = 110  # a container that fits in this many columns is written on one line


def committed_schema() -> dict[str, Any]:
    return json.loads((data_dir("schemas") / FILE_NAME).read_text(encoding="utf-8"))


def generated_schema(hand_written: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The committed schema (or `hand_written`) with its `actions` property generated from the table."""
    schema = copy.deepcopy(dict(hand_written if hand_written is not None else committed_schema()))
    schema["properties"]["actions"] = actions_schema()
    # the other step lists of the table that live in a section of their own (security.tokens.*)
    for spec in ACTIONS:
        if spec.section.startswith("security."):
            *parents, key = spec.section.split(".")
            node = schema
            for parent in parents:
                node = node["properties"][parent]
            node["properties"][key] = {"description": describe(spec), "$ref": "#/$defs/steps"}
    return schema


def generated_text(schema_file: Path | None = None) -> str:
    """The file's text as `b4a docs` writes it (from `schema_file`, default the installed schema)."""
    hand_written = json.loads(schema_file.read_text(encoding="utf-8")) if schema_file else committed_schema()
    return format_json(generated_schema(hand_written)) + "\n"


def format_json(value: Any, indent: int = 0, used: int = 0) -> str:
    """Two-space JSON; a container goes on one line when it fits (and is not a described property).

    `used` is how many columns the key before the value takes, so the width check is honest.
    """
    flat = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, (dict, list)) or not value or (indent + used + len(flat) <= _WIDTH and not _described(value)):
        return flat
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, list):
        items = [inner + format_json(item, indent + 2) for item in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    lines = []
    for key, item in value.items():
        prefix = json.dumps(key, ensure_ascii=False) + ": "
        lines.append(inner + prefix + format_json(item, indent + 2, len(prefix)))
    return "{\n" + ",\n".join(lines) + "\n" + pad + "}"


def _described(value: Any) -> bool:
    """Holds a schema with a description and more: such a definition reads better one keyword per line."""
    if isinstance(value, dict):
        return ("description" in value and len(value) > 1) or any(_described(item) for item in value.values())
    return isinstance(value, list) and any(_described(item) for item in value)
