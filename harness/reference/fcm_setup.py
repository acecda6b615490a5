"""Connects firebase-admin to FCM: through the conformance kit's emulator, or from the env."""
from __future__ import annotations

import json
import logging
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import firebase_admin

log = logging.getLogger("b4a.reference.fcm")


class FcmSetupError(Exception):
    """The emulator could not be reached or answered something unusable."""


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


def from_emulator(url: str) -> str:
    """Fetch the emulator's CA and a fresh service account, route HTTPS through its proxy.

    firebase-admin hard-codes fcm.googleapis.com, so this sets the process env the way an
    unmodified backend would be configured: HTTPS_PROXY plus a CA bundle for requests.
    """
    base = url.rstrip("/")
    config = _emulator_json("GET", f"{base}/emulator/v1/config")
    try:
        project, proxy, ca_pem = config["project_id"], config["proxy_url"], config["ca_cert_pem"]
    except KeyError as exc:
        raise FcmSetupError(f"the emulator config lacks {exc}") from None
    account = _emulator_json("POST", f"{base}/emulator/v1/projects/{project}/serviceAccounts")
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


def from_environment() -> str | None:
    """Use GOOGLE_APPLICATION_CREDENTIALS if set (proxy and CA already in the env)."""
    path = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    return check_credentials(path) if path else None


def check_credentials(path: str) -> str:
    """A cheap look at the service-account file at start; firebase-admin loads it later."""
    try:
        account = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FcmSetupError(f"unreadable service account {path}: {exc}") from None
    missing = [key for key in ("type", "project_id", "private_key", "client_email")
               if not isinstance(account, dict) or key not in account]
    if missing:
        raise FcmSetupError(f"service account {path} lacks {', '.join(missing)}")
    return path


def initialise(credentials_path: str) -> firebase_admin.App:
    """The firebase-admin app; imported on first use, since the import alone takes ~0.5 s."""
    import firebase_admin
    from firebase_admin import credentials

    try:
        certificate = credentials.Certificate(credentials_path)
    except (ValueError, OSError) as exc:
        raise FcmSetupError(f"unusable service account {credentials_path}: {exc}") from None
    return firebase_admin.initialize_app(certificate, name="b4a-reference")
