"""How REST bodies are read and responses written under the backend's conventions (styles).

Handlers build one plain view (integer ids, flat) and call `respond`; the style hooks live here,
so there is one handler per endpoint whatever the style.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from harness.reference.auth import backend_of
from harness.reference.payloads import format_time
from harness.reference.styles import Conventions
from harness.reference.validation import Body


def conventions_of(request: Request) -> Conventions:
    return backend_of(request).conventions


async def read_body(request: Request, resource: str, *allowed: str,
                    optional: bool = False) -> Body:
    """The request's fields; under `envelope` they come wrapped as `{resource: {...}}`."""
    conventions = conventions_of(request)
    return await Body.read(request, *allowed, wrapper=resource if conventions.envelope else None,
                           optional=optional, string_ids=conventions.string_ids)


def respond(request: Request, view: Any, status: int = 200) -> JSONResponse:
    """One resource (or list) as JSON: ids as strings under `string-ids`, `{"data": ...}` under
    `envelope`."""
    conventions = conventions_of(request)
    if conventions.string_ids:
        view = stringify_ids(view)
    return JSONResponse({"data": view} if conventions.envelope else view, status)


def respond_list(request: Request, key: str, items: list[Any]) -> JSONResponse:
    """A collection: `{key: [...]}` by default, `{"data": [...]}` under `envelope`."""
    conventions = conventions_of(request)
    return respond(request, items if conventions.envelope else {key: items})


def stringify_ids(value: Any, key: str = "") -> Any:
    """Every integer under a key `id`, `*_id` or `*_ids` as a decimal string, at any depth."""
    if isinstance(value, dict):
        return {name: stringify_ids(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [stringify_ids(item, key) for item in value]
    is_id = key == "id" or key.endswith(("_id", "_ids"))
    if is_id and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def time_view(value: datetime | None, conventions: Conventions) -> str | None:
    return format_time(value, conventions.ms_dates) if value is not None else None
