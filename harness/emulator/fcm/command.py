"""`b4a emulator fcm`: run the FCM HTTP v1 emulator in the foreground until interrupted."""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from harness.exit_codes import ExitCode


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0,
                        help="port of the plain listener: send, /token, control API (default: a free port)")
    parser.add_argument("--project", default="buddy4all-test", help="the Firebase project id to emulate")
    parser.add_argument("--strict-tokens", action="store_true",
                        help="refuse tokens not registered through the control API (404 UNREGISTERED)")
    parser.add_argument("--max-messages", type=int, default=10_000,
                        help="how many captured messages (and attempts) to keep; older ones are dropped")
    parser.add_argument("--no-proxy", action="store_true", help="do not start the HTTPS CONNECT proxy")
    parser.add_argument("--proxy-port", type=int, default=0, help="port of the CONNECT proxy (default: a free port)")
    parser.add_argument("--host-mode-port", type=int, default=None,
                        help="also serve TLS (HTTP/2) as fcm.googleapis.com and oauth2.googleapis.com on this "
                        "port, for backends redirected by a hosts file (443 for unmodified SDKs)")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="keep the CA and issued service accounts here, so they survive restarts "
                        "(default: a temporary directory removed on exit)")
    parser.add_argument("--write-credentials", type=Path, metavar="PATH", default=None,
                        help="write a fresh service-account JSON for this emulator to PATH at startup")


def run(args: argparse.Namespace) -> int:
    from harness.emulator.fcm.server import FcmEmulator

    if args.max_messages < 1:
        print(f"b4a emulator fcm: --max-messages must be at least 1, got {args.max_messages}", file=sys.stderr)
        return ExitCode.ERROR
    for name in ("port", "proxy_port", "host_mode_port"):
        value = getattr(args, name)
        if value is not None and not 0 <= value <= 65535:
            print(f"b4a emulator fcm: --{name.replace('_', '-')} must be 0..65535, got {value}", file=sys.stderr)
            return ExitCode.ERROR
    emulator = FcmEmulator(
        host=args.host, port=args.port, project_id=args.project, strict_tokens=args.strict_tokens,
        max_messages=args.max_messages, proxy=not args.no_proxy, host_mode_port=args.host_mode_port,
        state_dir=args.state_dir, proxy_port=args.proxy_port,
    )
    try:
        emulator.start()
    except OSError as exc:
        print(f"b4a emulator fcm: cannot listen on {args.host}: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    except RuntimeError as exc:
        print(f"b4a emulator fcm: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        if args.write_credentials is not None:
            try:
                emulator.write_credentials(args.write_credentials)
            except OSError as exc:
                print(f"b4a emulator fcm: cannot write credentials to {args.write_credentials}: {exc}",
                      file=sys.stderr)
                return ExitCode.ERROR
        print(startup_text(emulator, args.write_credentials), flush=True)
        stop.wait()
    finally:
        emulator.stop()
    return ExitCode.OK


def startup_text(emulator: object, credentials: Path | None) -> str:
    from harness.emulator.fcm.server import LOOPBACK_NO_PROXY, FcmEmulator

    assert isinstance(emulator, FcmEmulator)
    base, project, ca = emulator.base_url, emulator.project_id, emulator.ca_cert_path
    lines = [
        f"FCM emulator listening on {base} (project {project}, project number {emulator.project_number})",
        f"  base-URL mode: POST {base}/v1/projects/{project}/messages:send; service-account token_uri {base}/token",
    ]
    if emulator.proxy_url:
        lines.append(
            f"  proxy mode:    HTTPS_PROXY={emulator.proxy_url} REQUESTS_CA_BUNDLE={ca} SSL_CERT_FILE={ca} "
            f"NODE_EXTRA_CA_CERTS={ca} NO_PROXY={LOOPBACK_NO_PROXY}"
        )
    if emulator.host_mode_url:
        lines.append(
            f"  host mode:     {emulator.host_mode_url} serves fcm.googleapis.com and oauth2.googleapis.com "
            f"(point those names at this address; trust {ca})"
        )
    lines.append(f"  control API:   {base}/emulator/v1 (OpenAPI: {base}/emulator/v1/openapi.json)")
    if credentials is not None:
        lines.append(f"  credentials:   {credentials} (GOOGLE_APPLICATION_CREDENTIALS={credentials})")
    lines.append("  stop with Ctrl-C")
    return "\n".join(lines)
