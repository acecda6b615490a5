"""The control API (`/emulator/v1/...`): captured messages, attempts, tokens, faults, reset."""
from __future__ import annotations

import asyncio
import json
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from harness.emulator.fcm.fcm_api import Endpoints
from harness.emulator.fcm.oauth import OAuthAuthority
from harness.emulator.fcm.openapi import MAX_INT, openapi_document
from harness.emulator.fcm.responses import control_error, json_response
from harness.emulator.fcm.state import FAULT_CODES, TOKEN_STATES, EmulatorState

MAX_WAIT_SECONDS = 300.0
MAX_WAIT_COUNT = 100_000
MAX_LATENCY_MS = 60_000


class BadInput(Exception):
    """A control request we refuse; the message names the parameter and the problem."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class ControlApi:
    """Handlers for the control routes; each checks its input and never lets a 500 out."""

    def __init__(self, state: EmulatorState, oauth: OAuthAuthority, endpoints: Endpoints) -> None:
        self.state = state
        self.oauth = oauth
        self.endpoints = endpoints

    def routes(self) -> list[tuple[str, str, Any]]:
        """(method, path, handler) for every control operation."""
        base = "/emulator/v1"
        project = base + "/projects/{project}"
        return [
            ("GET", base + "/config", self.config),
            ("GET", base + "/openapi.json", self.openapi),
            ("POST", base + "/reset", self.reset),
            ("POST", project + "/serviceAccounts", self.service_account),
            ("GET", project + "/messages", self.list_messages),
            ("DELETE", project + "/messages", self.clear_messages),
            ("POST", project + "/messages:wait", self.wait_messages),
            ("GET", project + "/attempts", self.list_attempts),
            ("POST", project + "/attempts:wait", self.wait_attempts),
            ("GET", project + "/tokens", self.list_tokens),
            ("POST", project + "/tokens", self.set_token),
            ("DELETE", project + "/tokens/{token:path}", self.delete_token),
            ("GET", project + "/subscriptions", self.list_subscriptions),
            ("GET", project + "/faults", self.list_faults),
            ("POST", project + "/faults", self.add_fault),
            ("DELETE", project + "/faults", self.clear_faults),
        ]

    def wrap(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                project = request.path_params.get("project")
                if project is not None and project != self.endpoints.project_id:
                    raise BadInput(
                        f"project {project!r} is not emulated here; this emulator serves "
                        f"{self.endpoints.project_id!r}",
                        404,
                    )
                return await handler(request)
            except BadInput as exc:
                return control_error(exc.status, str(exc))
        return endpoint

    # -- handlers -----------------------------------------------------------------------------------
    async def config(self, request: Request) -> Response:
        e = self.endpoints
        return json_response({
            "project_id": e.project_id, "project_number": e.project_number, "base_url": e.base_url,
            "proxy_url": e.proxy_url, "host_mode_url": e.host_mode_url, "ca_cert_pem": e.ca_cert_pem,
            "token_uri": e.token_uri,
        })

    async def openapi(self, request: Request) -> Response:
        return json_response(openapi_document(self.endpoints.project_id))

    async def reset(self, request: Request) -> Response:
        self.state.reset()
        return json_response({"reset": True, "cursor": self.state.last_seq})

    async def service_account(self, request: Request) -> Response:
        # RSA key generation takes ~0.1 s: keep it off the loop that serves sends.
        account = await asyncio.to_thread(self.oauth.issue_service_account, self.endpoints.token_uri)
        return json_response(account, 201)

    async def list_messages(self, request: Request) -> Response:
        token, after, limit = _filters(request)
        found = self.state.select_messages(token, after, limit)
        return json_response({"messages": [m.to_json() for m in found], "cursor": self.state.last_seq})

    async def clear_messages(self, request: Request) -> Response:
        return json_response({"cleared": self.state.clear_messages(), "cursor": self.state.last_seq})

    async def wait_messages(self, request: Request) -> Response:
        return await self._wait(request, "messages", self.state.wait_messages)

    async def wait_attempts(self, request: Request) -> Response:
        return await self._wait(request, "attempts", self.state.wait_attempts)

    async def _wait(self, request: Request, kind: str, wait: Any) -> Response:
        body = await _json_object(request, {"count", "token", "after", "timeout"})
        count = _integer(body, "count", 1, 1, MAX_WAIT_COUNT)
        token = _string(body, "token")
        after = _integer(body, "after", None, 0, MAX_INT)
        timeout = _number(body, "timeout", 5.0, 0.0, MAX_WAIT_SECONDS)
        found, timed_out = await wait(count, token, after, timeout)
        return json_response({kind: [item.to_json() for item in found], "cursor": self.state.last_seq, "timed_out": timed_out})

    async def list_attempts(self, request: Request) -> Response:
        token, after, limit = _filters(request)
        found = self.state.select_attempts(token, after, limit)
        return json_response({"attempts": [a.to_json() for a in found], "cursor": self.state.last_seq})

    async def list_tokens(self, request: Request) -> Response:
        tokens = [{"token": token, "state": state} for token, state in self.state.tokens.items()]
        return json_response({"tokens": tokens})

    async def set_token(self, request: Request) -> Response:
        body = await _json_object(request, {"token", "state"})
        token = _string(body, "token")
        if not token:
            raise BadInput("body field 'token' is required and must be a non-empty string")
        state = body.get("state", "valid")
        if state not in TOKEN_STATES:
            raise BadInput(f"body field 'state' must be one of {', '.join(TOKEN_STATES)}; got {_show(state)}")
        self.state.tokens[token] = state
        return json_response({"token": token, "state": state})

    async def delete_token(self, request: Request) -> Response:
        token = request.path_params["token"]
        if self.state.tokens.pop(token, None) is None:
            raise BadInput(f"token {token!r} is not registered", 404)
        return json_response({"token": token, "state": "unknown"})

    async def list_subscriptions(self, request: Request) -> Response:
        subscriptions = {token: sorted(topics) for token, topics in self.state.subscriptions.items()}
        return json_response({"subscriptions": subscriptions})

    async def list_faults(self, request: Request) -> Response:
        return json_response({"faults": self.state.faults_json()})

    async def add_fault(self, request: Request) -> Response:
        body = await _json_object(request, {"code", "count", "probability", "latency_ms", "retry_after", "token"})
        code = body.get("code")
        if code is not None and code not in FAULT_CODES:
            raise BadInput(f"body field 'code' must be null or one of {', '.join(FAULT_CODES)}; got {_show(code)}")
        count = _integer(body, "count", None, 1, None)
        probability = _number(body, "probability", None, 0.0, 1.0)
        latency_ms = _integer(body, "latency_ms", 0, 0, MAX_LATENCY_MS)
        retry_after = _integer(body, "retry_after", None, 0, 3600)
        token = _string(body, "token")
        if code is None and not latency_ms:
            raise BadInput("a fault needs a 'code', a 'latency_ms', or both")
        fault = self.state.add_fault(
            code=code, count=count, probability=probability, latency_ms=latency_ms,
            retry_after=retry_after, token=token,
        )
        return json_response(fault.to_json(fault.count), 201)

    async def clear_faults(self, request: Request) -> Response:
        return json_response({"cleared": self.state.clear_faults()})


def _filters(request: Request) -> tuple[str | None, int | None, int | None]:
    query = request.query_params
    unknown = set(query) - {"token", "after", "limit"}
    if unknown:
        raise BadInput(f"unknown query parameter(s): {', '.join(sorted(unknown))}; known: token, after, limit")
    return query.get("token"), _query_int(query.get("after"), "after"), _query_int(query.get("limit"), "limit")


def _query_int(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or int(text) > MAX_INT:
        raise BadInput(f"query parameter {name!r} must be an integer between 0 and {MAX_INT}; got {text!r}")
    return int(text)


async def _json_object(request: Request, known: set[str]) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadInput(f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadInput(f"request body must be a JSON object; got {type(body).__name__}")
    unknown = set(body) - known
    if unknown:
        raise BadInput(f"unknown body field(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    return body


def _integer(body: dict[str, Any], name: str, default: int | None, low: int, high: int | None) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON Schema counts 3.0 as an integer
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f">= {low}"
        raise BadInput(f"body field {name!r} must be an integer {bounds}; got {_show(value)}")
    return value


def _number(body: dict[str, Any], name: str, default: float | None, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise BadInput(f"body field {name!r} must be a number between {low:g} and {high:g}; got {_show(value)}")
    return float(value)


def _string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BadInput(f"body field {name!r} must be a string or null; got {_show(value)}")
    return value


def _show(value: Any) -> str:
    try:
        text = orjson.dumps(value).decode()
    except TypeError:  # JSON allows integers beyond 64 bits; orjson does not
        text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."
