"""`b4a emulator fcm`: run the FCM HTTP v1 emulator in the foreground until interrupted,
or (`--init-only`) set up a state directory and credentials and print the env block."""
from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from harness.exit_codes import ExitCode

if TYPE_CHECKING:
    from harness.emulator.fcm.server import FcmEmulator

#: where --init-only writes the credentials without --write-credentials: the name `b4a run
#: --emulator-state-dir` looks for, so both share one service account
STATE_DIR_CREDENTIALS = "fcm-service-account.json"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0,
                        help="port of the plain listener: send, /token, control API (default: the one the "
                        "state dir remembers, else a free port)")
    parser.add_argument("--project", default="buddy4all-test", help="the Firebase project id to emulate")
    parser.add_argument("--strict-tokens", action="store_true",
                        help="refuse tokens not registered through the control API (404 UNREGISTERED)")
    parser.add_argument("--max-messages", type=int, default=10_000,
                        help="how many captured messages (and attempts) to keep; older ones are dropped")
    parser.add_argument("--no-proxy", action="store_true", help="do not start the HTTPS CONNECT proxy")
    parser.add_argument("--proxy-port", type=int, default=0,
                        help="port of the CONNECT proxy (default: the one the state dir remembers, else a free port)")
    parser.add_argument("--host-mode-port", type=int, default=None,
                        help="also serve TLS (HTTP/2) as fcm.googleapis.com and oauth2.googleapis.com on this "
                        "port, for backends redirected by a hosts file (443 for unmodified SDKs)")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="keep the CA, issued service accounts and fixed ports here, so they survive "
                        "restarts (default: a temporary directory removed on exit)")
    parser.add_argument("--write-credentials", type=Path, metavar="PATH", default=None,
                        help="make PATH hold a service account for this emulator before any port accepts "
                        "connections (an existing one the state dir issued, for these ports, is kept)")
    parser.add_argument("--init-only", action="store_true",
                        help="with --state-dir: create the state dir and the credentials file (default "
                        f"DIR/{STATE_DIR_CREDENTIALS}), print the env block, and exit without serving; "
                        "needs fixed ports (given, or remembered by the state dir)")


def run(args: argparse.Namespace) -> int:
    from harness.emulator.fcm.server import FcmEmulator

    problem = _usage_problem(args)
    if problem:
        print(f"b4a emulator fcm: {problem}", file=sys.stderr)
        return ExitCode.ERROR
    credentials = args.write_credentials
    if args.init_only and credentials is None:
        credentials = args.state_dir / STATE_DIR_CREDENTIALS
    if credentials is not None:
        credentials = credentials.absolute()  # printed for a backend started elsewhere
    emulator = FcmEmulator(
        host=args.host, port=args.port, project_id=args.project, strict_tokens=args.strict_tokens,
        max_messages=args.max_messages, proxy=not args.no_proxy, host_mode_port=args.host_mode_port,
        state_dir=args.state_dir, proxy_port=args.proxy_port, credentials_path=credentials,
    )
    if args.init_only:
        return _init_only(emulator, credentials, args.state_dir)
    try:
        emulator.start()  # writes the credentials before any port accepts a connection
    except OSError as exc:
        print(f"b4a emulator fcm: cannot listen on {args.host}: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    except RuntimeError as exc:  # EmulatorSetupError included: state dir, credentials file
        print(f"b4a emulator fcm: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        print(startup_text(emulator, credentials), flush=True)
        stop.wait()
    finally:
        emulator.stop()
    return ExitCode.OK


def _usage_problem(args: argparse.Namespace) -> str | None:
    if args.max_messages < 1:
        return f"--max-messages must be at least 1, got {args.max_messages}"
    for name in ("port", "proxy_port", "host_mode_port"):
        value = getattr(args, name)
        if value is not None and not 0 <= value <= 65535:
            return f"--{name.replace('_', '-')} must be 0..65535, got {value}"
    if args.init_only and args.state_dir is None:
        return "--init-only needs --state-dir DIR (without one nothing would be kept)"
    return None


def _init_only(emulator: FcmEmulator, credentials: Path, state_dir: Path) -> int:
    try:
        emulator.init_state()
    except ValueError as exc:
        print(f"b4a emulator fcm: --init-only: {exc}; pass --port and --proxy-port (or --no-proxy)",
              file=sys.stderr)
        return ExitCode.ERROR
    except RuntimeError as exc:
        print(f"b4a emulator fcm: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    finally:
        emulator.stop()  # listens nowhere; removes nothing kept
    lines = [
        f"# FCM emulator state in {state_dir} (project {emulator.project_id}); serve it with "
        f"`b4a emulator fcm --state-dir {shlex.quote(str(state_dir))}` (same ports, CA and service account)",
        f"# credentials: {credentials} ({'kept' if emulator.credentials_kept else 'new'})",
        env_block(emulator, credentials),
    ]
    print("\n".join(lines), flush=True)
    return ExitCode.OK


def env_block(emulator: FcmEmulator, credentials: Path | None) -> str:
    """The backend env per way in, as `export` lines under a `#` heading (eval-able)."""
    headings = {
        "base_url": f"# base-URL mode: POST {emulator.send_url} with a bearer token from the "
                    f"service account's token_uri {emulator.token_uri}",
        "proxy": "# proxy mode: unmodified firebase-admin reaches fcm.googleapis.com and "
                 "oauth2.googleapis.com through the emulator's HTTPS CONNECT proxy",
    }
    lines: list[str] = []
    for name, env in emulator.backend_env_groups(credentials).items():
        lines.append(headings[name])
        lines += [f"export {key}={shlex.quote(value)}" for key, value in env.items()]
        if credentials is None:
            lines.append("#   GOOGLE_APPLICATION_CREDENTIALS: a service account from --write-credentials PATH "
                         f"or POST {emulator.base_url}/emulator/v1/projects/{emulator.project_id}/serviceAccounts")
    return "\n".join(lines)


def startup_text(emulator: FcmEmulator, credentials: Path | None) -> str:
    base, project, ca = emulator.base_url, emulator.project_id, emulator.ca_cert_path
    lines = [f"FCM emulator listening on {base} (project {project}, project number {emulator.project_number})"]
    if emulator.proxy_url:
        lines.append(f"  CONNECT proxy: {emulator.proxy_url} (CA {ca})")
    if emulator.host_mode_url:
        lines.append(
            f"  host mode:     {emulator.host_mode_url} serves fcm.googleapis.com and oauth2.googleapis.com "
            f"(point those names at this address; trust {ca})"
        )
    lines.append(f"  control API:   {base}/emulator/v1 (OpenAPI: {base}/emulator/v1/openapi.json)")
    if credentials is not None:
        lines.append(f"  credentials:   {credentials} ({'kept' if emulator.credentials_kept else 'new'})")
    lines.append(env_block(emulator, credentials))
    lines.append("  stop with Ctrl-C")
    return "\n".join(lines)
