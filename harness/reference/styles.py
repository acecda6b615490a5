"""Convention styles: switches that make the reference backend's REST and WebSocket API look like
other teams' backends (Rails, Node), so the conformance suite can be proven against them.

A style changes how requests and responses look, never what is notified to whom: notification
payloads stay the contract's (integer ids), except that `ms-dates` also adds milliseconds there.
`default` (no style) is the backend as documented by harness/reference/openapi.json.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["BUNDLES", "BUNDLE_PROFILES", "STYLES", "Conventions", "format_style_table",
           "parse_styles"]

#: Every style name (the `prefix=PATH` one takes a value) -> what it changes.
STYLES: dict[str, str] = {
    "verbs": "game moves are POST <prefix>/game_sessions/{id}/accept|reject|start|finish|cancel|"
             "resume; sessions are created at <prefix>/game_sessions (no generic state endpoint)",
    "patch-state": "game moves are PATCH <prefix>/game_sessions/{id} {\"game_session\": {\"state\": S}};"
                   " friendships PATCH <prefix>/friendships/{id} {\"friendship\": {\"status\": S}},"
                   " cancel is DELETE <prefix>/friendships/{id}",
    "token-header": "REST auth is X-Auth-Token: <token> (Authorization is ignored);"
                    " WebSocket auth is ?access_token=<token>",
    "envelope": "responses are {\"data\": ...}; request bodies are wrapped Rails-style"
                " ({\"friendship\": {...}}, {\"device\": {\"fcm_token\": T}}, ...);"
                " a call's OpenVidu id is nested as session.id",
    "string-ids": "ids are JSON strings in REST responses (\"id\": \"42\"); bodies accept"
                  " strings or integers (notification payloads keep integers)",
    "ms-dates": "date-times carry milliseconds everywhere, notification payloads included"
                " (2027-03-14T15:09:26.000Z)",
    "catalogue": "GET <prefix>/games lists the backend's games (ids 101, 102, 103); creating a"
                 " session for any other game id is refused (422)",
    "upgrade-401": "a /ws upgrade without valid credentials is refused with HTTP 401 (not 403)",
    "prefix=PATH": "every REST route lives under PATH (e.g. prefix=/api/v1); /health and the"
                   " WebSocket endpoints /ws and /cable stay at the host root",
    "rails": "bundle: prefix=/api/v1, envelope, patch-state, catalogue"
             " (use ActionCable on /cable; profile fixtures/profiles/reference-rails-style.yaml)",
    "node": "bundle: prefix=/v2, verbs, token-header, string-ids, ms-dates, catalogue,"
            " upgrade-401 (plain /ws; profile fixtures/profiles/reference-node-style.yaml)",
}

#: Bundle name -> the individual styles it switches on.
BUNDLES: dict[str, tuple[str, ...]] = {
    "rails": ("prefix=/api/v1", "envelope", "patch-state", "catalogue"),
    "node": ("prefix=/v2", "verbs", "token-header", "string-ids", "ms-dates", "catalogue",
             "upgrade-401"),
}

#: Bundle name -> the target profile (in fixtures/profiles/) written for it.
BUNDLE_PROFILES: dict[str, str] = {
    "rails": "reference-rails-style.yaml",
    "node": "reference-node-style.yaml",
}

_PREFIX = re.compile(r"(/[A-Za-z0-9._~-]+)+")
_SWITCHES = ("verbs", "patch-state", "token-header", "envelope", "string-ids", "ms-dates",
             "catalogue", "upgrade-401")


@dataclass(frozen=True)
class Conventions:
    """The active conventions of one running backend; the default value is the default style."""

    prefix: str = ""
    verbs: bool = False
    patch_state: bool = False
    token_header: bool = False
    envelope: bool = False
    string_ids: bool = False
    ms_dates: bool = False
    catalogue: bool = False
    upgrade_401: bool = False
    #: the names given, for the start-up line
    names: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        return self == Conventions()

    @property
    def game_sessions_path(self) -> str:
        """Where sessions are created: Rails/Node resources when either transition style is on."""
        return "/game_sessions" if self.verbs or self.patch_state else "/games/sessions"

    def describe(self) -> str:
        """One line: every switch that is on (bundles expanded)."""
        parts = [f"prefix {self.prefix}"] if self.prefix else []
        parts += [name for name in _SWITCHES if getattr(self, name.replace("-", "_"))]
        return ", ".join(parts) or "default"


def parse_styles(names: Iterable[str]) -> Conventions:
    """`--style` values (repeatable, comma-separated, bundles allowed) -> Conventions.

    ValueError with one line naming the bad value.
    """
    conventions = Conventions()
    given: list[str] = []
    for raw in names:
        for name in (part.strip() for part in raw.split(",")):
            if not name or name == "default":
                continue
            given.append(name)
            for single in BUNDLES.get(name, (name,)):
                conventions = _switch_on(conventions, single, name)
    return replace(conventions, names=tuple(given))


def _switch_on(conventions: Conventions, name: str, given: str) -> Conventions:
    if name.startswith("prefix="):
        prefix = name.removeprefix("prefix=").rstrip("/")
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"bad style {given!r}: the prefix must be a path such as /api/v1")
        if conventions.prefix and conventions.prefix != prefix:
            raise ValueError(f"style {given!r} conflicts with prefix={conventions.prefix}")
        return replace(conventions, prefix=prefix)
    if name not in _SWITCHES:
        raise ValueError(f"unknown style: {name} (see `b4a serve --list-styles`)")
    switch: dict[str, Any] = {name.replace("-", "_"): True}
    return replace(conventions, **switch)


def format_style_table() -> str:
    """The `--list-styles` listing: name and description, one style per line."""
    width = max(len(name) for name in STYLES)
    return "\n".join(f"{name:<{width}}  {text}" for name, text in STYLES.items())
