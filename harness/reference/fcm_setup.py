"""Where the backend's pushes go (`FcmRoute`): firebase-admin through the emulator's proxy, the
SDK as the env configures it, or raw HTTP v1 requests to a base URL."""
from __future__ import annotations

import json
import logging
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import firebase_admin

log = logging.getLogger("b4a.reference.fcm")


class FcmSetupError(Exception):
    """The emulator could not be reached or answered something unusable, or the FCM options
    do not fit together; the message says which (one line)."""


@dataclass(frozen=True)
class FcmRoute:
    """How pushes leave: `base_url` None means firebase-admin's own endpoint (fcm.googleapis.com,
    which the process env may route through the emulator's proxy); else raw HTTP v1 requests to
    `{base_url}/v1/projects/{project}/messages:send`, project from the service account."""

    credentials_path: str
    base_url: str | None = None


def choose_route(emulator_url: str | None, base_url: str | None,
                 credentials_path: str | None) -> FcmRoute | None:
    """The route `b4a serve`'s FCM options ask for; None when pushes are off."""
    if emulator_url and base_url:
        raise FcmSetupError("--fcm-emulator and --fcm-base-url are two ways to the same place; give one")
    if emulator_url and credentials_path:
        raise FcmSetupError("--fcm-credentials does not go with --fcm-emulator (the emulator issues its own)")
    if emulator_url:
        return FcmRoute(from_emulator(emulator_url))
    path = credentials_path or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if base_url:
        if not path:
            raise FcmSetupError("--fcm-base-url needs a service account: --fcm-credentials PATH "
                                "or GOOGLE_APPLICATION_CREDENTIALS")
        return for_base_url(base_url, path)
    return FcmRoute(check_credentials(path)) if path else None


def for_base_url(base_url: str, credentials_path: str) -> FcmRoute:
    """Base-URL mode: the FCM root (scheme://host:port, no path) and a service account whose
    token_uri grants the tokens that root accepts."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise FcmSetupError(f"--fcm-base-url {base_url!r} is not an http(s)://host:port URL")
    if "/v1/" in parts.path + "/":
        raise FcmSetupError(f"--fcm-base-url {base_url!r}: give the root (e.g. http://127.0.0.1:9099); "
                            "the backend appends /v1/projects/{project}/messages:send")
    account = _read_account(check_credentials(credentials_path))
    if not isinstance(account.get("token_uri"), str) or not account["token_uri"].startswith(("http://", "https://")):
        raise FcmSetupError(f"service account {credentials_path} has no http(s) token_uri")
    return FcmRoute(credentials_path, base_url.rstrip("/"))


def _emulator_json(method: str, url: str) -> dict:
    # urllib, not requests: this runs at every start, and requests costs ~0.3 s to import.
    # No proxy handler: the emulator is on loopback, whatever proxy the outer env sets.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with opener.open(request, timeout=5) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:200].decode("utf-8", "replace")
        raise FcmSetupError(f"{method} {url} answered {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise FcmSetupError(f"cannot reach the FCM emulator at {url}: {exc}") from None
    try:
        data = json.loads(body)
    except ValueError:
        raise FcmSetupError(f"{method} {url} did not answer JSON") from None
    if not isinstance(data, dict):
        raise FcmSetupError(f"{method} {url} did not answer a JSON object")
    return data


def emulator_service_account(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the emulator's config, a fresh service account it issued) from its control API."""
    base = url.rstrip("/")
    config = _emulator_json("GET", f"{base}/emulator/v1/config")
    if not isinstance(config.get("project_id"), str):
        raise FcmSetupError(f"the emulator config at {base} lacks project_id")
    account = _emulator_json("POST", f"{base}/emulator/v1/projects/{config['project_id']}/serviceAccounts")
    return config, account


def from_emulator(url: str) -> str:
    """Fetch the emulator's CA and a fresh service account, route HTTPS through its proxy.

    firebase-admin hard-codes fcm.googleapis.com, so this sets the process env the way an
    unmodified backend would be configured: HTTPS_PROXY plus a CA bundle for requests.
    """
    config, account = emulator_service_account(url)
    try:
        proxy, ca_pem = config["proxy_url"], config["ca_cert_pem"]
    except KeyError as exc:
        raise FcmSetupError(f"the emulator config lacks {exc}") from None
    if not proxy:
        raise FcmSetupError(f"the emulator at {url} runs without its CONNECT proxy; use --fcm-base-url")
    folder = Path(tempfile.mkdtemp(prefix="b4a-reference-fcm-"))
    (folder / "ca.pem").write_text(ca_pem, encoding="utf-8")
    credentials_path = folder / "service-account.json"
    credentials_path.write_text(json.dumps(account), encoding="utf-8")
    os.environ.update({
        "HTTPS_PROXY": proxy, "https_proxy": proxy,
        "REQUESTS_CA_BUNDLE": str(folder / "ca.pem"),
        "NO_PROXY": "127.0.0.1,localhost,::1", "no_proxy": "127.0.0.1,localhost,::1",
    })
    return check_credentials(str(credentials_path))


def check_credentials(path: str) -> str:
    """A cheap look at the service-account file at start; firebase-admin loads it later."""
    account = _read_account(path)
    missing = [key for key in ("type", "project_id", "private_key", "client_email")
               if not isinstance(account, dict) or key not in account]
    if missing:
        raise FcmSetupError(f"service account {path} lacks {', '.join(missing)}")
    return path


def _read_account(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FcmSetupError(f"unreadable service account {path}: {exc}") from None


def initialise(credentials_path: str) -> firebase_admin.App:
    """The firebase-admin app; imported on first use, since the import alone takes ~0.5 s."""
    import firebase_admin
    from firebase_admin import credentials

    try:
        certificate = credentials.Certificate(credentials_path)
    except (ValueError, OSError) as exc:
        raise FcmSetupError(f"unusable service account {credentials_path}: {exc}") from None
    return firebase_admin.initialize_app(certificate, name="b4a-reference")
