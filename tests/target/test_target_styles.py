"""A target that does not look like the reference's own API: the reference backend started with
convention styles (REST under /api/v1, one endpoint per game transition, string ids, a game catalogue),
driven through a profile written against those conventions."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import websocket
import yaml

from harness.profile import load_profile
from harness.reference import ReferenceBackend
from harness.target import Target, TargetError, Unsupported
from harness.transcript import Transcript

STYLES = ("prefix=/api/v1", "verbs", "string-ids", "catalogue")
VERBS = {"accept": "accepted", "reject": "rejected", "start": "started", "finish": "finished", "cancel": "canceled",
         "resume": "resumed"}


@pytest.fixture(scope="module")
def styled() -> Iterator[ReferenceBackend]:
    with ReferenceBackend(styles=STYLES) as backend:
        yield backend


def profile_text(backend: ReferenceBackend, **extra: Any) -> str:
    document: dict[str, Any] = {
        "name": "styled",
        "base_url": f"{backend.base_url}/api/v1/",  # the API prefix, with a trailing slash
        "auth": {"header": "Authorization", "format": "Bearer {{token}}"},
        "users": {"create": [{"method": "POST", "path": "/users", "auth": False, "json": {"name": "{{name}}"},
                              "extract": {"id": "/id", "token": "/token"}}]},
        "presence": {"request": {"method": "GET", "path": "/presence/{{user.id}}"}, "online": "/online"},
        "websocket": {"url": "/ws?token={{token}}"},  # at the host root, not under /api/v1
        "games": {"lookup": [{"method": "GET", "path": "/games", "extract": {"game_id": "/games/0/id"}}]},
        "actions": {
            "friendship.request": [{"method": "POST", "path": "/friendships", "json": {"friend_id": "{{other.id}}"},
                                    "extract": {"friendship_id": "/id"}}],
            "friendship.accept": [{"method": "POST", "path": "/friendships/{{friendship_id}}/accept"}],
            "game.create": [{"method": "POST", "path": "/game_sessions",
                             "json": {"game_id": "{{game_id}}", "partner_id": "{{other.id}}", "game_level": "{{game_level}}",
                                      "scheduled_at": "{{scheduled_at}}"},
                             "extract": {"session_id": "/id"}}],
            **{f"game.{verb}": [{"method": "POST", "path": f"/game_sessions/{{{{session_id}}}}/{verb}"}] for verb in VERBS},
        },
        **extra,
    }
    return yaml.safe_dump(document, sort_keys=False) + "\n"


@pytest.fixture
def target(styled: ReferenceBackend) -> Target:
    return Target(load_profile(profile_text(styled)), Transcript())


def urls(target: Target) -> list[str]:
    return [entry.data["url"] for entry in target.transcript.entries() if entry.kind == "http"]


def test_string_ids_render_and_paths_append_to_the_base_url_path(target: Target, styled: ReferenceBackend) -> None:
    a, b = target.create_user("A"), target.create_user("B")
    assert isinstance(a.id, str) and a.id.isdigit(), "ids stay as the REST API spells them"
    request = target.act("friendship.request", a, b)
    assert request.ok and request.vars == {"friendship_id": request.body["id"]} and isinstance(request.body["id"], str)
    assert target.transcript.entries()[-1].data["request_body"] == {"friend_id": b.id}  # "{{other.id}}" keeps the string
    accept = target.act("friendship.accept", b, a, **request.vars)
    assert accept.ok and accept.body["status"] == "accepted"
    assert urls(target)[-1] == f"{styled.base_url}/api/v1/friendships/{request.vars['friendship_id']}/accept"
    assert all("/api/v1//" not in url and url.startswith(f"{styled.base_url}/api/v1/") for url in urls(target))


def test_the_game_id_is_looked_up_once_for_all_threads_and_copies(target: Target) -> None:
    found: list[Any] = []
    threads = [threading.Thread(target=lambda: found.append(target.game_id())) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == ["101"] * 6, "the first game of the catalogue, as the API spells it"
    bound = target.with_transcript(Transcript())
    assert bound.game_id() == "101" and bound.transcript.entries() == []
    lookups = [url for url in urls(target) if url.endswith("/api/v1/games")]
    assert len(lookups) == 1 and any(url.endswith("/api/v1/users") for url in urls(target)), "as a fresh user"


def test_game_create_sends_the_catalogue_id_and_moves_go_through_their_verbs(target: Target, styled: ReferenceBackend) -> None:
    a, b = target.create_user("A"), target.create_user("B")
    created = target.act("game.create", a, b)
    assert created.ok, created.body
    assert target.transcript.entries()[-1].data["request_body"]["game_id"] == "101" and created.body["game_id"] == "101"
    assert created.vars["game_id"] == "101" and created.vars["game_level"] == 0
    state = "requested"
    for to_state, actor, other in (("accepted", b, a), ("started", a, b), ("finished", b, a), ("resumed", a, b)):
        assert target.supports_transition(state, to_state)
        moved = target.game_transition(actor, other, from_state=state, to_state=to_state, **created.vars)
        assert moved.ok and moved.body["state"] == to_state, moved.body
        assert moved.vars["state"] == to_state and moved.vars["from_state"] == state
        verb = next(v for v, s in VERBS.items() if s == to_state)
        assert moved.action == f"game.{verb}" and urls(target)[-1].endswith(f"/game_sessions/{created.vars['session_id']}/{verb}")
        state = to_state


def test_a_move_outside_the_graph_is_driven_and_refused(target: Target) -> None:
    a, b = target.create_user("A"), target.create_user("B")
    created = target.act("game.create", a, b)
    assert not target.supports_transition("requested", "finished"), "not an edge of the contract's graph"
    invalid = target.game_transition(a, b, from_state="requested", to_state="finished", **created.vars)
    assert invalid.action == "game.finish" and invalid.refused and invalid.status == 409
    with pytest.raises(Unsupported, match=r"no action for a game transition to requested \(needs actions\.game\.transition\)"):
        target.game_transition(a, b, from_state="accepted", to_state="requested", **created.vars)
    assert target.transition_action("requested") is None and target.transition_action("started") == "game.start"


def test_an_explicit_transition_list_narrows_what_is_supported(styled: ReferenceBackend) -> None:
    narrow = Target(load_profile(profile_text(styled, supports={"game_transitions": ["requested->accepted"]})))
    assert narrow.supports_transition("requested", "accepted") and narrow.supports_transition(None, "requested")
    assert not narrow.supports_transition("accepted", "started")
    document = yaml.safe_load(profile_text(styled))
    del document["actions"]["game.accept"]
    fewer = Target(load_profile(yaml.safe_dump(document) + "\n"))
    assert not fewer.supports_transition("requested", "accepted") and fewer.supports_transition("requested", "rejected")


def test_the_websocket_path_joins_the_origin_not_the_api_path(target: Target, styled: ReferenceBackend) -> None:
    a = target.create_user("A")
    url = target.websocket_url(a)
    assert url == f"{styled.base_url.replace('http://', 'ws://')}/ws?token={a.token}"
    connection = websocket.create_connection(url, timeout=5)
    try:
        assert target.is_online(a) is True
    finally:
        connection.close()
    target.wait_offline(a, timeout=2.0)


def test_a_catalogue_without_games_is_a_clear_error(styled: ReferenceBackend) -> None:
    pointer_to_nothing = {"lookup": [{"method": "GET", "path": "/games", "extract": {"game_id": "/games/9/id"}}]}
    target = Target(load_profile(profile_text(styled, games=pointer_to_nothing)))
    with pytest.raises(TargetError, match=r"^games\.lookup step 1/1: GET .*/api/v1/games: games\.lookup\[0\]\.extract\.game_id: "
                                          r"the answer has nothing at /games/9/id"):
        target.game_id()
    refused = {"lookup": [{"method": "GET", "path": "/no-such-list", "extract": {"game_id": "/0"}}]}
    with pytest.raises(TargetError, match=r"^games\.lookup: the target refused to list games: HTTP 404: "):
        Target(load_profile(profile_text(styled, games=refused))).game_id()
    not_an_id = {"lookup": [{"method": "GET", "path": "/games", "extract": {"game_id": "/games/0"}}]}
    with pytest.raises(TargetError, match=r"^games\.lookup: the extracted game_id is not an id: \{"):
        Target(load_profile(profile_text(styled, games=not_an_id))).game_id()
    document = yaml.safe_load(profile_text(styled))
    del document["games"], document["actions"]["game.create"]
    with pytest.raises(Unsupported, match=r"^the profile has no games section$"):
        Target(load_profile(yaml.safe_dump(document) + "\n")).game_id()
