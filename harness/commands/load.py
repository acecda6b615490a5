"""`b4a load`: many simulated users on Locust, every notification still checked.

This process never imports Locust (whose gevent monkey-patching would change the FCM emulator's
threads): it starts the target environment like `b4a run` (harness.commands.environment), then the
Locust controller (`python -m harness.load.locust_side`, local runner or master) and any local
workers as child processes, forwards Ctrl-C to them, and writes the report from the results file.
`b4a load --worker --master-host H` is a worker for another machine's master; it runs in-process.
"""
from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.commands.environment import SetupError, add_embedded_options, add_external_options, check_options, environment, preflight
from harness.commands.arguments import positive_int, positive_number
from harness.exit_codes import ExitCode

DEFAULT_MASTER_PORT = 5557  # Locust's
#: how long local workers may take to exit after the controller (they sleep a stop timeout first)
WORKER_EXIT_SECONDS = 5.0


def configure(parser: argparse.ArgumentParser) -> None:
    add_external_options(parser)
    parser.add_argument("--users", type=positive_int, metavar="N", help="simulated users (each with 1-3 WebSocket connections and 1-2 devices)")
    parser.add_argument("--spawn-rate", type=positive_number("users per second"), default=10.0, metavar="R", help="users started per second (default 10)")
    parser.add_argument("--duration", type=_duration, default=60.0, metavar="T", help="how long the users act: 90, 90s, 5m, 1h (default 60 s); a drain follows")
    parser.add_argument("--workers", type=_workers, default=0, metavar="K", help="local Locust worker processes (default 0: one process runs every user)")
    parser.add_argument("--expect-workers", type=_workers, metavar="K", help="workers to wait for before starting, local and remote (default: --workers); remote ones run `b4a load --worker --master-host THIS_HOST`")
    parser.add_argument("--master-bind-host", metavar="H", help="where the master listens for workers (default 127.0.0.1, or every interface when remote workers are expected)")
    parser.add_argument("--worker", action="store_true", help="be a worker for a master on another machine (needs --master-host); the master sends everything else")
    parser.add_argument("--master-host", metavar="H", help="with --worker: the master's host")
    parser.add_argument("--master-port", type=int, default=DEFAULT_MASTER_PORT, metavar="P", help=f"the master's port (default {DEFAULT_MASTER_PORT}; local-only runs pick a free one)")
    parser.add_argument("--think", type=_think, default=(2.0, 5.0), metavar="MIN-MAX", help="seconds a user pauses between flows, e.g. 2-5 (the default); a pause inside a flow is a fifth of it")
    parser.add_argument("--seed", type=int, metavar="S", help="seed for the users' choices (default: random, printed in the report)")
    parser.add_argument("--report-dir", default="b4a-load-report", help="where report.json and report.html go (default: ./b4a-load-report)")
    add_embedded_options(parser)
    parser.epilog = ("Exit codes: 0 every delivery checked and within budget, 1 a lost, duplicated, leaked, unexpected, invalid or "
                     "late copy, a failed request or a profile `load` budget exceeded, 2 usage, profile or infrastructure error, "
                     "or a run that checked nothing or was interrupted.")


def _workers(text: str) -> int:
    value = positive_int(text) if text != "0" else 0
    return value


def _duration(text: str) -> float:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration such as 90, 90s, 5m or 1h, got {text!r}")
    return float(match.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[match.group(2)]


def _think(text: str) -> tuple[float, float]:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?))?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected seconds MIN-MAX such as 2-5, got {text!r}")
    low = float(match.group(1))
    high = float(match.group(2)) if match.group(2) else low
    if high < low:
        raise argparse.ArgumentTypeError(f"MIN must not exceed MAX in {text!r}")
    return low, high


def _check(args: argparse.Namespace) -> None:
    if args.worker:
        if not args.master_host:
            raise SetupError("--worker needs --master-host (the machine running `b4a load --expect-workers K`)")
        extra = [flag for flag, given in (("--users", args.users), ("--target", args.target), ("--workers", args.workers),
                                          ("--fault", args.fault), ("--expect-workers", args.expect_workers)) if given]
        if extra:
            raise SetupError(f"--worker takes its run from the master; leave out {', '.join(extra)}")
        return
    if args.master_host:
        raise SetupError("--master-host is for --worker; the master itself listens with --master-bind-host")
    if args.users is None:
        raise SetupError("--users N is required (how many simulated users)")
    if args.expect_workers is not None and args.expect_workers < args.workers:
        raise SetupError(f"--expect-workers {args.expect_workers} is fewer than the --workers {args.workers} started here")
    check_options(args)


def run(args: argparse.Namespace) -> int:
    try:
        _check(args)
        if args.worker:
            from harness.load.locust_side import run_worker

            return run_worker(args.master_host, args.master_port)
        return _run(args)
    except SetupError as exc:
        print(f"b4a load: {exc}", file=sys.stderr)
        return ExitCode.ERROR


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _project_id(emulator_url: str) -> str:
    from harness.emulator.fcm import FcmInbox, FcmInboxError

    try:
        return FcmInbox.of(emulator_url).project_id
    except FcmInboxError as exc:
        raise SetupError(f"the FCM emulator at {emulator_url} did not tell its project id: {exc}") from None


class _Children:
    """The controller and local workers; Ctrl-C asks the controller to stop (it drains and writes
    its results), a second Ctrl-C ends them all at once."""

    def __init__(self) -> None:
        self.controller: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.interrupts = 0

    def on_interrupt(self, signum: int, frame: Any) -> None:
        self.interrupts += 1
        if self.controller is None or self.controller.poll() is not None:
            return
        if self.interrupts == 1:
            print("b4a load: stopping: the users finish their current action, then what is due is drained and counted "
                  "(Ctrl-C again to abandon)", file=sys.stderr)
            self.controller.send_signal(signal.SIGINT)
        else:
            for child in [self.controller, *self.workers]:
                child.kill()

    def end_workers(self) -> None:
        deadline = time.monotonic() + WORKER_EXIT_SECONDS
        for worker in self.workers:
            try:
                worker.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.terminate()
                try:
                    worker.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()


def _run(args: argparse.Namespace) -> int:
    from harness.load.config import LoadConfig
    from harness.profile import ProfileError, load_profile

    argv = sys.argv[sys.argv.index("load") + 1:] if "load" in sys.argv else []
    report_dir = Path(args.report_dir)
    started_at = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    began = time.monotonic()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
    expect_workers = args.expect_workers if args.expect_workers is not None else args.workers
    remote = expect_workers > args.workers
    bind_host = args.master_bind_host or ("*" if remote else "127.0.0.1")
    port = args.master_port if remote or args.master_bind_host else _free_port()
    children = _Children()
    with tempfile.TemporaryDirectory(prefix="b4a-load-") as tmp:
        workdir = Path(tmp)
        with environment(args, workdir, "load") as (profile_path, base_url, emulator):
            name = preflight(profile_path, base_url)
            try:
                profile = load_profile(profile_path, overrides={"base_url": base_url})
            except ProfileError as exc:
                raise SetupError(str(exc)) from None
            pushes = emulator is not None and profile.fcm_mode != "none"
            config = LoadConfig(profile_text=Path(profile_path).read_text(encoding="utf-8"), profile_source=str(profile_path),
                                base_url=base_url, emulator_url=emulator if pushes else None,
                                project_id=_project_id(emulator) if pushes and emulator else None,
                                users=args.users, spawn_rate=args.spawn_rate, duration_s=args.duration, seed=seed, think=args.think)
            config_file, results_file = workdir / "config.json", workdir / "results.json"
            config_file.write_text(json.dumps(config.to_json()), encoding="utf-8")
            where = f", {expect_workers} worker(s) on port {port}" if expect_workers else ""
            print(f"b4a load: {args.users} users on {base_url} ({name}) for {args.duration:g} s{where}", file=sys.stderr)
            previous = signal.signal(signal.SIGINT, children.on_interrupt)
            try:
                # own sessions: a terminal's Ctrl-C reaches this process only, which stops them in order
                children.controller = subprocess.Popen(
                    [sys.executable, "-m", "harness.load.locust_side", "controller", str(config_file), str(results_file),
                     str(expect_workers), bind_host, str(port)], start_new_session=True)
                for _ in range(args.workers):
                    children.workers.append(subprocess.Popen(
                        [sys.executable, "-m", "harness", "load", "--worker", "--master-host", "127.0.0.1",
                         "--master-port", str(port)], start_new_session=True))
                while True:
                    try:
                        children.controller.wait()
                        break
                    except KeyboardInterrupt:  # pragma: no cover - the handler above takes SIGINT
                        continue
                children.end_workers()
            finally:
                signal.signal(signal.SIGINT, previous)
            if not results_file.exists():
                raise SetupError(f"the load controller ended without results (exit code {children.controller.returncode})")
            results = json.loads(results_file.read_text(encoding="utf-8"))
    return _report(args, argv, results, profile, name, base_url, started_at, began, report_dir)


def _report(args: argparse.Namespace, argv: list[str], results: dict[str, Any], profile: Any, name: str, base_url: str,
            started_at: str, began: float, report_dir: Path) -> int:
    from harness.contract import load_contract
    from harness.load import html, report

    try:
        version = importlib.metadata.version("buddy4all-conformance")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    run_info = report.run_info(target=name, base_url=base_url, contract_version=load_contract().version, harness_version=version,
                               started_at=started_at, duration_s=round(time.monotonic() - began, 2), strict=False,
                               command=" ".join(["b4a", "load", *map(shlex.quote, argv)]))
    built = report.build(results, run_info, profile.load_budgets,
                         {"websocket": profile.websocket_seconds, "push": profile.push_seconds})
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        (report_dir / "report.json").write_text(json.dumps(built, indent=1, default=str) + "\n", encoding="utf-8")
        (report_dir / "report.html").write_text(html.render(built), encoding="utf-8")
    except OSError as exc:
        raise SetupError(f"cannot write the reports to {report_dir}: {exc}") from None
    print(report.terminal(built))
    print(f"b4a load: reports: {report_dir / 'report.json'}, {report_dir / 'report.html'}", file=sys.stderr)
    return int(built["exit_code"])


