"""The CONNECT proxy's refusals and TLS, and host mode (TLS + HTTP/2 as Google's host names)."""
from __future__ import annotations

import socket
import ssl

import httpx
import pytest
import requests

from harness.emulator.fcm import FcmEmulator, FcmInbox

from .helpers import error_of


def _raw_proxy_request(emulator: FcmEmulator, request: bytes) -> bytes:
    assert emulator.proxy_url is not None
    host, port = emulator.proxy_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("request_bytes", [
    b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    b"CONNECT fcm.googleapis.com:80 HTTP/1.1\r\nHost: fcm.googleapis.com:80\r\n\r\n",
    b"CONNECT www.googleapis.com:443 HTTP/1.1\r\n\r\n",
])
def test_proxy_refuses_other_hosts_with_403(emulator: FcmEmulator, request_bytes: bytes) -> None:
    answer = _raw_proxy_request(emulator, request_bytes).decode()
    assert answer.startswith("HTTP/1.1 403 Forbidden\r\n")
    assert "nothing leaves this machine" in answer and "fcm.googleapis.com:443" in answer


def test_proxy_refuses_plain_http_proxying(emulator: FcmEmulator) -> None:
    answer = _raw_proxy_request(emulator, b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 403 Forbidden\r\n") and b"only tunnels HTTPS (CONNECT)" in answer


def test_proxy_refusal_reaches_requests_as_a_clear_error(emulator: FcmEmulator) -> None:
    with pytest.raises(requests.exceptions.ProxyError, match="403"):
        requests.get("https://example.com/", proxies={"https": emulator.proxy_url}, timeout=10)


def test_proxy_presents_a_certificate_trusted_via_the_ca_file(emulator: FcmEmulator) -> None:
    session = requests.Session()
    session.trust_env = False
    session.proxies = {"https": emulator.proxy_url}
    config = session.get("https://fcm.googleapis.com/emulator/v1/config", verify=emulator.ca_cert_path, timeout=10)
    assert config.json()["project_id"] == emulator.project_id
    with pytest.raises(requests.exceptions.SSLError):
        session.get("https://fcm.googleapis.com/emulator/v1/config", verify=True, timeout=10)


def _host_mode_client(emulator: FcmEmulator) -> httpx.Client:
    return httpx.Client(http2=True, verify=ssl.create_default_context(cafile=emulator.ca_cert_path), timeout=10,
                        trust_env=False)


def test_host_mode_speaks_http2_as_the_google_hosts(emulator: FcmEmulator, inbox: FcmInbox,
                                                    service_account_info: dict) -> None:
    from .test_oauth import _assertion

    url = emulator.host_mode_url
    assert url is not None
    with _host_mode_client(emulator) as client:
        token = client.post(f"{url}/token", headers={"Host": "oauth2.googleapis.com"},
                            data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                  "assertion": _assertion(service_account_info)},
                            extensions={"sni_hostname": "oauth2.googleapis.com"})
        assert token.status_code == 200 and token.http_version == "HTTP/2"
        sent = client.post(f"{url}/v1/projects/{emulator.project_id}/messages:send",
                           headers={"Host": "fcm.googleapis.com",
                                    "Authorization": f"Bearer {token.json()['access_token']}"},
                           json={"message": {"token": "h2-device"}},
                           extensions={"sni_hostname": "fcm.googleapis.com"})
        assert sent.status_code == 200 and sent.http_version == "HTTP/2"
        refused = client.post(f"{url}/v1/projects/{emulator.project_id}/messages:send",
                              headers={"Host": "fcm.googleapis.com"}, json={"message": {"token": "x"}},
                              extensions={"sni_hostname": "fcm.googleapis.com"})
        assert refused.status_code == 401 and error_of(refused)["status"] == "UNAUTHENTICATED"
    assert inbox.messages()[0].token == "h2-device"


def test_host_mode_certificate_covers_only_google_hosts(emulator: FcmEmulator) -> None:
    with _host_mode_client(emulator) as client, pytest.raises(httpx.ConnectError, match="match|mismatch"):
        client.get(f"{emulator.host_mode_url}/emulator/v1/config", extensions={"sni_hostname": "example.com"})
