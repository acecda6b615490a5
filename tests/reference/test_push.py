"""Pushes captured at the FCM emulator: sent by the backend through unmodified firebase-admin
(proxy mode), or as raw HTTP v1 requests to the emulator's base URL (base-URL mode)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import harness
from harness.emulator.fcm import FcmEmulator, FcmInbox
from harness.reference import ReferenceBackend
from harness.reference.push import ServiceAccountTokens

from .fault_scenarios import Observation, Scenario, World
from .push_fault_scenarios import PUSH_FAULT_CASES
from .support import Api, Listeners
from .test_faults import CASES as FAULT_CASES


def test_new_request_is_pushed_once_to_every_device_of_the_invitee(
        api: Api, listen: Listeners, inbox: FcmInbox) -> None:
    a, b = api.user("a"), api.user("b")
    a_device, b_one, b_two = api.device(a), api.device(b), api.device(b)
    assert api.post(b, "/devices", {"token": b_one}).status_code == 201  # idempotent
    b_ws = listen(b)
    api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    ws_payload = b_ws.next()
    for token in (b_one, b_two):
        [push] = inbox.wait(1, token=token, timeout=5)
        assert push.message["token"] == token
        assert push.message["data"] == {
            "message": "friendship status changed", "type": "api_friendship_status",
            "status": "new_request", "friend_id": str(a.id), "open_requests": "1"}
        decoded = dict(push.message["data"], message_type=push.message["data"]["type"],
                       friend_id=a.id, open_requests=1)
        del decoded["type"]
        assert decoded == ws_payload
    time.sleep(0.3)
    for token in (b_one, b_two):
        assert len(inbox.attempts(token=token)) == 1
    assert inbox.attempts(token=a_device) == []


def test_websocket_only_events_cause_no_fcm_request(
        api: Api, listen: Listeners, inbox: FcmInbox) -> None:
    a, b = api.user("a"), api.user("b")
    a_device, b_device = api.device(a), api.device(b)
    a_ws, b_ws = listen(a), listen(b)
    first = api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    assert len(inbox.wait(1, token=b_device)) == 1
    after = inbox.cursor()
    api.ok(a, f"/friendships/{first['id']}/cancel")
    second = api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    api.ok(b, f"/friendships/{second['id']}/accept")
    api.ok(a, f"/friendships/{second['id']}/terminate")
    session = api.ok(a, "/games/sessions", {"game_id": 3, "partner_id": b.id}, 201)
    api.ok(b, f"/games/sessions/{session['id']}/state", {"state": "accepted"})
    call = api.ok(a, "/calls", {"callee_id": b.id}, 201)
    api.ok(b, f"/calls/{call['id']}/reject")
    api.ok(a, "/calls/schedule", {"callee_id": b.id, "scheduled_at": "2027-01-01T10:00:00Z"}, 201)
    # marker: a push-carrying event to the same devices; once it is in, the rest would be too
    thread = api.ok(a, "/chat/threads", {"participant_id": b.id}, 201)
    api.ok(a, f"/chat/threads/{thread['id']}/messages", {"text": "marker"}, 201)
    api.ok(b, f"/chat/threads/{thread['id']}/messages", {"text": "marker"}, 201)
    # pushes leave from a pool of workers: their order at FCM is not promised
    pushed = inbox.wait(2, token=b_device, after=after)
    assert sorted(m.message["data"].get("status", m.message["data"]["message"]) for m in pushed) \
        == ["marker", "new_request"]
    assert [m.message["data"]["message"] for m in inbox.wait(1, token=a_device, after=after)] \
        == ["marker"]
    assert len(inbox.attempts(after=after, token=b_device)) == 2
    assert len(inbox.attempts(after=after, token=a_device)) == 1
    assert b_ws.quiet(0) and a_ws.quiet(0)  # the WebSocket side did get those events


def test_chat_push_data_is_flat_strings_and_decodes_to_the_websocket_payload(
        api: Api, listen: Listeners, inbox: FcmInbox) -> None:
    a, b = api.user("a"), api.user("b")
    b_device = api.device(b)
    b_ws = listen(b)
    thread = api.ok(a, "/chat/threads", {"participant_id": b.id}, 201)
    api.ok(a, f"/chat/threads/{thread['id']}/messages", {"text": "see you at 5"}, 201)
    ws_payload = b_ws.next()
    [push] = inbox.wait(1, token=b_device)
    data = push.message["data"]
    assert data == {"message": "see you at 5", "type": "api_chat_message",
                    "thread": json.dumps(thread, separators=(",", ":"))}
    assert {"message": data["message"], "message_type": data["type"],
            "thread": json.loads(data["thread"])} == ws_payload
    assert push.message["notification"]["title"]


def test_unregistered_token_is_dropped_and_never_used_again(
        api: Api, listen: Listeners, inbox: FcmInbox) -> None:
    a, b = api.user("a"), api.user("b")
    dead, alive = api.device(b), api.device(b)
    inbox.revoke_token(dead)
    b_ws = listen(b)
    api.ok(a, "/friendships", {"friend_id": b.id}, 201)  # the failed push does not fail this
    assert b_ws.next()["status"] == "new_request"
    assert len(inbox.wait(1, token=alive)) == 1
    deadline = time.monotonic() + 5  # the two devices' pushes leave from different workers
    while not inbox.attempts(token=dead) and time.monotonic() < deadline:
        time.sleep(0.02)
    [attempt] = inbox.attempts(token=dead)
    assert (attempt.http_status, attempt.error_code) == (404, "UNREGISTERED")
    # The backend drops the token on its push worker once FCM's answer is in; no endpoint shows
    # that moment, so give the worker a beat before the next push.
    time.sleep(0.5)
    thread = api.ok(a, "/chat/threads", {"participant_id": b.id}, 201)
    api.ok(a, f"/chat/threads/{thread['id']}/messages", {"text": "again"}, 201)
    assert len(inbox.wait(2, token=alive)) == 2
    assert len(inbox.attempts(token=dead)) == 1
    # the token was deleted from the user's devices
    response = api.session.delete(f"{api.base_url}/devices/{dead}", headers=b.headers)
    assert response.status_code == 404


def test_failing_fcm_neither_fails_the_action_nor_delays_websocket_delivery(
        api: Api, listen: Listeners, inbox: FcmInbox) -> None:
    a, b = api.user("a"), api.user("b")
    b_device = api.device(b)
    # 503 with Retry-After 1: firebase-admin retries for seconds before giving up
    inbox.inject_fault("UNAVAILABLE", count=5, retry_after=1, token=b_device)
    b_ws = listen(b)
    started = time.monotonic()
    response = api.post(a, "/friendships", {"friend_id": b.id})
    assert response.status_code == 201
    assert b_ws.next(timeout=1.0)["status"] == "new_request"
    assert time.monotonic() - started < 1.0
    time.sleep(0.5)
    assert inbox.attempts(token=b_device)[0].http_status == 503


def test_removed_device_gets_no_push(api: Api, inbox: FcmInbox) -> None:
    a, b = api.user("a"), api.user("b")
    kept, removed = api.device(b), api.device(b)
    response = api.session.delete(f"{api.base_url}/devices/{removed}", headers=b.headers)
    assert response.status_code == 204
    api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    assert len(inbox.wait(1, token=kept)) == 1
    time.sleep(0.2)
    assert inbox.attempts(token=removed) == []


# -- base-URL mode: raw FCM v1 requests straight to the emulator's plain listener ---------------
# Its own emulator without the CONNECT proxy: a push that arrives can only have come the direct way.

#: faults whose pushes are built or sent differently per mode (the rest are decided before the
#: push code, identically in both)
BASE_URL_PUSH_FAULTS = ("push-data-not-strings", "push-message-type-key", "push-to-unregistered",
                        "push-failure-fails-action", *PUSH_FAULT_CASES)


@pytest.fixture(scope="module")
def direct_fcm() -> Iterator[FcmEmulator]:
    with FcmEmulator(proxy=False) as emulator:
        yield emulator


@pytest.fixture
def direct_inbox(direct_fcm: FcmEmulator) -> Iterator[FcmInbox]:
    client = direct_fcm.inbox()
    yield client
    client.clear_faults()
    client.close()


@pytest.fixture(scope="module")
def base_url_backends(direct_fcm: FcmEmulator) -> Iterator[dict[str, ReferenceBackend]]:
    """A clean base-URL backend ("") and one per push fault, booted in parallel."""
    backends = {name: ReferenceBackend(faults=[name] if name else [], fcm_emulator_url=direct_fcm.base_url,
                                       fcm_mode="base_url", boot_timeout=60)
                for name in ("", *BASE_URL_PUSH_FAULTS)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        errors = [error for error in pool.map(_start, backends.values()) if error]
    try:
        assert not errors, errors[0]
        yield backends
    finally:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(ReferenceBackend.stop, backends.values()))


def _start(backend: ReferenceBackend) -> str | None:
    try:
        backend.start()
    except Exception as exc:
        return str(exc)
    return None


def test_base_url_mode_friendship_request_reaches_the_emulator_as_a_valid_push(
        base_url_backends: dict[str, ReferenceBackend], direct_inbox: FcmInbox) -> None:
    backend = base_url_backends[""]
    assert "--fcm-emulator" not in backend.command  # configured as a third-party backend would be
    api, listen = Api(backend.base_url), Listeners(backend.ws_url)
    try:
        a, b = api.user("a"), api.user("b")
        b_device = api.device(b)
        b_ws = listen(b)
        api.ok(a, "/friendships", {"friend_id": b.id}, 201)
        ws_payload = b_ws.next()
        [push] = direct_inbox.wait(1, token=b_device, timeout=5)
    finally:
        listen.close()
    assert harness.validate_push(push.message) == []
    assert push.message["data"] == {
        "message": "friendship status changed", "type": "api_friendship_status",
        "status": "new_request", "friend_id": str(a.id), "open_requests": "1"}
    assert push.message["notification"]["title"]
    assert push.name.startswith(f"projects/{direct_inbox.project_id}/messages/0:")
    decoded = dict(push.message["data"], message_type="api_friendship_status",
                   friend_id=a.id, open_requests=1)
    del decoded["type"]
    assert decoded == ws_payload
    [attempt] = direct_inbox.attempts(token=b_device)
    assert (attempt.http_status, attempt.error_code, attempt.validate_only) == (200, None, False)


def test_base_url_mode_drops_an_unregistered_token(
        base_url_backends: dict[str, ReferenceBackend], direct_inbox: FcmInbox) -> None:
    backend = base_url_backends[""]
    api = Api(backend.base_url)
    a, b = api.user("a"), api.user("b")
    dead = api.device(b)
    direct_inbox.revoke_token(dead)
    api.ok(a, "/friendships", {"friend_id": b.id}, 201)
    deadline = time.monotonic() + 5
    while not direct_inbox.attempts(token=dead) and time.monotonic() < deadline:
        time.sleep(0.02)
    [attempt] = direct_inbox.attempts(token=dead)
    assert (attempt.http_status, attempt.error_code) == (404, "UNREGISTERED")
    # the worker deletes the token once FCM's answer is in; no endpoint shows that moment
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        response = api.session.delete(f"{api.base_url}/devices/{dead}", headers=b.headers)
        if response.status_code == 404:
            break
        assert response.status_code == 204  # still there: put it back, look again
        assert api.post(b, "/devices", {"token": dead}).status_code == 201
        time.sleep(0.05)
    assert response.status_code == 404


@pytest.mark.parametrize("name", BASE_URL_PUSH_FAULTS)
def test_push_fault_works_in_base_url_mode(
        name: str, base_url_backends: dict[str, ReferenceBackend], direct_inbox: FcmInbox) -> None:
    scenario, key, clean, faulty = FAULT_CASES[name]
    pick = (lambda o: o) if key == "*" else (lambda o: o[key])
    observed = {label: _observe(base_url_backends[label], direct_inbox, scenario) for label in ("", name)}
    assert pick(observed[""]) == clean, observed[""]
    assert pick(observed[name]) == faulty, observed[name]


def _observe(backend: ReferenceBackend, inbox: FcmInbox, scenario: Scenario) -> Observation:
    listeners = Listeners(backend.ws_url)
    try:
        return scenario(World(Api(backend.base_url), listeners, inbox))
    finally:
        listeners.close()


def test_service_account_tokens_are_granted_by_the_token_uri_and_cached(
        direct_fcm: FcmEmulator, tmp_path: Path) -> None:
    credentials = tmp_path / "sa.json"
    direct_fcm.write_credentials(credentials)
    tokens = ServiceAccountTokens(str(credentials))
    first = tokens()
    assert first.startswith("ya29.b4a-emulator.")  # granted by the emulator's /token
    assert tokens() == first  # cached, not a second grant
    assert tokens.project_id == direct_fcm.project_id


@pytest.mark.parametrize(("args", "error"), [
    (["--fcm-base-url", "http://127.0.0.1:9", "--fcm-emulator", "http://127.0.0.1:9"],
     "--fcm-emulator and --fcm-base-url are two ways to the same place; give one"),
    (["--fcm-base-url", "http://127.0.0.1:9"],
     "--fcm-base-url needs a service account: --fcm-credentials PATH or GOOGLE_APPLICATION_CREDENTIALS"),
    (["--fcm-base-url", "ftp://x", "--fcm-credentials", "sa.json"], "is not an http(s)://host:port URL"),
    (["--fcm-base-url", "http://127.0.0.1:9/v1/projects/p/messages:send", "--fcm-credentials", "sa.json"],
     "give the root (e.g. http://127.0.0.1:9099)"),
    (["--fcm-base-url", "http://127.0.0.1:9", "--fcm-credentials", "missing.json"],
     "unreadable service account missing.json"),
])
def test_serve_refuses_unusable_base_url_options_in_one_line(
        args: list[str], error: str, tmp_path: Path) -> None:
    (tmp_path / "sa.json").write_text(json.dumps({"type": "service_account", "project_id": "p",
                                                  "private_key": "k", "client_email": "e"}))
    env = {key: value for key, value in os.environ.items() if key != "GOOGLE_APPLICATION_CREDENTIALS"}
    done = subprocess.run([sys.executable, "-m", "harness", "serve", "--port", "0", "--db", ":memory:", *args],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("b4a serve: ") and error in line, line
