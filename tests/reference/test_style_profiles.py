"""The shipped style profiles (fixtures/profiles/reference-*-style.yaml) drive the reference backend
started with their bundle: every action of reference.yaml has a counterpart, and each one's HTTP
steps are accepted by the styled backend (the conformance suite then judges the notifications)."""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import websocket
import yaml

from harness.emulator.fcm import FcmEmulator, FcmInbox
from harness.profile import load_profile
from harness.reference import ReferenceBackend
from harness.reference.styles import BUNDLE_PROFILES
from harness.target import ActionResult, Target

PROFILES = Path(__file__).resolve().parents[2] / "fixtures" / "profiles"
GAME_VERBS = ("game.accept", "game.reject", "game.start", "game.finish", "game.cancel",
              "game.resume")


def sections(name: str) -> dict[str, object]:
    document: dict[str, object] = yaml.safe_load((PROFILES / name).read_text())
    return document


@pytest.mark.parametrize("bundle", list(BUNDLE_PROFILES))
def test_a_style_profile_has_every_section_and_action_of_the_reference_profile(
        bundle: str) -> None:
    reference, styled = sections("reference.yaml"), sections(BUNDLE_PROFILES[bundle])
    assert set(reference) <= set(styled), set(reference) - set(styled)
    actions = set(styled["actions"])  # type: ignore[arg-type]
    for action in reference["actions"]:  # type: ignore[union-attr]
        # a verb-per-transition API has no generic state endpoint: the six verbs stand for it
        assert action in actions or action == "game.transition" and set(GAME_VERBS) <= actions, (
            f"{BUNDLE_PROFILES[bundle]} lacks {action}")


@pytest.fixture(scope="module", params=list(BUNDLE_PROFILES))
def styled(request: pytest.FixtureRequest, fcm: FcmEmulator) -> Iterator[tuple[str, ReferenceBackend]]:
    with ReferenceBackend(styles=(request.param,),
                          fcm_emulator_url=fcm.base_url) as backend:
        yield request.param, backend


@pytest.fixture
def target(styled: tuple[str, ReferenceBackend]) -> Target:
    bundle, backend = styled
    return Target(load_profile(PROFILES / BUNDLE_PROFILES[bundle],
                               overrides={"base_url": backend.api_url}))


def ok(result: ActionResult) -> ActionResult:
    assert result.ok, f"{result.action}: HTTP {result.status}: {result.body}"
    return result


def test_the_profile_drives_every_action_through_the_styled_backend(
        target: Target, inbox: FcmInbox) -> None:
    a, b = target.create_user("A"), target.create_user("B")
    device = f"dev-style-{secrets.token_hex(6)}"  # the emulator is shared by every backend
    target.register_device(b, device)
    request = ok(target.act("friendship.request", a, b))
    assert len(inbox.wait(1, token=device, timeout=5)) == 1  # the device was registered
    ok(target.act("friendship.accept", b, a, **request.vars))
    ok(target.act("friendship.terminate", a, b, **request.vars))
    for closing, actor in (("friendship.cancel", a), ("friendship.reject", b)):
        pending = ok(target.act("friendship.request", a, b))
        ok(target.act(closing, actor, a if actor is b else b, **pending.vars))

    created = ok(target.act("game.create", a, b))
    assert str(target.game_id()) == "101"  # looked up in the catalogue
    state = "requested"
    for to_state, actor, other in (("accepted", b, a), ("started", a, b), ("finished", b, a),
                                   ("resumed", a, b), ("canceled", b, a)):
        moved = ok(target.game_transition(actor, other, from_state=state, to_state=to_state,
                                          **created.vars))
        assert moved.body.get("data", moved.body)["state"] == to_state  # enveloped or not
        state = to_state
    rejected = ok(target.act("game.create", a, b))
    ok(target.game_transition(b, a, from_state="requested", to_state="rejected", **rejected.vars))
    refused = target.game_transition(a, b, from_state="rejected", to_state="started",
                                     **rejected.vars)
    assert refused.refused and refused.status == 409

    ok(target.act("chat.post", a, b, text="hello"))
    online = websocket.create_connection(target.websocket_url(b), timeout=5,
                                         header=target.websocket_headers(b))
    try:
        assert target.is_online(b) is True
        call = ok(target.act("call.request", a, b))
        assert str(call.vars["call_session_id"]).startswith("ses_")
        ok(target.act("call.accept", b, a, **call.vars))
        ok(target.act("call.terminate", a, b, **call.vars))
        declined = ok(target.act("call.request", a, b))
        ok(target.act("call.reject", b, a, **declined.vars))
    finally:
        online.close()
    ok(target.act("call.schedule", a, b, scheduled_at="2026-12-01T09:30:00Z"))
