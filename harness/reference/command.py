"""`b4a serve`: start the reference backend on uvicorn and say where it listens."""
from __future__ import annotations

import argparse
import logging
import socket
import sys

from harness.exit_codes import ExitCode
from harness.reference.faults import format_fault_table, parse_faults
from harness.reference.styles import format_style_table, parse_styles


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080,
                        help="port to bind; 0 picks a free one (default 8080)")
    parser.add_argument("--db", default="b4a-reference.sqlite3",
                        help="SQLite file, or :memory: (default b4a-reference.sqlite3)")
    parser.add_argument("--ring-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="seconds a call rings before user_not_responding (default 30)")
    parser.add_argument("--fcm-emulator", metavar="URL",
                        help="base URL of a `b4a emulator fcm`; pushes go through its proxy. "
                        "Without it, GOOGLE_APPLICATION_CREDENTIALS is used if set, "
                        "else pushes are off")
    parser.add_argument("--fcm-base-url", metavar="URL",
                        help="base-URL mode: send each push as a raw FCM v1 request to "
                        "URL/v1/projects/{project}/messages:send, with an OAuth token from the "
                        "service account's token_uri (e.g. a `b4a emulator fcm`'s $FCM_BASE_URL)")
    parser.add_argument("--fcm-credentials", metavar="PATH",
                        help="the service-account JSON for pushes (default: $GOOGLE_APPLICATION_CREDENTIALS)")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME",
                        help="switch on a deliberate contract bug (repeatable; see --list-faults)")
    parser.add_argument("--list-faults", action="store_true",
                        help="print the fault switches with the rule each breaks, and exit")
    parser.add_argument("--style", action="append", default=[], metavar="NAME",
                        help="speak another backend's conventions: a bundle (rails, node) or "
                        "single conventions such as verbs, envelope, prefix=/api/v1 "
                        "(repeatable or comma-separated; see --list-styles)")
    parser.add_argument("--list-styles", action="store_true",
                        help="print the convention styles and bundles, and exit")
    parser.add_argument("--allowed-origin", action="append", metavar="ORIGIN",
                        help="a browser origin whose WebSocket upgrades are accepted besides the "
                        "backend's own (repeatable; default https://app.buddy4all.example); "
                        "upgrades without Origin (native apps) are always accepted")


def run(args: argparse.Namespace) -> int:
    if args.list_faults:
        print(format_fault_table())
        return ExitCode.OK
    if args.list_styles:
        print(format_style_table())
        return ExitCode.OK
    try:
        args.conventions = parse_styles(args.style)
    except ValueError as exc:
        print(f"b4a serve: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    try:
        faults = parse_faults(args.fault)
    except ValueError as exc:
        print(f"b4a serve: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    if args.ring_timeout <= 0:
        print("b4a serve: --ring-timeout must be > 0 seconds", file=sys.stderr)
        return ExitCode.ERROR
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        sock = socket.create_server((args.host, args.port), backlog=2048)
    except (OSError, OverflowError) as exc:
        print(f"b4a serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    try:
        return _serve(args, faults, sock)
    finally:
        sock.close()


def _serve(args: argparse.Namespace, faults: frozenset[str], sock: socket.socket) -> int:
    import sqlite3

    import uvicorn

    from harness.reference import fcm_setup
    from harness.reference.app import create_app
    from harness.reference.hub import Hub
    from harness.reference.push import Pusher
    from harness.reference.state import DEFAULT_ALLOWED_ORIGINS, Backend
    from harness.reference.store import Store

    try:
        credentials = fcm_setup.choose_route(args.fcm_emulator, args.fcm_base_url,
                                             args.fcm_credentials)
    except fcm_setup.FcmSetupError as exc:
        print(f"b4a serve: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    if credentials is None:
        logging.getLogger("b4a.reference").info(
            "pushes disabled: no --fcm-emulator and no GOOGLE_APPLICATION_CREDENTIALS")
    try:
        store = Store(args.db)
    except sqlite3.Error as exc:
        print(f"b4a serve: cannot open database {args.db}: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    backend = Backend(store=store, hub=Hub(faults), pusher=Pusher(credentials, store, faults),
                      faults=faults, ring_timeout=args.ring_timeout,
                      conventions=args.conventions,
                      allowed_origins=tuple(args.allowed_origin or DEFAULT_ALLOWED_ORIGINS))
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    # first line is machine-readable: ReferenceBackend (and people) read the port from it
    print(f"b4a serve: listening on http://{shown}:{port}", flush=True)
    if faults:
        print(f"b4a serve: faults on: {', '.join(sorted(faults))}", flush=True)
    if not args.conventions.is_default:
        print(f"b4a serve: style {', '.join(args.conventions.names)}: "
              f"{args.conventions.describe()}; REST API at "
              f"http://{shown}:{port}{args.conventions.prefix}", flush=True)
    # Keep-alive as long as production servers do (nginx 75 s): with uvicorn's 5 s, a client that
    # reuses a connection idle for ~5 s races the server closing it and gets a reset.
    config = uvicorn.Config(create_app(backend), log_level="warning", lifespan="on", timeout_keep_alive=75)
    uvicorn.Server(config).run(sockets=[sock])
    return ExitCode.OK
