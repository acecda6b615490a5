"""Small response helpers shared by the FCM and control routes (orjson, Google's content type)."""
from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


JSON_TYPE = "application/json; charset=UTF-8"

_STATUS_NAMES = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 409: "ALREADY_EXISTS",
                 422: "INVALID_ARGUMENT", 415: "INVALID_ARGUMENT"}

GOOGLE_404_HTML = (
    "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 404 (Not Found)!!1</title>\n"
    "  <p><b>404.</b> <ins>That's an error.</ins>\n"
    "  <p>The requested URL <code>{path}</code> was not found on this server.  <ins>That's all we know.</ins>\n"
)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON_TYPE, headers=headers)


def control_error(status: int, message: str) -> Response:
    """The control API's errors use the same google.rpc.Status shape as FCM's."""
    body = {"error": {"code": status, "message": message, "status": _STATUS_NAMES.get(status, "UNKNOWN")}}
    return json_response(body, status)
