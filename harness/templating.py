"""`{{name}}` placeholders in target-profile values: finding, checking and rendering them."""
from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["TemplateError", "placeholders", "malformed", "render_text", "render_value", "to_text"]

# `{{ other.id }}`: a name, then dotted attribute/key/index access; blanks inside braces allowed.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}")


class TemplateError(Exception):
    """A placeholder has no value (or no such attribute); str() names the placeholder."""


def placeholders(value: Any) -> Iterator[str]:
    """Every dotted placeholder name in the strings of `value` (dict values, list items), in order."""
    if isinstance(value, str):
        for match in PLACEHOLDER.finditer(value):
            yield match.group(1)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from placeholders(item)
    elif isinstance(value, list):
        for item in value:
            yield from placeholders(item)


def malformed(text: str) -> str | None:
    """The text from the first `{{`/`}}` that is not part of a well-formed placeholder, or None."""
    rest = PLACEHOLDER.sub("", text)
    for marker in ("{{", "}}"):
        at = rest.find(marker)
        if at >= 0:
            return rest[at:at + 30]
    return None


def lookup(name: str, variables: Mapping[str, Any]) -> Any:
    """Resolve `a.b.c`: attributes of dataclasses (users), keys of mappings, indexes of lists."""
    root, *attributes = name.split(".")
    if root not in variables:
        known = ", ".join(sorted(variables)) or "none"
        raise TemplateError(f"placeholder {{{{{name}}}}} has no value (known: {known})")
    value = variables[root]
    walked = root
    for attribute in attributes:
        if dataclasses.is_dataclass(value) and not isinstance(value, type) and hasattr(value, attribute):
            value = getattr(value, attribute)
        elif isinstance(value, Mapping) and attribute in value:
            value = value[attribute]
        elif isinstance(value, list) and attribute.isdigit() and int(attribute) < len(value):
            value = value[int(attribute)]
        else:
            raise TemplateError(f"placeholder {{{{{name}}}}}: {walked} has no {attribute!r} (it is {to_text(value)!r})")
        walked = f"{walked}.{attribute}"
    return value


def to_text(value: Any) -> str:
    """How a value reads inside a string: JSON spelling for null/booleans/containers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def render_text(text: str, variables: Mapping[str, Any], encode: Callable[[str], str] | None = None) -> str:
    """Interpolate every placeholder as text; `encode` escapes substituted values (URL paths)."""
    def substitute(match: re.Match[str]) -> str:
        value = to_text(lookup(match.group(1), variables))
        return encode(value) if encode else value
    return PLACEHOLDER.sub(substitute, text)


def render_value(value: Any, variables: Mapping[str, Any]) -> Any:
    """Render a JSON value: a string that is exactly one placeholder keeps the value's type."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            return lookup(whole.group(1), variables)
        return render_text(value, variables)
    if isinstance(value, Mapping):
        return {key: render_value(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [render_value(item, variables) for item in value]
    return value
