"""`Target`: drives a backend through its profile (users, devices, actions, presence, WebSocket URLs)."""
from __future__ import annotations

import copy
import dataclasses
import json
import re
import secrets
import shlex
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, parse_qsl, quote, urlencode

import requests

from harness.profile import ACTION_DEFAULTS, ACTION_PARAMS, Profile, Step, contract_game_transitions
from harness.profile.actions import action_named, game_verb_for
from harness.profile.urls import api_url, websocket_url
from harness.templating import TemplateError, placeholders, render_text, render_value, to_text
from harness.transcript import Entry, Transcript

__all__ = ["ActionResult", "Target", "TargetError", "Unsupported", "User"]

_BODY_IN_MESSAGE = 200  # characters of a response body quoted in an error line
_BODY_IN_TRANSCRIPT = 8000  # an HTML error page should not swallow the report
_RESERVED = frozenset({"actor", "user", "other", "token", "name", "device_token"})


@dataclasses.dataclass(frozen=True)
class User:
    label: str
    id: int | str  # as the backend's REST API gave it ("42" from an API with string ids); payloads use ints
    token: str
    name: str


@dataclasses.dataclass(frozen=True)
class ActionResult:
    action: str
    status: int | None
    ok: bool  # every step answered 2xx (or its expect_status)
    refused: bool  # a step answered 4xx: the backend refused the action
    vars: dict[str, Any]  # the params passed in + the values extracted
    body: Any  # the last response body (JSON, or text)
    responded_at: float  # time.monotonic() when the last response arrived
    curl: tuple[str, ...]  # the requests as curl command lines, credentials redacted
    #: time.monotonic() when the first request was sent: nothing the action causes can arrive earlier
    started_at: float = 0.0


class TargetError(Exception):
    """The target is unreachable, answered 5xx, or not JSON where JSON was needed; one clear line."""


class Unsupported(Exception):
    """The profile lacks the action; checks turn this into SKIP."""


class _GameIdOnce:
    """The looked-up game id, shared by a Target and its bound copies: one lookup per Target."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.found = False
        self.value: Any = None


class Target:
    def __init__(self, profile: Profile, transcript: Transcript | None = None) -> None:
        self.profile = profile
        self.transcript = transcript if transcript is not None else Transcript()
        self._session = requests.Session()
        # The environment's proxies and CA bundle (HTTP_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE) are read once
        # per origin below, not on every request as requests does with trust_env (a millisecond per
        # request, ~/.netrc included). Credentials come from the profile only, never from ~/.netrc.
        self._session.trust_env = False
        self._environment: dict[str, dict[str, Any]] = {}  # scheme://host -> proxies/verify from the environment
        self._bad_token = "invalid-" + secrets.token_urlsafe(12)
        self._game_id = _GameIdOnce()

    def with_transcript(self, transcript: Transcript) -> Target:
        """A copy sharing the HTTP session, recording into a check's own transcript."""
        bound = copy.copy(self)
        bound.transcript = transcript
        return bound

    # -- users and devices -------------------------------------------------------------------

    def create_user(self, label: str) -> User:
        name = f"{label}-{uuid.uuid4().hex[:8]}"
        result = self._run("users.create", self.profile.create_user, {"name": name}, label)
        if not result.ok:
            raise TargetError(f"users.create: the target refused to create user {name!r}: HTTP {result.status}: {_snippet(result.body)}")
        user = User(label=label, id=result.vars["id"], token=to_text(result.vars["token"]), name=name)
        self.transcript.add_secret(user.token)
        return user

    def register_device(self, user: User, device_token: str) -> None:
        if self.profile.register_device is None:
            raise Unsupported("the profile has no devices.register")
        variables = {**self._user_variables(user), "device_token": device_token}
        result = self._run("devices.register", self.profile.register_device, variables, user.label)
        if not result.ok:
            raise TargetError(f"devices.register: the target refused a device token for {user.label}: HTTP {result.status}: {_snippet(result.body)}")

    # -- actions -----------------------------------------------------------------------------

    def supports(self, action: str) -> bool:
        return action in self.profile.actions

    def sends(self, action: str, param: str) -> bool:
        """Whether the profile's steps for `action` use the parameter `param` (`{{scheduled_at}}`):
        a check asking the target for a value the profile never sends could only judge a default."""
        steps = self.profile.actions.get(action, ())
        return any(param in placeholders(text) for step in steps
                   for text in _texts((step.path, step.url, dict(step.query), dict(step.headers), step.json)))

    def supports_transition(self, from_state: str | None, to_state: str) -> bool:
        """Can the profile drive this game transition? None -> "requested" means creating the session.

        Only transitions of the contract's graph count (an invalid one is supported by nobody), with
        an action for the target state, and listed in supports.game_transitions when it is a list.
        """
        if from_state is None:
            return to_state == "requested" and self.supports("game.create")
        if (from_state, to_state) not in contract_game_transitions() or self.transition_action(to_state) is None:
            return False
        wanted = self.profile.game_transitions
        return wanted is None or (from_state, to_state) in wanted

    def transition_action(self, to_state: str) -> str | None:
        """The action that moves a session to `to_state`: its game.<verb>, else game.transition, else None."""
        verb = game_verb_for(to_state)
        if verb is not None and self.supports(verb):
            return verb
        return "game.transition" if self.supports("game.transition") else None

    def game_transition(self, actor: User, other: User | None, *, from_state: str | None, to_state: str,
                        **params: Any) -> ActionResult:
        """Move a session to `to_state` through transition_action(to_state), passing state and from_state.

        Works for moves outside the contract's graph too: checks drive those on purpose to see them refused.
        """
        action = self.transition_action(to_state)
        if action is None:
            verb = game_verb_for(to_state)
            needs = f"actions.{verb} or actions.game.transition" if verb else "actions.game.transition"
            raise Unsupported(f"the profile has no action for a game transition to {to_state} (needs {needs})")
        return self.act(action, actor, other, **{**params, "state": to_state, "from_state": from_state})

    def game_id(self) -> Any:
        """The game catalogue id for game.create: games.game_id, or what games.lookup extracts (run once)."""
        games = self.profile.games
        if games is None:
            raise Unsupported("the profile has no games section")
        if games.lookup is None:
            return games.game_id
        once = self._game_id
        with once.lock:  # checks on several threads wait for the one lookup
            if not once.found:
                once.value = self._look_up_game_id(games.lookup)
                once.found = True
            return once.value

    def _look_up_game_id(self, steps: tuple[Step, ...]) -> Any:
        user = self.create_user("games")
        result = self._run("games.lookup", steps, self._user_variables(user), user.label)
        if not result.ok:
            raise TargetError(f"games.lookup: the target refused to list games: HTTP {result.status}: {_snippet(result.body)}")
        value = result.vars.get("game_id")
        if value is None or isinstance(value, (bool, dict, list)) or value == "":
            raise TargetError(f"games.lookup: the extracted game_id is not an id: {_snippet(value)}")
        return value

    def act(self, action: str, actor: User, other: User | None = None, **params: Any) -> ActionResult:
        """Run an action's steps as `actor`. 4xx -> refused=True; 5xx or no answer -> TargetError."""
        if action not in ACTION_PARAMS:
            raise ValueError(f"unknown action {action!r} (known: {', '.join(ACTION_PARAMS)})")
        if action not in self.profile.actions:
            raise Unsupported(f"the profile has no actions.{action}")
        clash = _RESERVED & params.keys()
        if clash:
            raise ValueError(f"{action}: parameter names {sorted(clash)} are reserved")
        steps = self.profile.actions[action]
        given = {**ACTION_DEFAULTS.get(action, {}), **params}
        if "game_id" not in given and "game_id" in action_named(action).receives and self.profile.games is not None \
                and self.sends(action, "game_id"):
            given["game_id"] = self.game_id()  # the catalogue's id, unless the check passes the session's
        variables = {**given, **self._user_variables(actor)}
        if other is not None:
            variables["other"] = other
            self.transcript.add_secret(other.token)
        result = self._run(action, steps, variables, actor.label)
        # what was sent (defaults included) and what came back: the next action of the flow gets both
        return dataclasses.replace(result, vars={**given, **result.vars})

    # -- tokens (the profile's security.tokens section) ---------------------------------------

    def issue_token(self, user: User) -> User:
        """The same user with a second token (security.tokens.issue); Unsupported without it."""
        token = self._token_from("security.tokens.issue", user)
        return dataclasses.replace(user, token=token)

    def expired_token(self, user: User) -> str:
        """A token of `user` that has already expired (security.tokens.expired)."""
        return self._token_from("security.tokens.expired", user)

    def revoke_token(self, user: User) -> ActionResult:
        """Revoke `user.token` (security.tokens.revoke, authenticated with that token)."""
        steps = self.profile.security.revoke_token
        if steps is None:
            raise Unsupported("the profile has no security.tokens.revoke")
        result = self._run("security.tokens.revoke", steps, self._user_variables(user), user.label)
        if not result.ok:
            raise TargetError(f"security.tokens.revoke: the target refused to revoke a token of {user.label}: "
                              f"HTTP {result.status}: {_snippet(result.body)}")
        return result

    def _token_from(self, section: str, user: User) -> str:
        steps = self.profile.security.steps(section)
        if steps is None:
            raise Unsupported(f"the profile has no {section}")
        result = self._run(section, steps, self._user_variables(user), user.label)
        if not result.ok:
            raise TargetError(f"{section}: the target refused it for {user.label}: HTTP {result.status}: {_snippet(result.body)}")
        token = to_text(result.vars["token"])
        self.transcript.add_secret(token)
        return token

    # -- presence ------------------------------------------------------------------------------

    def is_online(self, user: User) -> bool | None:
        """Whether the backend counts an open connection for `user`; None without a presence request."""
        presence = self.profile.presence
        if presence is None or presence.request is None or presence.online is None:
            return None
        result = self._run("presence", (presence.request,), self._user_variables(user), user.label)
        url = presence.request.path or presence.request.url
        if not result.ok:
            raise TargetError(f"presence: {url} answered HTTP {result.status} for {user.label}: {_snippet(result.body)}")
        found, value = _pointer(result.body, presence.online)
        if not found or not isinstance(value, bool):
            raise TargetError(f"presence: {presence.online} in the answer of {url} is not true/false: {_snippet(result.body)}")
        return value

    def wait_offline(self, user: User, timeout: float) -> None:
        """Poll presence until `user` is offline, or sleep settle_seconds; TargetError after timeout."""
        presence = self.profile.presence
        if presence is None:
            return
        if presence.settle_seconds is not None:
            time.sleep(presence.settle_seconds)
            return
        deadline = time.monotonic() + timeout
        while self.is_online(user):
            if time.monotonic() >= deadline:
                raise TargetError(f"presence: {user.label} still counts as online {timeout:g} s after closing its connections")
            time.sleep(0.05)

    def check_reachable(self) -> None:
        """One real request (creating a probe user); TargetError with one clear line otherwise."""
        self.create_user("probe")

    def warm_up(self) -> None:
        """One chat to a probe device, not awaited: a backend fetches its FCM access token on its first
        push, and this way it does so while the checks start, not inside the first check. Best effort:
        whatever goes wrong here, the checks themselves will meet and report."""
        if self.profile.fcm_mode == "none" or not self.supports("chat.post") or self.profile.register_device is None:
            return
        try:
            sender, receiver = self.create_user("warm-up"), self.create_user("warm-up")
            self.register_device(receiver, f"b4a-warm-up-{uuid.uuid4().hex[:12]}")
            self.act("chat.post", sender, receiver, text="b4a warm-up")
        except (TargetError, Unsupported):
            pass

    # -- WebSocket -----------------------------------------------------------------------------

    def websocket_url(self, user: User) -> str:
        return self._websocket_url(self._user_variables(user), drop_empty_token=False)

    def websocket_headers(self, user: User) -> dict[str, str]:
        return self._websocket_headers(self._user_variables(user), with_credentials=True)

    def unauthenticated_websocket_url(self) -> str:
        """The WebSocket URL with an empty token, and an empty token query parameter dropped."""
        return self._websocket_url(self._stand_in(""), drop_empty_token=True)

    def unauthenticated_websocket_headers(self) -> dict[str, str]:
        """The templated upgrade headers without those carrying credentials."""
        return self._websocket_headers(self._stand_in(""), with_credentials=False)

    def bad_credentials_websocket_url(self) -> str:
        return self._websocket_url(self._stand_in(self._bad_token), drop_empty_token=False)

    def bad_credentials_websocket_headers(self) -> dict[str, str]:
        """Upgrade headers carrying the same wrong token as bad_credentials_websocket_url()."""
        return self._websocket_headers(self._stand_in(self._bad_token), with_credentials=True)

    def _stand_in(self, token: str) -> dict[str, Any]:
        # a URL template may name the user (e.g. /cable?user={{user.id}}): give it one that does not exist
        nobody = User(label="anonymous", id=0, token=token, name="anonymous")
        return {"actor": nobody, "user": nobody, "token": token, "name": nobody.name}

    def _websocket_url(self, variables: Mapping[str, Any], drop_empty_token: bool) -> str:
        template = self.profile.websocket.url
        base, _, query = template.partition("?")
        try:
            url = render_text(base, variables, encode=_quote)
            pairs = []
            for key, value in parse_qsl(query, keep_blank_values=True):
                rendered = render_text(value, variables)
                if drop_empty_token and rendered == "" and _mentions_credentials(value):
                    continue
                pairs.append((key, rendered))
        except TemplateError as error:
            raise TargetError(f"websocket.url: {error}") from None
        url = websocket_url(self.profile.base_url, url)
        return f"{url}?{urlencode(pairs)}" if pairs else url

    def _websocket_headers(self, variables: Mapping[str, Any], with_credentials: bool) -> dict[str, str]:
        headers = {}
        for name, template in self.profile.websocket.headers.items():
            if with_credentials or not _mentions_credentials(template):
                try:
                    headers[name] = render_text(template, variables)
                except TemplateError as error:
                    raise TargetError(f"websocket.headers.{name}: {error}") from None
        return headers

    # -- the HTTP engine ----------------------------------------------------------------------

    def _user_variables(self, user: User) -> dict[str, Any]:
        self.transcript.add_secret(user.token)
        return {"actor": user, "user": user, "token": user.token, "name": user.name}

    def _run(self, action: str, steps: tuple[Step, ...], variables: dict[str, Any], label: str) -> ActionResult:
        variables = dict(variables)
        extracted: dict[str, Any] = {}
        curls: list[str] = []
        status: int | None = None
        body: Any = None
        started_at = responded_at = time.monotonic()
        for number, step in enumerate(steps, 1):
            where = f"{action} step {number}/{len(steps)}"
            prepared, sent_body, sent_headers = self._prepare(step, variables, where)
            t_start = self.transcript.now()
            try:
                response = self._session.send(prepared, timeout=self.profile.http_seconds,
                                              **self._environment_settings(str(prepared.url)))
            except requests.RequestException as error:
                problem = _connection_problem(error, self.profile.http_seconds)
                entry = self.transcript.http(label, method=step.method, url=str(prepared.url), request_headers=sent_headers,
                                             request_body=sent_body, status=None, response_body=None,
                                             t_start=t_start, t_end=self.transcript.now(), error=problem)
                raise TargetError(f"{where}: {step.method} {entry.data['url']}: {problem}") from None
            responded_at = time.monotonic()
            t_end = self.transcript.now()
            status, body = response.status_code, _body(response)
            values, missing = _extract(step, body) if step.accepts(status) else ({}, None)
            for name, value in values.items():
                if name == "token" and isinstance(value, str):  # a user token: a secret from now on
                    self.transcript.add_secret(value)
            entry = self.transcript.http(label, method=step.method, url=str(prepared.url), request_headers=sent_headers,
                                         request_body=sent_body, status=status, response_body=_trim(body),
                                         t_start=t_start, t_end=t_end)
            curls.append(_curl(entry))
            if not step.accepts(status):
                if status >= 500:
                    raise TargetError(f"{where}: {step.method} {entry.data['url']} answered HTTP {status}: {self.transcript.redact(_snippet(body))}")
                return ActionResult(action, status, ok=False, refused=400 <= status < 500, vars=extracted,
                                    body=body, responded_at=responded_at, curl=tuple(curls), started_at=started_at)
            if missing is not None:
                raise TargetError(f"{where}: {step.method} {entry.data['url']}: {self.transcript.redact(missing)}")
            variables.update(values)
            extracted.update(values)
        return ActionResult(action, status, ok=True, refused=False, vars=extracted, body=body,
                            responded_at=responded_at, curl=tuple(curls), started_at=started_at)

    def _environment_settings(self, url: str) -> dict[str, Any]:
        """requests' proxy and CA settings from the environment (HTTP_PROXY, NO_PROXY, ...), read
        once per origin: requests re-reads the whole environment on every request otherwise."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        found = self._environment.get(origin)
        if found is None:
            with requests.Session() as reader:  # trusts the environment, as requests does by default
                found = self._environment[origin] = reader.merge_environment_settings(url, {}, None, None, None)
        return found

    def _prepare(self, step: Step, variables: Mapping[str, Any], where: str) -> tuple[requests.PreparedRequest, Any, dict[str, str]]:
        try:
            url = render_text(step.url, variables) if step.url else api_url(self.profile.base_url, render_text(step.path or "", variables, encode=_quote))
            query = {key: render_value(value, variables) for key, value in step.query.items()}
            headers = {key: render_text(value, variables) for key, value in step.headers.items()}
            body = render_value(step.json, variables) if step.has_json else None
            if step.auth:
                if "token" not in variables:
                    raise TemplateError("this step sends credentials but no user token is known; set auth: false")
                auth = self.profile.auth
                if auth.header:
                    headers[auth.header] = render_text(auth.format, variables)
                else:
                    query[auth.query] = variables["token"]  # type: ignore[index]
        except TemplateError as error:
            raise TargetError(f"{where} ({step.where}): {error}") from None
        data = None
        if step.has_json:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers.setdefault("Content-Type", "application/json")
        params = [(key, to_text(value)) for key, value in query.items() if value is not None]
        request = requests.Request(step.method, url, params=params, headers=headers, data=data)
        return self._session.prepare_request(request), body, headers


def _texts(value: Any) -> list[str]:
    """Every string inside a templated value (nested dicts and lists included)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in _texts(item)]
    return []


def _quote(value: str) -> str:
    return quote(value, safe="-._~")


def _mentions_credentials(template: str) -> bool:
    return any(name == "token" or name.endswith(".token") for name in placeholders(template))


def _body(response: requests.Response) -> Any:
    text = response.text
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _trim(body: Any) -> Any:
    if isinstance(body, str) and len(body) > _BODY_IN_TRANSCRIPT:
        return f"{body[:_BODY_IN_TRANSCRIPT]}... ({len(body) - _BODY_IN_TRANSCRIPT} more characters)"
    return body


def _snippet(body: Any) -> str:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= _BODY_IN_MESSAGE else text[:_BODY_IN_MESSAGE] + "..."


def _pointer(document: Any, pointer: str) -> tuple[bool, Any]:
    """RFC 6901: (found, value)."""
    value = document
    for raw in pointer.split("/")[1:] if pointer else ():
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            return False, None
    return True, value


def _extract(step: Step, body: Any) -> tuple[dict[str, Any], str | None]:
    """The step's extractions found, and the first problem (not JSON, missing pointer) or None."""
    if not step.extract:
        return {}, None
    if body is None or isinstance(body, str):
        return {}, f"the answer is not JSON, but {step.where}.extract needs it: {_snippet(body or '(empty body)')}"
    values, problem = {}, None
    for name, pointer in step.extract.items():
        found, value = _pointer(body, pointer)
        if found:
            values[name] = value  # kept even on a problem, so a token found is redacted from it
        elif problem is None:
            problem = f"{step.where}.extract.{name}: the answer has nothing at {pointer}: {_snippet(body)}"
    return values, problem


def _connection_problem(error: requests.RequestException, timeout: float) -> str:
    if isinstance(error, requests.Timeout):
        return f"no answer within {timeout:g} s (timeouts.http_seconds)"
    found = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(error))
    reason = found.group(1).strip().rstrip(".") if found else type(error).__name__
    return f"cannot connect: {reason}"


def _curl(entry: Entry) -> str:
    """A copy-pasteable reproduction of a recorded (already redacted) exchange."""
    data = entry.data
    parts = ["curl", "-sS", "-X", data["method"], shlex.quote(data["url"])]
    for name, value in data["request_headers"].items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if data["request_body"] is not None or "Content-Type" in data["request_headers"]:
        parts += ["--data-raw", shlex.quote(json.dumps(data["request_body"], ensure_ascii=False))]
    return " ".join(parts)
