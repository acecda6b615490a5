"""The OpenAPI 3.1 document of the emulator's control API (served at /emulator/v1/openapi.json)."""
from __future__ import annotations

import copy
from typing import Any

from harness.emulator.fcm.errors import FCM_ERRORS

_NULLABLE_STRING = {"type": ["string", "null"]}
PROJECT_PLACEHOLDER = "{project_id}"
MAX_INT = 2**53 - 1  # sequence numbers stay well below; JSON parsers agree up to here


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _op(summary: str, ok: tuple[int, str, str], *, body: str | None = None, query: bool = False,
        token_path: bool = False, project: bool = True) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = []
    if project:
        parameters.append({"name": "project", "in": "path", "required": True,
                           "schema": {"type": "string", "enum": [PROJECT_PLACEHOLDER]},
                           "description": "the emulated project id (one per emulator)"})
    if token_path:
        parameters.append({"name": "token", "in": "path", "required": True,
                           "schema": {"type": "string", "minLength": 1}, "description": "a registration token"})
    if query:
        parameters += [
            {"name": "token", "in": "query", "schema": {"type": "string"}, "description": "only this token"},
            {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": MAX_INT},
             "description": "only entries with a sequence number above this cursor"},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": MAX_INT},
             "description": "at most this many entries, oldest first"},
        ]
    responses: dict[str, Any] = {str(ok[0]): _json(_ref(ok[1]), ok[2])}
    if body is not None or query:
        responses["400"] = _json(_ref("Error"), "invalid input; the message names the field")
    if project:
        responses["404"] = _json(_ref("Error"), "unknown project (or token)")
    operation: dict[str, Any] = {"summary": summary, "parameters": parameters, "responses": responses}
    if body is not None:
        # A wait may post no body (all defaults); faults and tokens need theirs.
        operation["requestBody"] = {"required": body != "WaitRequest",
                                    "content": {"application/json": {"schema": _ref(body)}}}
    return operation


_CAPTURED = {
    "type": "object",
    "required": ["seq", "received_at", "token", "topic", "condition", "message", "name"],
    "properties": {
        "seq": {"type": "integer"}, "received_at": {"type": "number"},
        "token": _NULLABLE_STRING, "topic": _NULLABLE_STRING, "condition": _NULLABLE_STRING,
        "message": {"type": "object"}, "name": {"type": "string"},
    },
}
_ATTEMPT = {
    "type": "object",
    "required": ["seq", "received_at", "token", "http_status", "error_code", "error_message", "message",
                 "validate_only", "topic", "condition"],
    "properties": {
        "seq": {"type": "integer"}, "received_at": {"type": "number"}, "token": _NULLABLE_STRING,
        "http_status": {"type": "integer"}, "error_code": _NULLABLE_STRING, "error_message": _NULLABLE_STRING,
        "message": {"type": ["object", "null"]}, "validate_only": {"type": "boolean"},
        "topic": _NULLABLE_STRING, "condition": _NULLABLE_STRING,
    },
}
_FAULT_FIELDS = {
    "code": {"enum": [*FCM_ERRORS, None], "description": "FcmError code to answer; null = succeed after the latency"},
    "count": {"type": ["integer", "null"], "minimum": 1, "description": "the next N matching sends; null = until cleared"},
    "probability": {"type": ["number", "null"], "minimum": 0, "maximum": 1,
                    "description": "each matching send fails with this probability"},
    "latency_ms": {"type": "integer", "minimum": 0, "maximum": 60000, "description": "delay before answering"},
    "retry_after": {"type": ["integer", "null"], "minimum": 0, "maximum": 3600, "description": "Retry-After seconds"},
    "token": {**_NULLABLE_STRING, "description": "only sends to this token; null = every send"},
}

def openapi_document(project_id: str) -> dict[str, Any]:
    """The document for one emulator: its project id is the only value the path accepts."""
    document = copy.deepcopy(OPENAPI)
    for path in document["paths"].values():
        for operation in path.values():
            for parameter in operation["parameters"]:
                if parameter["name"] == "project":
                    parameter["schema"]["enum"] = [project_id]
    return document


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Buddy4all FCM emulator control API",
        "version": "1",
        "description": "Inspect what a backend sent to the FCM emulator and script its behaviour. "
        "FCM's own endpoints (POST /v1/projects/{project}/messages:send, POST /token) are "
        "Google's and are not described here.",
    },
    "paths": {
        "/emulator/v1/config": {"get": _op("where the emulator listens", (200, "Config", "configuration"), project=False)},
        "/emulator/v1/reset": {"post": _op("forget messages, attempts, tokens and faults", (200, "Reset", "reset"),
                                           project=False)},
        "/emulator/v1/projects/{project}/serviceAccounts": {
            "post": _op("issue a service-account JSON (fresh RSA key)", (201, "ServiceAccount", "a new service account")),
        },
        "/emulator/v1/projects/{project}/messages": {
            "get": _op("captured (delivered, non-dry-run) messages", (200, "MessageList", "messages"), query=True),
            "delete": _op("clear captured messages and attempts", (200, "Cleared", "cleared")),
        },
        "/emulator/v1/projects/{project}/messages:wait": {
            "post": _op("long-poll until `count` matching messages are captured or `timeout` passes",
                        (200, "WaitResult", "what was captured; timed_out says whether count was reached"),
                        body="WaitRequest"),
        },
        "/emulator/v1/projects/{project}/attempts": {
            "get": _op("every send attempt, rejected ones and dry runs included", (200, "AttemptList", "attempts"),
                       query=True),
        },
        "/emulator/v1/projects/{project}/attempts:wait": {
            "post": _op("long-poll until `count` matching send attempts (refused ones and dry runs too) exist or "
                        "`timeout` passes", (200, "AttemptWaitResult", "the attempts; timed_out says whether count was reached"),
                        body="WaitRequest"),
        },
        "/emulator/v1/projects/{project}/tokens": {
            "get": _op("registered tokens and their states", (200, "TokenList", "tokens")),
            "post": _op("register a token or set its state", (200, "TokenState", "the token's state"),
                        body="TokenRequest"),
        },
        "/emulator/v1/projects/{project}/tokens/{token}": {
            "delete": _op("forget a token (it becomes unknown)", (200, "TokenState", "forgotten"), token_path=True),
        },
        "/emulator/v1/projects/{project}/subscriptions": {
            "get": _op("topic subscriptions made through FCM's v1 topicSubscriptions API",
                       (200, "SubscriptionList", "topics per token")),
        },
        "/emulator/v1/projects/{project}/faults": {
            "get": _op("active faults", (200, "FaultList", "faults")),
            "post": _op("inject a fault", (201, "Fault", "the fault"), body="FaultRequest"),
            "delete": _op("clear all faults", (200, "Cleared", "cleared")),
        },
    },
    "components": {
        "schemas": {
            "Error": {
                "type": "object", "required": ["error"],
                "properties": {"error": {"type": "object", "required": ["code", "message", "status"], "properties": {
                    "code": {"type": "integer"}, "message": {"type": "string"}, "status": {"type": "string"}}}},
            },
            "Config": {
                "type": "object",
                "required": ["project_id", "base_url", "proxy_url", "ca_cert_pem", "token_uri"],
                "properties": {
                    "project_id": {"type": "string"}, "project_number": {"type": "string"},
                    "base_url": {"type": "string"}, "proxy_url": _NULLABLE_STRING,
                    "host_mode_url": _NULLABLE_STRING, "ca_cert_pem": {"type": "string"},
                    "token_uri": {"type": "string"},
                },
            },
            "Reset": {"type": "object", "required": ["reset", "cursor"],
                      "properties": {"reset": {"const": True}, "cursor": {"type": "integer"}}},
            "ServiceAccount": {
                "type": "object",
                "required": ["type", "project_id", "private_key_id", "private_key", "client_email", "token_uri"],
                "properties": {name: {"type": "string"} for name in (
                    "type", "project_id", "private_key_id", "private_key", "client_email", "client_id",
                    "auth_uri", "token_uri", "auth_provider_x509_cert_url", "client_x509_cert_url",
                    "universe_domain")},
            },
            "CapturedMessage": _CAPTURED,
            "MessageList": {"type": "object", "required": ["messages", "cursor"], "properties": {
                "messages": {"type": "array", "items": _ref("CapturedMessage")}, "cursor": {"type": "integer"}}},
            "WaitRequest": {
                "type": "object", "additionalProperties": False,
                "properties": {
                    "count": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1},
                    "token": _NULLABLE_STRING,
                    "after": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_INT},
                    "timeout": {"type": "number", "minimum": 0, "maximum": 300, "default": 5},
                },
            },
            "WaitResult": {"type": "object", "required": ["messages", "cursor", "timed_out"], "properties": {
                "messages": {"type": "array", "items": _ref("CapturedMessage")}, "cursor": {"type": "integer"},
                "timed_out": {"type": "boolean"}}},
            "SendAttempt": _ATTEMPT,
            "AttemptWaitResult": {"type": "object", "required": ["attempts", "cursor", "timed_out"], "properties": {
                "attempts": {"type": "array", "items": _ref("SendAttempt")}, "cursor": {"type": "integer"},
                "timed_out": {"type": "boolean"}}},
            "AttemptList": {"type": "object", "required": ["attempts", "cursor"], "properties": {
                "attempts": {"type": "array", "items": _ref("SendAttempt")}, "cursor": {"type": "integer"}}},
            "TokenRequest": {
                "type": "object", "required": ["token"], "additionalProperties": False,
                "properties": {"token": {"type": "string", "minLength": 1},
                               "state": {"enum": ["valid", "unregistered", "sender_id_mismatch"]}},
            },
            "TokenState": {"type": "object", "required": ["token", "state"], "properties": {
                "token": {"type": "string"},
                "state": {"enum": ["valid", "unregistered", "sender_id_mismatch", "unknown"]}}},
            "TokenList": {"type": "object", "required": ["tokens"], "properties": {
                "tokens": {"type": "array", "items": _ref("TokenState")}}},
            "FaultRequest": {
                "type": "object", "additionalProperties": False, "properties": _FAULT_FIELDS,
                "anyOf": [  # a fault needs an error code, a latency, or both
                    {"required": ["code"], "properties": {"code": {"type": "string"}}},
                    {"required": ["latency_ms"], "properties": {"latency_ms": {"minimum": 1}}},
                ],
            },
            "Fault": {"type": "object", "required": ["id", *_FAULT_FIELDS, "remaining"], "properties": {
                "id": {"type": "integer"}, "remaining": {"type": ["integer", "null"]}, **_FAULT_FIELDS,
                "latency_ms": {"type": "integer"}}},
            "FaultList": {"type": "object", "required": ["faults"], "properties": {
                "faults": {"type": "array", "items": _ref("Fault")}}},
            "SubscriptionList": {"type": "object", "required": ["subscriptions"], "properties": {
                "subscriptions": {"type": "object", "additionalProperties": {"type": "array",
                                                                            "items": {"type": "string"}}}}},
            "Cleared": {"type": "object", "required": ["cleared"], "properties": {"cleared": {"type": "integer"}}},
        },
    },
}
