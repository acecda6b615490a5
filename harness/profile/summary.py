"""A readable account of a loaded profile: what `b4a profile check` prints.

Where requests go, how users authenticate, the WebSocket URL as a sample user would get it (token
redacted), and for every row of the action table whether it is declared, its steps, what it
receives and extracts, and which game transitions the profile can drive.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING

from harness.contract import load_contract
from harness.profile import Profile, Step
from harness.profile.actions import ACTIONS, ActionSpec, game_verb_for
from harness.templating import PLACEHOLDER

if TYPE_CHECKING:
    from harness.target import Target

__all__ = ["summary_lines"]

_FCM_MODES = {
    "proxy": "the backend reaches FCM through the emulator's HTTPS proxy",
    "base_url": "the backend is configured with the emulator's URL as its FCM endpoint",
    "none": "the backend sends no pushes; push checks SKIP",
}


def summary_lines(profile: Profile) -> Iterator[str]:
    from harness.target import Target, TargetError, User  # local: requests only when a summary is printed
    from harness.transcript import Transcript

    transcript = Transcript()
    target = Target(profile, transcript)
    token = "sample-" + secrets.token_urlsafe(12)
    sample = User(label="sample", id=1, token=token, name="sample-1")
    transcript.add_secret(token)
    try:
        websocket = transcript.redact_url(target.websocket_url(sample))
        headers = transcript.redact_headers(target.websocket_headers(sample))
    except TargetError as error:
        websocket, headers = f"(cannot render: {error})", {}
    framing = profile.websocket.framing
    if profile.websocket.identifier is not None:
        framing += f", channel identifier {profile.websocket.identifier}"

    yield f'{profile.source}: valid profile "{profile.name}"'
    yield f"  base_url    {profile.base_url}"
    yield f"  auth        {_auth(profile)}"
    yield f"  websocket   {websocket}  (sample user, token redacted)"
    yield f"  framing     {framing}"
    if headers:
        yield f"  ws headers  {', '.join(f'{k}: {v}' for k, v in headers.items())}"
    yield f"  fcm         {profile.fcm_mode}: {_FCM_MODES[profile.fcm_mode]}"
    yield f"  games       {_games(profile)}"
    origins = profile.security.allowed_origins
    yield f"  origins     {'browser origins allowed: ' + ', '.join(origins) if origins else 'not declared (the origin check SKIPs)'}"
    yield (f"  timing      http {profile.http_seconds:g} s, WebSocket deadline {profile.websocket_seconds:g} s, "
           f"push deadline {profile.push_seconds:g} s, quiet window {profile.quiet_window_seconds:g} s, "
           f"ring timeout {profile.ring_timeout_seconds:g} s")
    yield ""
    yield "actions ([x] declared; the checks that need an undeclared one SKIP):"
    for spec in ACTIONS:
        yield from _action(profile, spec)
    yield ""
    yield "game transitions of the contract:"
    yield from _transitions(profile, target)


def _auth(profile: Profile) -> str:
    if profile.auth.header:
        value = PLACEHOLDER.sub(lambda match: f"<{match.group(1)}>", profile.auth.format)
        return f"every request but auth: false ones sends the header {profile.auth.header}: {value}"
    return f"every request but auth: false ones sends the query parameter {profile.auth.query}=<token>"


def _games(profile: Profile) -> str:
    if profile.games is None:
        return "no games section (game.create receives no {{game_id}})"
    if profile.games.lookup is None:
        return f"game_id {profile.games.game_id!r} (fixed)"
    return f"looked up once per run by games.lookup ({len(profile.games.lookup)} step(s))"


def _steps_of(profile: Profile, spec: ActionSpec) -> tuple[Step, ...] | None:
    if spec.name == "users.create":
        return profile.create_user
    if spec.name == "devices.register":
        return profile.register_device
    if spec.name == "presence.request":
        return (profile.presence.request,) if profile.presence and profile.presence.request else None
    if spec.name == "games.lookup":
        return profile.games.lookup if profile.games else None
    if spec.section.startswith("security."):
        return profile.security.steps(spec.name)
    return profile.actions.get(spec.name)


def _action(profile: Profile, spec: ActionSpec) -> Iterator[str]:
    steps = _steps_of(profile, spec)
    if steps is None:
        yield f"  [ ] {spec.name}: {_why_not_declared(profile, spec)}"
        return
    yield f"  [x] {spec.name}"
    for step in steps:
        yield f"        {step.method} {step.path or step.url}"
    received = [f"{{{{{name}}}}}" + (f" (from {spec.source_text(name)})" if spec.source_text(name) else "")
                for name in spec.receives]
    extracted = list(dict.fromkeys(name for step in steps for name in step.extract))
    required = [f"{name} (required)" if name in spec.must_extract else name for name in extracted]
    yield f"        receives {', '.join(received) or 'nothing'}; extracts {', '.join(required) or 'nothing'}"
    if spec.name == "presence.request" and profile.presence and profile.presence.online:
        yield f"        online: the boolean at {profile.presence.online}"


def _why_not_declared(profile: Profile, spec: ActionSpec) -> str:
    if spec.to_state and "game.transition" in profile.actions:
        return f"not declared; game.transition moves sessions to {spec.to_state}"
    if spec.name == "presence.request" and profile.presence and profile.presence.settle_seconds is not None:
        return f"not declared; the harness waits presence.settle_seconds ({profile.presence.settle_seconds:g} s) instead"
    if spec.name == "games.lookup" and profile.games is not None:
        return f"not declared; games.game_id is {profile.games.game_id!r}"
    if spec.name == "devices.register":
        return "not declared; no device tokens are registered, push checks SKIP"
    return "not declared; checks that need it SKIP"


def _transitions(profile: Profile, target: Target) -> Iterator[str]:
    game = next(family for family in load_contract().families if family.name == "game-session")
    for transition in game.transitions:
        source, to_state = transition["from"], transition["to"]
        label = f"{source or '(new)'}->{to_state}"
        if target.supports_transition(source, to_state):
            how = "game.create" if source is None else target.transition_action(to_state)
            yield f"  [x] {label:<22} by {how}"
        elif source is None:
            yield f"  [ ] {label:<22} needs actions.game.create"
        elif target.transition_action(to_state) is None:
            verb = game_verb_for(to_state)
            yield f"  [ ] {label:<22} needs actions.{verb} or actions.game.transition"
        else:
            yield f"  [ ] {label:<22} not listed in supports.game_transitions"
