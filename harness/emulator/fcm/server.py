"""`FcmEmulator`: starts the emulator's listeners (plain, CONNECT proxy, host-mode TLS) in a thread."""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from harness.emulator.fcm.app import build_app
from harness.emulator.fcm.control import ControlApi
from harness.emulator.fcm.fcm_api import Endpoints, FcmApi
from harness.emulator.fcm.inbox import FcmInbox
from harness.emulator.fcm.oauth import OAuthAuthority
from harness.emulator.fcm.proxy import ConnectProxy
from harness.emulator.fcm.relay import HostModeTls, Relays
from harness.emulator.fcm.state import EmulatorState
from harness.emulator.fcm.state_dir import (
    EmulatorSetupError,
    open_state_dir,
    remember_ports,
    remembered_ports,
    write_private_json,
)
from harness.emulator.fcm.tls import TlsFiles, prepare_tls

log = logging.getLogger(__name__)
START_TIMEOUT = 15.0
SHUTDOWN_GRACE = 1  # seconds (uvicorn takes whole seconds)
LOOPBACK_NO_PROXY = "127.0.0.1,localhost,::1"


class FcmEmulator:
    """The FCM HTTP v1 emulator, in-process. Use as a context manager, or `start()`/`stop()`.

    Listeners, all on free ports by default:
    - `base_url` (plain HTTP): FCM v1 send, `/token`, the control API under `/emulator/v1`;
    - `proxy_url`: an HTTPS CONNECT proxy that impersonates Google's FCM and OAuth hosts;
    - `host_mode_url` (when `host_mode_port` is not None): TLS with HTTP/2 for those host names.

    With a `state_dir`, fixed ports given once are remembered there and used when later runs give
    none (port 0). With a `credentials_path`, that file holds a working service account before any
    port accepts a connection (kept if it already does, else written fresh).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        project_id: str = "buddy4all-test",
        strict_tokens: bool = False,
        max_messages: int = 10_000,
        proxy: bool = True,
        host_mode_port: int | None = None,
        state_dir: str | os.PathLike[str] | None = None,
        proxy_port: int = 0,
        credentials_path: str | os.PathLike[str] | None = None,
    ) -> None:
        if max_messages < 1:
            raise ValueError(f"max_messages must be at least 1, got {max_messages}")
        self.host = host
        self.port = port
        self.project_id = project_id
        self.project_number = str(int(hashlib.sha256(project_id.encode()).hexdigest()[:12], 16) % 10**12).zfill(12)
        self.strict_tokens = strict_tokens
        self.max_messages = max_messages
        self.proxy = proxy
        self.proxy_port = proxy_port
        self.host_mode_port = host_mode_port
        # absolute: the CA path goes into env blocks that other processes, elsewhere, read
        self._given_state_dir = Path(state_dir).absolute() if state_dir is not None else None
        self.credentials_path = Path(credentials_path) if credentials_path is not None else None
        #: after start/init_state with a credentials_path: True if the file there was kept as it was
        self.credentials_kept: bool | None = None
        self._state_dir: Path | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._force_stop = False
        self._sockets: dict[str, socket.socket] = {}
        self.state = EmulatorState(project_id, strict_tokens=strict_tokens, max_messages=max_messages)
        self.oauth: OAuthAuthority | None = None
        self.endpoints: Endpoints | None = None
        self.connect_proxy: ConnectProxy | None = None
        self.tls: TlsFiles | None = None
        self.app: Any = None

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> FcmEmulator:
        if self._thread is not None:
            raise RuntimeError("the FCM emulator is already started")
        try:
            self._prepare(listen=True)
        except BaseException:
            self._cleanup()
            raise
        self._thread = threading.Thread(target=self._run, name="fcm-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT) or self._failure is not None:
            self.stop()
            raise RuntimeError(f"the FCM emulator did not start: {self._failure!r}")
        return self

    def init_state(self) -> FcmEmulator:
        """Set up the state directory (CA, service accounts, ports) and the credentials file, and
        listen nowhere (`b4a emulator fcm --init-only`). The ports must be fixed: given, or
        remembered by the state directory. Afterwards the URLs and env blocks are available.
        """
        if self._thread is not None:
            raise RuntimeError("the FCM emulator is already started")
        if self._given_state_dir is None:
            raise ValueError("init_state needs a state_dir: without one nothing would be kept")
        try:
            self._prepare(listen=False)
        except BaseException:
            self._cleanup()
            raise
        return self

    def stop(self, *, force: bool = False) -> None:
        """Stop serving. `force`: drop requests still in flight (a push slowed down by an injected
        fault, say) instead of waiting up to the shutdown grace for them: for a caller that is done."""
        self._force_stop = force
        if self._thread is not None:
            if self._loop is not None and self._stop_event is not None:
                self._loop.call_soon_threadsafe(self._stop_event.set)
            self._thread.join(START_TIMEOUT)
            self._thread = None
        self._cleanup()

    def __enter__(self) -> FcmEmulator:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # -- what a client needs ----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self._endpoints().base_url

    @property
    def proxy_url(self) -> str | None:
        return self._endpoints().proxy_url

    @property
    def host_mode_url(self) -> str | None:
        return self._endpoints().host_mode_url

    @property
    def token_uri(self) -> str:
        return self._endpoints().token_uri

    @property
    def ca_cert_path(self) -> str:
        self._endpoints()
        assert self._state_dir is not None
        return str(self._state_dir / "ca.pem")

    def service_account(self) -> dict[str, Any]:
        """A fresh service-account JSON whose token_uri is this emulator's `/token`."""
        assert self.oauth is not None, "start the emulator first"
        return self.oauth.issue_service_account(self.token_uri)

    def write_credentials(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Write a fresh service-account JSON file (mode 0600, atomically) and return its content."""
        account = self.service_account()
        write_private_json(Path(path), account)
        return account

    def ensure_credentials(self, path: str | os.PathLike[str]) -> bool:
        """Keep `path` if it holds a service account this emulator issued with its current
        token_uri (a kept state directory's, say); else write a fresh one. True if kept.
        """
        assert self.oauth is not None, "start the emulator first"
        try:
            existing = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            existing = None
        if isinstance(existing, dict) and existing.get("token_uri") == self.token_uri \
                and self.oauth.recognises(existing):
            return True
        self.write_credentials(path)
        return False

    def backend_env(self, credentials_path: str | os.PathLike[str] | None) -> dict[str, str]:
        """Everything a backend needs in either mode, as one block: the proxy env and the
        base-URL env (the two agree on the keys they share; each mode ignores the other's)."""
        return {**self.proxy_env(credentials_path), **self.base_url_env(credentials_path)}

    def backend_env_groups(self, credentials_path: str | os.PathLike[str] | None) -> dict[str, dict[str, str]]:
        """The env per way in: `base_url`, and `proxy` when the CONNECT proxy runs. Each group is
        complete on its own; a key that two groups share has the same value in both."""
        groups = {"base_url": self.base_url_env(credentials_path)}
        if self.proxy_url is not None:
            groups["proxy"] = self.proxy_env(credentials_path)
        return groups

    @property
    def send_url(self) -> str:
        """The FCM v1 send URL of the emulated project on the plain listener (base-URL mode)."""
        return f"{self.base_url}/v1/projects/{self.project_id}/messages:send"

    def base_url_env(self, credentials_path: str | os.PathLike[str] | None) -> dict[str, str]:
        """Environment for a backend whose FCM endpoint and token URI are configurable: it sends
        to `${FCM_BASE_URL}/v1/projects/${FCM_PROJECT_ID}/messages:send` (= FCM_SEND_URL) with a
        bearer token from the service account's token_uri (the emulator's /token)."""
        env = {"FCM_BASE_URL": self.base_url, "FCM_SEND_URL": self.send_url, "FCM_PROJECT_ID": self.project_id}
        if credentials_path is not None:
            env["GOOGLE_APPLICATION_CREDENTIALS"] = str(credentials_path)
        env["GOOGLE_CLOUD_PROJECT"] = self.project_id
        # a CI machine's HTTP(S)_PROXY must not swallow requests to the emulator on loopback
        env["NO_PROXY"] = env["no_proxy"] = LOOPBACK_NO_PROXY
        return env

    def proxy_env(self, credentials_path: str | os.PathLike[str] | None) -> dict[str, str]:
        """Environment for an unmodified backend in proxy mode (firebase-admin Python and Node)."""
        ca = self.ca_cert_path
        env = {
            "REQUESTS_CA_BUNDLE": ca,
            "SSL_CERT_FILE": ca,
            "NODE_EXTRA_CA_CERTS": ca,
            "NO_PROXY": LOOPBACK_NO_PROXY,
            "no_proxy": LOOPBACK_NO_PROXY,
        }
        if credentials_path is not None:
            env["GOOGLE_APPLICATION_CREDENTIALS"] = str(credentials_path)
        env["GOOGLE_CLOUD_PROJECT"] = self.project_id
        if self.proxy_url is not None:
            env["HTTPS_PROXY"] = env["https_proxy"] = self.proxy_url
        return env

    def inbox(self) -> FcmInbox:
        return FcmInbox(self.base_url, self.project_id)

    def _endpoints(self) -> Endpoints:
        if self.endpoints is None:
            raise RuntimeError("the FCM emulator is not started")
        return self.endpoints

    # -- internals ----------------------------------------------------------------------------------
    def _prepare(self, listen: bool) -> None:
        """State, then sockets, then credentials, then `listen()`: in the caller's thread, so a
        busy port fails `start()` at once, and so nothing can connect before the credentials
        file is complete (a CI script waiting for the port may read the file at once)."""
        if self._given_state_dir is not None:
            self._state_dir = open_state_dir(self._given_state_dir)
        else:
            self._state_dir = Path(tempfile.mkdtemp(prefix="b4a-fcm-emulator-"))
        try:
            self.tls = tls = prepare_tls(self._state_dir)
            self.oauth = OAuthAuthority(self.project_id, self._given_state_dir)
        except (OSError, ValueError, TypeError) as exc:
            raise EmulatorSetupError(f"cannot use state directory {self._state_dir}: {exc}") from None
        ports = {"base": self.port, "proxy": self.proxy_port, "host_mode": self.host_mode_port}
        if self._given_state_dir is not None:
            kept = remembered_ports(self._state_dir)
            ports["base"] = ports["base"] or kept.get("port", 0)
            ports["proxy"] = ports["proxy"] or kept.get("proxy_port", 0)
        wanted = {"base": True, "proxy": self.proxy, "host_mode": self.host_mode_port is not None}
        if listen:
            for name in ("base", "proxy", "host_mode"):
                if wanted[name]:
                    self._sockets[name] = _bind(self.host, ports[name] or 0)
            urls = {name: _url(sock, "https" if name == "host_mode" else "http")
                    for name, sock in self._sockets.items()}
        else:
            unfixed = [name for name in wanted if wanted[name] and not ports[name]]
            if unfixed:
                raise ValueError(
                    f"no fixed port for the {' and the '.join(_LISTENER_NAMES[name] for name in unfixed)} "
                    f"(0 given, none remembered in {self._state_dir}); the credentials and the env block name it")
            urls = {name: _host_url(self.host, ports[name] or 0, "https" if name == "host_mode" else "http")
                    for name in wanted if wanted[name]}
        if self._given_state_dir is not None:
            remember_ports(self._state_dir, {"port": ports["base"] or 0, "proxy_port": ports["proxy"] or 0})
        self.endpoints = Endpoints(
            project_id=self.project_id,
            project_number=self.project_number,
            base_url=urls["base"],
            proxy_url=urls.get("proxy"),
            host_mode_url=urls.get("host_mode"),
            ca_cert_pem=tls.ca_cert.read_text(),
        )
        if self.credentials_path is not None:
            try:
                self.credentials_kept = self.ensure_credentials(self.credentials_path)
            except OSError as exc:
                raise EmulatorSetupError(
                    f"cannot write credentials to {self.credentials_path}: {exc.strerror or exc}") from None
        if not listen:
            return
        for sock in self._sockets.values():
            sock.listen(1024)
        self.app = build_app(
            FcmApi(self.state, self.oauth, self.endpoints), ControlApi(self.state, self.oauth, self.endpoints)
        )

    def _run(self) -> None:
        loop = new_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported by start(); a crash after start is logged
            self._failure = exc
            log.exception("FCM emulator stopped on an error")
        finally:
            self._ready.set()
            # Connection tasks a server left behind (idle HTTP/2 clients keep hypercorn's open).
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> None:
        self._stop_event = asyncio.Event()
        tls = self.tls
        assert tls is not None
        server = uvicorn.Server(uvicorn_config(self.app))
        tasks = [asyncio.create_task(server.serve(sockets=[self._sockets["base"]]))]
        front_doors: list[tuple[asyncio.base_events.Server, Relays]] = []
        base = self._sockets["base"].getsockname()[:2]
        if "proxy" in self._sockets:
            self.connect_proxy = ConnectProxy(tls.server_context(("http/1.1",)), base)
            door = await asyncio.start_server(self.connect_proxy.handle, sock=self._sockets["proxy"])
            front_doors.append((door, self.connect_proxy.relays))
        if "host_mode" in self._sockets:
            h2_socket = _listen("127.0.0.1", 0)
            self._sockets["h2c"] = h2_socket
            tasks.append(asyncio.create_task(self._serve_h2c(h2_socket)))
            host_mode = HostModeTls(base, h2_socket.getsockname()[:2])
            door = await asyncio.start_server(
                host_mode.handle, sock=self._sockets["host_mode"],
                ssl=tls.server_context(("h2", "http/1.1")),
            )
            front_doors.append((door, host_mode.relays))
        while not server.started:
            if tasks[0].done():
                await tasks[0]
                raise RuntimeError("uvicorn exited during startup")
            await asyncio.sleep(0.005)
        self._ready.set()
        await self._stop_event.wait()
        self.state.wake_all()
        for door, relays in front_doors:
            door.close()
            await relays.close()
        server.should_exit = True
        server.force_exit = self._force_stop
        _, lingering = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE * 2)
        for task in lingering:
            task.cancel()

    async def _serve_h2c(self, sock: socket.socket) -> None:
        """HTTP/2 behind host mode's TLS: hypercorn on a private loopback socket, prior knowledge."""
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        config = Config()
        # Hypercorn adopts the descriptor it is given; hand it a duplicate so ours closes cleanly.
        config.bind = [f"fd://{os.dup(sock.fileno())}"]  # no certificate: a plain listener
        config.accesslog = None
        config.errorlog = logging.getLogger("harness.emulator.fcm.host_mode")
        config.graceful_timeout = SHUTDOWN_GRACE
        assert self._stop_event is not None
        await serve(self.app, config, shutdown_trigger=self._stop_event.wait, mode="asgi")

    def _cleanup(self) -> None:
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()
        if self._given_state_dir is None and self._state_dir is not None:
            shutil.rmtree(self._state_dir, ignore_errors=True)


def uvicorn_config(app: Any) -> uvicorn.Config:
    """The plain listener's server settings (the bench runs its baseline with the same ones)."""
    return uvicorn.Config(
        app, lifespan="off", access_log=False, log_config=None, log_level="warning",
        http="httptools", ws="none", timeout_graceful_shutdown=SHUTDOWN_GRACE,
    )


def new_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (as uvicorn's own default), else asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


_LISTENER_NAMES = {"base": "plain listener", "proxy": "CONNECT proxy", "host_mode": "host-mode listener"}


def _bind(host: str, port: int) -> socket.socket:
    """A bound socket that does not accept connections yet (see `_prepare` for why)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"port {port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def _listen(host: str, port: int) -> socket.socket:
    sock = _bind(host, port)
    sock.listen(1024)
    return sock


def _url(sock: socket.socket, scheme: str) -> str:
    host, port = sock.getsockname()[:2]
    return _host_url(host, port, scheme)


def _host_url(host: str, port: int, scheme: str) -> str:
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"
