"""API errors: an exception carrying the HTTP status, message and per-field messages."""
from __future__ import annotations


class ApiError(Exception):
    """A refused request. Rendered as `{"error": message, "fields": {...}}` with `status`."""

    def __init__(self, status: int, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields or {}

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {"error": self.message}
        if self.fields:
            body["fields"] = self.fields
        return body


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


def forbidden(message: str) -> ApiError:
    return ApiError(403, message)


def conflict(message: str) -> ApiError:
    return ApiError(409, message)


def invalid(fields: dict[str, str]) -> ApiError:
    names = ", ".join(sorted(fields))
    return ApiError(422, f"invalid input: {names}", fields)
