"""Builds the backend's OpenAPI 3.1 document; `python -m harness.reference.openapi` rewrites
the committed openapi.json (a test checks that the committed, built and served ones agree)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

MAX_ID = 2**63 - 1
JSON = "application/json"
Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _id(description: str) -> Schema:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID, "description": description}


def _object(properties: dict[str, Schema], required: list[str] | None = None,
            closed: bool = True) -> Schema:
    schema: Schema = {"type": "object", "properties": properties,
                      "required": list(properties) if required is None else required}
    if closed:
        schema["additionalProperties"] = False
    return schema


_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}

SCHEMAS: dict[str, Schema] = {
    "Error": {"type": "object", "required": ["error"], "properties": {
        "error": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "Per-field messages (422)."}}},
    "User": _object({"id": _id("user id"), "name": {"type": "string"}}, closed=False),
    "NewUser": _object({"id": _id("user id"), "name": {"type": "string"},
                        "token": {"type": "string", "description": "Bearer token"}}),
    "Device": _object({"token": {"type": "string"}}),
    "Session": _object({"user_id": _id("user id"), "token": {"type": "string", "description": "Bearer token"},
                        "expires_at": {**_TIME_OR_NULL, "description": "null: the token does not expire"}}),
    "Presence": _object({"user_id": _id("user id"), "online": {"type": "boolean"},
                         "connections": {"type": "integer", "minimum": 0}}),
    "Friendship": _object({
        "id": _id("friendship id"), "creator_id": _id("who asked"),
        "invitee_id": _id("who was asked"),
        "status": {"enum": ["pending", "canceled", "accepted", "rejected", "terminated"]}}),
    "FriendshipList": _object({"friendships": {"type": "array", "items": _ref("Friendship")}}),
    "GameSession": _object({
        "id": _id("game session id"), "game_id": _id("game id"), "user_id": _id("creator"),
        "partner_id": _id("the other player"),
        "state": {"enum": ["requested", "accepted", "rejected", "started", "finished",
                           "canceled", "resumed"]},
        "game_level": {"type": "integer", "minimum": 0}, "scheduled_at": _TIME_OR_NULL}),
    "ChatThread": _object({"id": _id("thread id"), "participant_ids": {
        "type": "array", "items": _id("user id"), "minItems": 2, "maxItems": 2}}),
    "ChatMessage": _object({"id": _id("message id"), "thread_id": _id("thread id"),
                            "sender_id": _id("user id"), "text": {"type": "string"}}),
    "Call": _object({
        "id": _id("call id"), "session_id": {"type": "string", "minLength": 1},
        "status": {"enum": ["requested", "accepted", "rejected", "terminated",
                            "user_not_available", "not_responding", "scheduled"]},
        "caller_id": _id("caller"), "callee_id": _id("callee"), "scheduled_at": _TIME_OR_NULL}),
}

_ERRORS = {
    "401": "Missing or unknown bearer token", "403": "Not your action",
    "404": "Unknown resource", "409": "Conflicts with the current state",
    "422": "Invalid input (per-field messages in `fields`)",
}


def _error(code: str) -> Schema:
    return {"description": _ERRORS[code], "content": {JSON: {"schema": _ref("Error")}}}


def _operation(op_id: str, summary: str, ok: str, schema: str | None, errors: str, *,
               body: Schema | None = None, params: list[Schema] | None = None,
               public: bool = False, ok2: str | None = None,
               links: tuple[str, ...] = (), body_required: bool = True) -> Schema:
    """One operation; `links` name operations that take this response's `id` as their path id."""
    success: Schema = {"description": "OK"}
    if schema is not None:
        success["content"] = {JSON: {"schema": _ref(schema)}}
    if links:
        success["links"] = {target: {"operationId": target,
                                     "parameters": {"id": "$response.body#/id"}}
                            for target in links}
    responses: Schema = {ok: success}
    if ok2:
        responses[ok2] = success
    responses.update({code: _error(code) for code in errors.split()})
    operation: Schema = {"operationId": op_id, "summary": summary, "responses": responses}
    if public:
        operation["security"] = []
    if params:
        operation["parameters"] = params
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": {JSON: {"schema": body}}}
    return operation


def _path_id(name: str = "id") -> Schema:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}


def _ids(*names: str) -> Schema:
    return _object({name: _id(name.replace("_", " ")) for name in names})


FRIENDSHIP_ACTIONS = ("cancel", "accept", "reject", "terminate")
CALL_ACTIONS = ("accept", "reject", "terminate")


def _friendship_action(action: str, who: str) -> Schema:
    return {"post": _operation(f"{action}Friendship",
                               f"{action.capitalize()} a friendship ({who})", "200",
                               "Friendship", "401 403 404 409", params=[_path_id()])}


def _call_action(action: str, who: str) -> Schema:
    return {"post": _operation(f"{action}Call", f"{action.capitalize()} a call ({who})", "200",
                               "Call", "401 403 404 409", params=[_path_id()])}


def build() -> Schema:
    game_body = _object({
        "game_id": _id("game id"), "partner_id": _id("the other player"),
        "game_level": {"type": "integer", "minimum": 0, "maximum": MAX_ID, "default": 0},
        "scheduled_at": {**_TIME_OR_NULL, "default": None}}, required=["game_id", "partner_id"])
    state_body = _object({
        "state": {"enum": SCHEMAS["GameSession"]["properties"]["state"]["enum"]},
        "game_level": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}, required=["state"])
    paths: Schema = {
        "/health": {"get": _operation("health", "Liveness", "200", None, "", public=True)},
        "/users": {"post": _operation(
            "createUser", "Create a user and its token", "201", "NewUser", "422", public=True,
            body=_object({"name": {"type": "string", "minLength": 1, "maxLength": 64}}))},
        "/me": {"get": _operation("me", "The calling user", "200", "User", "401")},
        "/devices": {"post": _operation(
            "addDevice", "Register an FCM device token of the caller (idempotent)", "201", "Device",
            "401 422",
            body=_object({"token": {"type": "string", "minLength": 1, "maxLength": 4096}}))},
        "/devices/{token}": {"delete": _operation(
            "removeDevice", "Forget a device token of the caller", "204", None, "401 404",
            params=[{"name": "token", "in": "path", "required": True,
                     "schema": {"type": "string", "minLength": 1}}])},
        "/sessions": {"post": _operation(
            "issueSession", "Another token for the caller (a second sign-in); expires_in 0 gives an expired one",
            "201", "Session", "401 422",
            body=_object({"expires_in": {"type": "integer", "minimum": 0, "maximum": 365 * 24 * 3600}},
                         required=[]), body_required=False)},
        "/sessions/current": {"delete": _operation(
            "endSession", "Sign out: revoke the request's token and end the sockets opened with it", "204",
            None, "401")},
        "/presence/{user_id}": {"get": _operation(
            "presence", "Open WebSocket connections of a user", "200", "Presence", "401 404",
            params=[_path_id("user_id")])},
        "/friendships": {
            "get": _operation("listFriendships", "The caller's friendships", "200", "FriendshipList", "401"),
            "post": _operation(
                "requestFriendship", "Ask a user for friendship (notifies: new_request)",
                "201", "Friendship", "401 404 409 422", body=_ids("friend_id"),
                links=tuple(f"{action}Friendship" for action in FRIENDSHIP_ACTIONS))},
        "/friendships/{id}/cancel": _friendship_action("cancel", "creator, pending"),
        "/friendships/{id}/accept": _friendship_action("accept", "invitee, pending"),
        "/friendships/{id}/reject": _friendship_action("reject", "invitee, pending"),
        "/friendships/{id}/terminate": _friendship_action("terminate", "either, accepted"),
        "/games/sessions": {"post": _operation(
            "createGameSession", "Create a game session (notifies both: requested)", "201",
            "GameSession", "401 404 422", body=game_body, links=("changeGameState",))},
        "/games/sessions/{id}/state": {"post": _operation(
            "changeGameState", "Change the state along the contract's graph", "200", "GameSession",
            "401 403 404 409 422", params=[_path_id()], body=state_body)},
        "/chat/threads": {"post": _operation(
            "openChatThread", "Open (or find) the thread with a user", "201", "ChatThread",
            "401 404 422", ok2="200", body=_ids("participant_id"), links=("postChatMessage",))},
        "/chat/threads/{id}/messages": {"post": _operation(
            "postChatMessage", "Post a message (notifies the other participant)", "201", "ChatMessage",
            "401 403 404 422", params=[_path_id()],
            body=_object({"text": {"type": "string", "minLength": 1, "maxLength": 4000}}))},
        "/calls": {"post": _operation(
            "requestCall", "Call a user (requested, or user_not_available when offline)",
            "201", "Call", "401 404 422", body=_ids("callee_id"),
            links=tuple(f"{action}Call" for action in CALL_ACTIONS))},
        "/calls/schedule": {"post": _operation(
            "scheduleCall", "Schedule a call (notifies the callee: scheduled)", "201", "Call", "401 404 422",
            body=_object({"callee_id": _id("callee"),
                          "scheduled_at": {"type": "string", "format": "date-time"}}))},
        "/calls/{id}/accept": _call_action("accept", "callee, ringing"),
        "/calls/{id}/reject": _call_action("reject", "callee, ringing"),
        "/calls/{id}/terminate": _call_action("terminate", "either, ringing or accepted"),
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Buddy4all reference backend", "version": "1.0.0",
                 "description": "The conformance kit's reference implementation of the "
                 "Buddy4all notification contract. WebSocket: GET /ws?token=T (plain JSON "
                 "frames) and GET /cable?token=T (ActionCable, channel NotificationsChannel)."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


def render() -> str:
    return json.dumps(build(), indent=2) + "\n"


if __name__ == "__main__":
    target = Path(__file__).with_name("openapi.json")
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)
