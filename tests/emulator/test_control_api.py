"""The control API and FcmInbox: listing, cursors, long-poll wait, tokens, faults, reset, bounds."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import requests

from harness.emulator.fcm import FcmEmulator, FcmInbox, FcmInboxError

from .helpers import Sender, error_of, fcm_code, fetch_token


def test_filter_by_token_and_cursor(sender: Sender, inbox: FcmInbox) -> None:
    sender.message({"token": "a", "data": {"n": "1"}})
    cursor = inbox.cursor()
    sender.message({"token": "b", "data": {"n": "2"}})
    sender.message({"token": "a", "data": {"n": "3"}})
    assert [m.message["data"]["n"] for m in inbox.messages()] == ["1", "2", "3"]
    assert [m.message["data"]["n"] for m in inbox.messages(token="a")] == ["1", "3"]
    assert [m.message["data"]["n"] for m in inbox.messages(after=cursor)] == ["2", "3"]
    assert [m.message["data"]["n"] for m in inbox.messages(token="a", after=cursor)] == ["3"]
    assert inbox.cursor() == cursor + 2


def test_wait_wakes_as_soon_as_the_message_arrives(sender: Sender, inbox: FcmInbox) -> None:
    cursor = inbox.cursor()
    timer = threading.Timer(0.3, lambda: sender.message({"token": "late"}))
    started = time.monotonic()
    timer.start()
    found = inbox.wait(count=1, token="late", after=cursor, timeout=10)
    elapsed = time.monotonic() - started
    timer.join()
    assert [m.token for m in found] == ["late"]
    assert 0.25 < elapsed < 1.5, elapsed


def test_wait_for_attempts_wakes_on_refusals_and_dry_runs_too(sender: Sender, inbox: FcmInbox) -> None:
    cursor = inbox.cursor()
    timer = threading.Timer(0.3, lambda: sender.message({"token": "dry"}, validate_only=True))
    started = time.monotonic()
    timer.start()
    found = inbox.wait_attempts(count=1, token="dry", after=cursor, timeout=10)
    elapsed = time.monotonic() - started
    timer.join()
    assert [(a.token, a.validate_only) for a in found] == [("dry", True)]
    assert 0.25 < elapsed < 1.5, elapsed
    sender.message({"token": "dry", "data": {"from": "x"}})  # refused: 400, still an attempt
    assert [a.http_status for a in inbox.wait_attempts(count=2, token="dry", after=cursor, timeout=5)] == [200, 400]
    assert len(inbox.wait_attempts(count=3, token="dry", after=cursor, timeout=0.2)) == 2  # what it has at timeout


def test_wait_returns_what_it_has_at_timeout(sender: Sender, inbox: FcmInbox) -> None:
    sender.message({"token": "only"})
    started = time.monotonic()
    found = inbox.wait(count=2, timeout=0.4)
    assert 0.35 < time.monotonic() - started < 2
    assert [m.token for m in found] == ["only"]


def test_wait_ignores_dry_runs_and_rejections(sender: Sender, inbox: FcmInbox) -> None:
    sender.message({"token": "t"}, validate_only=True)
    sender.message({"token": "t", "data": {"from": "x"}})
    assert inbox.wait(count=1, timeout=0.2) == []
    assert [a.http_status for a in inbox.attempts()] == [200, 400]


def test_clear_and_reset(sender: Sender, inbox: FcmInbox) -> None:
    sender.message({"token": "t"})
    inbox.register_token("kept-until-reset")
    inbox.clear()
    assert inbox.messages() == [] and inbox.attempts() == []
    inbox.revoke_token("r")
    inbox.inject_fault("INTERNAL")
    inbox.reset()
    assert sender.message({"token": "r"}).status_code == 200


def test_revoked_token_is_unregistered(sender: Sender, inbox: FcmInbox) -> None:
    inbox.revoke_token("old-device")
    response = sender.message({"token": "old-device"})
    error = error_of(response)
    assert (response.status_code, error["status"], fcm_code(error)) == (404, "NOT_FOUND", "UNREGISTERED")
    assert inbox.attempts()[0].error_code == "UNREGISTERED"
    assert inbox.messages() == []
    dry = sender.message({"token": "old-device"}, validate_only=True)
    assert dry.status_code == 404  # a dry run checks the target too


def test_sender_id_mismatch_token(sender: Sender, inbox: FcmInbox) -> None:
    inbox.set_token_state("foreign", "sender_id_mismatch")
    response = sender.message({"token": "foreign"})
    assert response.status_code == 403 and fcm_code(error_of(response)) == "SENDER_ID_MISMATCH"


def test_strict_tokens_refuse_unknown_tokens(access_token: str) -> None:
    with FcmEmulator(strict_tokens=True, proxy=False) as strict:
        from .helpers import fetch_token
        sender = Sender(strict, fetch_token(strict.service_account()))
        assert sender.message({"token": "unknown"}).status_code == 404
        strict.inbox().register_token("known")
        assert sender.message({"token": "known"}).status_code == 200
        assert sender.message({"topic": "news"}).status_code == 200


@pytest.mark.parametrize(("code", "status", "canonical"), [
    ("INVALID_ARGUMENT", 400, "INVALID_ARGUMENT"), ("UNREGISTERED", 404, "NOT_FOUND"),
    ("SENDER_ID_MISMATCH", 403, "PERMISSION_DENIED"), ("QUOTA_EXCEEDED", 429, "RESOURCE_EXHAUSTED"),
    ("UNAVAILABLE", 503, "UNAVAILABLE"), ("INTERNAL", 500, "INTERNAL"),
    ("THIRD_PARTY_AUTH_ERROR", 401, "UNAUTHENTICATED"),
])
def test_fault_codes_use_fcms_http_status(sender: Sender, inbox: FcmInbox, code: str, status: int,
                                          canonical: str) -> None:
    inbox.inject_fault(code, count=1, retry_after=3)
    response = sender.message({"token": "t"})
    error = error_of(response)
    assert (response.status_code, error["status"], fcm_code(error)) == (status, canonical, code)
    assert response.headers["retry-after"] == "3"
    assert sender.message({"token": "t"}).status_code == 200  # count=1: only the next send fails


def test_fault_count_token_filter_and_latency(sender: Sender, inbox: FcmInbox) -> None:
    inbox.inject_fault("UNAVAILABLE", count=2, token="flaky")
    assert sender.message({"token": "steady"}).status_code == 200
    assert [sender.message({"token": "flaky"}).status_code for _ in range(3)] == [503, 503, 200]
    inbox.inject_fault(None, count=1, latency_ms=300)
    started = time.monotonic()
    assert sender.message({"token": "t"}).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_fault_probability(sender: Sender, inbox: FcmInbox) -> None:
    inbox.inject_fault("INTERNAL", probability=0.0)
    assert all(sender.message({"token": "t"}).status_code == 200 for _ in range(20))
    inbox.clear_faults()
    inbox.inject_fault("INTERNAL", probability=0.5)
    statuses = [sender.message({"token": "t"}).status_code for _ in range(200)]
    assert 40 < statuses.count(500) < 160  # P(outside) < 1e-15 for a fair coin
    inbox.clear_faults()
    assert sender.message({"token": "t"}).status_code == 200


def test_store_is_bounded(access_token: str) -> None:
    with FcmEmulator(max_messages=5, proxy=False) as small:
        from .helpers import fetch_token
        sender = Sender(small, fetch_token(small.service_account()))
        for n in range(12):
            sender.message({"token": "t", "data": {"n": str(n)}})
        inbox = small.inbox()
        assert [m.message["data"]["n"] for m in inbox.messages()] == ["7", "8", "9", "10", "11"]
        assert len(inbox.attempts()) == 5 and inbox.cursor() == 12


@pytest.mark.parametrize(("method", "path", "body", "status", "text"), [
    ("POST", "/faults", {"code": "NOPE"}, 400, "'code' must be null or one of"),
    ("POST", "/faults", {"code": "INTERNAL", "count": 0}, 400, "'count' must be an integer >= 1"),
    ("POST", "/faults", {"code": "INTERNAL", "probability": 2}, 400, "'probability' must be a number"),
    ("POST", "/faults", {"code": None}, 400, "a fault needs a 'code'"),
    ("POST", "/faults", {"code": "INTERNAL", "colour": 1}, 400, "unknown body field(s): colour"),
    ("POST", "/tokens", {"state": "valid"}, 400, "'token' is required"),
    ("POST", "/tokens", {"token": "t", "state": "gone"}, 400, "'state' must be one of"),
    ("POST", "/messages:wait", {"count": "2"}, 400, "'count' must be an integer"),
    ("POST", "/messages:wait", {"timeout": 1000}, 400, "'timeout' must be a number between 0 and 300"),
    ("POST", "/attempts:wait", {"count": 10**30}, 400, "'count' must be an integer between 1"),
    ("POST", "/attempts:wait", {"after": 2**70}, 400, "'after' must be an integer between 0"),
    ("GET", "/messages?after=x", None, 400, "query parameter 'after' must be an integer between 0"),
    ("GET", "/messages?since=1", None, 400, "unknown query parameter(s): since"),
    ("DELETE", "/tokens/never-registered", None, 404, "is not registered"),
])
def test_bad_control_input_is_a_clear_4xx(emulator: FcmEmulator, inbox: FcmInbox, method: str, path: str,
                                          body: object, status: int, text: str) -> None:
    url = f"{emulator.base_url}/emulator/v1/projects/{emulator.project_id}{path}"
    response = requests.request(method, url, json=body, timeout=10)
    assert response.status_code == status
    assert text in error_of(response)["message"]


def test_malformed_json_and_unknown_project(emulator: FcmEmulator) -> None:
    base = f"{emulator.base_url}/emulator/v1/projects"
    bad = requests.post(f"{base}/{emulator.project_id}/faults", data=b"{", timeout=10)
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["error"]["message"]
    other = requests.get(f"{base}/other-project/messages", timeout=10)
    assert other.status_code == 404 and "'other-project' is not emulated here" in other.json()["error"]["message"]
    nowhere = requests.get(f"{emulator.base_url}/emulator/v1/nothing", timeout=10)
    assert nowhere.status_code == 404 and nowhere.json()["error"]["status"] == "NOT_FOUND"


def test_inbox_raises_a_named_error(emulator: FcmEmulator) -> None:
    with pytest.raises(FcmInboxError, match="'code' must be null or one of"):
        emulator.inbox().inject_fault("BOGUS")
    with pytest.raises(FcmInboxError, match="unreachable"):
        FcmInbox("http://127.0.0.1:9", "p").messages()


def test_config_and_service_account_endpoints(emulator: FcmEmulator) -> None:
    config = requests.get(f"{emulator.base_url}/emulator/v1/config", timeout=10).json()
    assert config["project_id"] == emulator.project_id and config["proxy_url"] == emulator.proxy_url
    assert config["token_uri"] == emulator.base_url + "/token"
    assert config["ca_cert_pem"].startswith("-----BEGIN CERTIFICATE-----")
    created = requests.post(f"{emulator.base_url}/emulator/v1/projects/{emulator.project_id}/serviceAccounts",
                            timeout=10)
    assert created.status_code == 201 and created.json()["type"] == "service_account"


def test_backend_env_block(emulator: FcmEmulator) -> None:
    env = emulator.backend_env("/tmp/sa.json")
    assert env["HTTPS_PROXY"] == env["https_proxy"] == emulator.proxy_url
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"):
        assert env[name] == emulator.ca_cert_path
    assert env["NO_PROXY"] == env["no_proxy"] == "127.0.0.1,localhost,::1"
    assert env["GOOGLE_APPLICATION_CREDENTIALS"] == "/tmp/sa.json"
    assert env["GOOGLE_CLOUD_PROJECT"] == emulator.project_id
    send_url = f"{emulator.base_url}/v1/projects/{emulator.project_id}/messages:send"
    assert (env["FCM_BASE_URL"], env["FCM_SEND_URL"], env["FCM_PROJECT_ID"]) == \
        (emulator.base_url, send_url, emulator.project_id)


def test_backend_env_groups_are_each_complete_and_agree_on_shared_keys(emulator: FcmEmulator) -> None:
    groups = emulator.backend_env_groups("/tmp/sa.json")
    assert list(groups) == ["base_url", "proxy"]
    assert groups["base_url"] == {
        "FCM_BASE_URL": emulator.base_url, "FCM_SEND_URL": emulator.send_url,
        "FCM_PROJECT_ID": emulator.project_id, "GOOGLE_APPLICATION_CREDENTIALS": "/tmp/sa.json",
        "GOOGLE_CLOUD_PROJECT": emulator.project_id,
        "NO_PROXY": "127.0.0.1,localhost,::1", "no_proxy": "127.0.0.1,localhost,::1",
    }
    assert groups["proxy"]["HTTPS_PROXY"] == emulator.proxy_url and "FCM_BASE_URL" not in groups["proxy"]
    merged = emulator.backend_env("/tmp/sa.json")
    for group in groups.values():
        assert group.items() <= merged.items()
    without_proxy = FcmEmulator(proxy=False).start()
    try:
        assert list(without_proxy.backend_env_groups(None)) == ["base_url"]
        assert "GOOGLE_APPLICATION_CREDENTIALS" not in without_proxy.backend_env_groups(None)["base_url"]
    finally:
        without_proxy.stop()


def test_a_base_url_backend_sends_with_nothing_but_its_env_block(
        emulator: FcmEmulator, inbox: FcmInbox, credentials_file: Path) -> None:
    """What a hand-written backend does in base-URL mode: token from the file's token_uri, then
    POST FCM_SEND_URL (= FCM_BASE_URL/v1/projects/FCM_PROJECT_ID/messages:send)."""
    env = emulator.backend_env_groups(credentials_file)["base_url"]
    token = fetch_token(json.loads(Path(env["GOOGLE_APPLICATION_CREDENTIALS"]).read_text()))
    assert env["FCM_SEND_URL"] == f"{env['FCM_BASE_URL']}/v1/projects/{env['FCM_PROJECT_ID']}/messages:send"
    response = requests.post(env["FCM_SEND_URL"], json={"message": {"token": "env-device", "data": {"k": "v"}}},
                             headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text
    assert [m.token for m in inbox.messages()] == ["env-device"]


def test_attempts_name_each_kind_of_refusal_and_dry_runs(sender: Sender, inbox: FcmInbox) -> None:
    """The fields a checker reads to tell a delivery from a backend's mistake, over the wire."""
    message = {"token": "t", "data": {"k": "v"}}
    sender.message(message)
    sender.message(message, validate_only=True)
    sender.post({"message": message}, token="ya29.never-issued")
    sender.post({"message": message}, token="")
    sender.post({"message": message}, url=sender.url.replace("/projects/", "/projects/other-"))
    sender.message({"token": "t", "data": {"from": "x"}})
    raw = requests.get(f"{inbox.base_url}/emulator/v1/projects/{inbox.project_id}/attempts", timeout=10).json()
    assert [(a["http_status"], a["error_code"], a["validate_only"]) for a in raw["attempts"]] == [
        (200, None, False), (200, None, True), (401, "UNAUTHENTICATED", False), (401, "UNAUTHENTICATED", False),
        (403, "PERMISSION_DENIED", False), (400, "INVALID_ARGUMENT", False)]
    assert [m.validate_only for m in inbox.attempts()] == [False, True, False, False, False, False]
    assert len(inbox.messages()) == 1  # only the first was a delivery


def test_stop_releases_a_pending_wait() -> None:
    running = FcmEmulator(proxy=False).start()
    inbox = running.inbox()
    result: list[object] = []
    waiter = threading.Thread(target=lambda: result.append(inbox.wait(count=1, timeout=30)))
    waiter.start()
    time.sleep(0.2)
    started = time.monotonic()
    running.stop()
    waiter.join(10)
    assert result == [[]] and time.monotonic() - started < 5
