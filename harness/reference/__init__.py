"""The reference Buddy4all backend (`b4a serve`), and `ReferenceBackend` to run it as a subprocess."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from types import TracebackType

__all__ = ["ReferenceBackend", "ReferenceBackendError"]

_LISTENING = re.compile(r"b4a serve: listening on (http://\S+)")


class ReferenceBackendError(RuntimeError):
    """The backend process did not come up; the message carries its output."""


class ReferenceBackend:
    """`python -m harness serve` in a subprocess (it sets its own process env for FCM).

    Use as a context manager; `base_url` is set once /health answers.
    """

    def __init__(self, port: int = 0, fcm_emulator_url: str | None = None,
                 faults: Iterable[str] = (), ring_timeout: float = 0.5, db: str = ":memory:",
                 host: str = "127.0.0.1", boot_timeout: float = 10.0,
                 styles: Iterable[str] = (), fcm_mode: str = "proxy") -> None:
        self.command = [sys.executable, "-m", "harness", "serve", "--host", host,
                        "--port", str(port), "--db", db, "--ring-timeout", str(ring_timeout)]
        if fcm_mode not in ("proxy", "base_url"):
            raise ValueError(f"fcm_mode must be 'proxy' or 'base_url', got {fcm_mode!r}")
        if fcm_emulator_url and fcm_mode == "proxy":
            self.command += ["--fcm-emulator", fcm_emulator_url]
        # base-URL mode: start() fetches a service account and passes only what a third-party
        # backend would get (--fcm-base-url, --fcm-credentials)
        self._fcm_base_url = fcm_emulator_url if fcm_mode == "base_url" else None
        self._fcm_files: str | None = None
        for fault in faults:
            self.command += ["--fault", fault]
        self.styles = tuple(styles)  # convention styles (harness.reference.styles.STYLES)
        for style in self.styles:
            self.command += ["--style", style]
        self.ring_timeout = ring_timeout
        self.boot_timeout = boot_timeout
        self.base_url = ""
        self.output: list[str] = []  # everything the process printed, for failure messages
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> ReferenceBackend:
        fcm_arguments = self._base_url_arguments(self._fcm_base_url) if self._fcm_base_url else []
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        # a GOOGLE_APPLICATION_CREDENTIALS of the caller must not switch pushes on by surprise
        if "--fcm-emulator" in self.command:
            env.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
        self._process = subprocess.Popen(
            self.command + fcm_arguments, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        found = threading.Event()
        threading.Thread(target=self._read, args=(found,), daemon=True).start()
        deadline = time.monotonic() + self.boot_timeout
        while not found.wait(0.02):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ReferenceBackendError(
                    "the reference backend did not start: " + "".join(self.output)[-2000:])
        self._await_health(deadline)
        return self

    def _read(self, found: threading.Event) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            self.output.append(line)
            match = _LISTENING.search(line)
            if match and not self.base_url:
                self.base_url = match.group(1)
                found.set()

    def _await_health(self, deadline: float) -> None:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback
        while True:
            try:
                with opener.open(f"{self.base_url}/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise ReferenceBackendError(f"{self.base_url}/health did not answer in time")
            time.sleep(0.02)

    @property
    def api_url(self) -> str:
        """The REST base URL: `base_url` plus the styles' path prefix (e.g. /api/v1), what a
        style profile's base_url is. `base_url` (host root) serves /health, /ws and /cable."""
        from harness.reference.styles import parse_styles

        return self.base_url + parse_styles(self.styles).prefix

    def _base_url_arguments(self, emulator_url: str) -> list[str]:
        from harness.reference.fcm_setup import FcmSetupError, emulator_service_account

        try:
            _, account = emulator_service_account(emulator_url)
        except FcmSetupError as exc:
            raise ReferenceBackendError(f"the reference backend cannot use the FCM emulator: {exc}") from None
        self._fcm_files = tempfile.mkdtemp(prefix="b4a-reference-fcm-")
        credentials = os.path.join(self._fcm_files, "service-account.json")
        with open(os.open(credentials, os.O_WRONLY | os.O_CREAT, 0o600), "w", encoding="utf-8") as file:
            json.dump(account, file)
        return ["--fcm-base-url", emulator_url, "--fcm-credentials", credentials]

    @property
    def ws_url(self) -> str:
        return "ws" + self.base_url.removeprefix("http")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if self._fcm_files is not None:  # the service account's private key
            shutil.rmtree(self._fcm_files, ignore_errors=True)
            self._fcm_files = None

    def __enter__(self) -> ReferenceBackend:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
