"""`b4a run`: run the conformance suite against a target (by default the embedded reference backend)."""
from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import importlib.resources
import json
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.exit_codes import ExitCode

REPORT_FORMATS = ("json", "junit", "html")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", metavar="PROFILE", help="target profile YAML; without it the bundled reference backend and FCM emulator are started on loopback")
    parser.add_argument("--base-url", help="override the profile's base_url")
    parser.add_argument("--emulator", metavar="URL", help="use an FCM emulator already running at URL instead of starting one")
    parser.add_argument("--emulator-port", type=int, default=0, metavar="N", help="with --target: start the FCM emulator on this port (default: a free one), so a backend can be configured before the run")
    parser.add_argument("--emulator-proxy-port", type=int, default=0, metavar="N", help="with --target: the emulator's CONNECT proxy port (default: a free one)")
    parser.add_argument("--emulator-state-dir", metavar="DIR", help="with --target: keep the emulator's CA and service accounts here, so a backend configured once keeps working across runs (see `b4a emulator fcm --state-dir`)")
    parser.add_argument("--only", action="append", default=[], metavar="FAMILY|RULE", help="run only a family (friendship, game-session, chat, call, delivery, push, auth) or the checks carrying a rule id or prefix (FRND-001, PUSH); repeatable")
    parser.add_argument("--strict", action="store_true", help="SHOULD violations fail the run; unknown payload keys are reported")
    parser.add_argument("--report-dir", default="b4a-report", help="where report.json, junit.xml and report.html go (default: ./b4a-report)")
    parser.add_argument("--format", dest="formats", action="append", choices=REPORT_FORMATS, help="report files to write (repeatable; default: all)")
    parser.add_argument("-j", "--jobs", type=int, default=4, metavar="N", help="checks run concurrently in N worker processes (default: 4; 1 = one process)")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME", help="embedded reference backend only: switch on a deliberate bug (see `b4a serve --list-faults`)")
    parser.add_argument("--framing", choices=("plain", "actioncable"), default="plain", help="embedded reference backend only: WebSocket framing to test (default: plain)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show pytest's per-check lines and the full terminal report")
    parser.epilog = "Exit codes: 0 every MUST holds, 1 a MUST failed (or a SHOULD in --strict), 2 usage, profile or infrastructure error."


class RunError(Exception):
    """Cannot run: bad usage, bad profile, unreachable target. One line, exit 2."""


def _suite_dir() -> Path:
    return Path(str(importlib.resources.files("conformance_tests")))


def _profile_dir() -> Path:
    from harness.contract import data_dir

    return Path(str(data_dir("fixtures"))) / "profiles"


@contextlib.contextmanager
def _embedded(args: argparse.Namespace, workdir: Path) -> Iterator[tuple[Path, str, str | None]]:
    """Start the FCM emulator and the reference backend; yield (profile, base_url, emulator url)."""
    from harness.emulator.fcm import FcmEmulator
    from harness.reference import ReferenceBackend, ReferenceBackendError

    name = "reference.yaml" if args.framing == "plain" else "reference-cable.yaml"
    profile = _profile_dir() / name
    print(f"b4a run: starting the FCM emulator and the reference backend{' with faults ' + ', '.join(args.fault) if args.fault else ''}...", file=sys.stderr)
    with FcmEmulator() as emulator:
        try:
            backend = ReferenceBackend(fcm_emulator_url=emulator.base_url, faults=args.fault, ring_timeout=1.0).start()
        except ReferenceBackendError as exc:
            raise RunError(str(exc).splitlines()[0]) from None
        try:
            yield profile, backend.base_url, emulator.base_url
        finally:
            backend.stop()


@contextlib.contextmanager
def _external(args: argparse.Namespace, workdir: Path) -> Iterator[tuple[Path, str, str | None]]:
    """A team's backend: load its profile; start an emulator for it unless one is given."""
    from harness.profile import ProfileError, load_profile

    profile_path = Path(args.target)
    overrides = {"base_url": args.base_url} if args.base_url else {}
    try:
        profile = load_profile(profile_path, overrides=overrides)
    except ProfileError as exc:
        raise RunError(str(exc)) from None
    if args.emulator or profile.fcm_mode == "none":
        yield profile_path, profile.base_url, args.emulator
        return
    from harness.emulator.fcm import FcmEmulator

    try:
        emulator = FcmEmulator(port=args.emulator_port, proxy_port=args.emulator_proxy_port, state_dir=args.emulator_state_dir).start()
    except (OSError, RuntimeError, ValueError) as exc:
        raise RunError(f"the FCM emulator could not start: {str(exc).splitlines()[0]}") from None
    try:
        credentials = Path(args.emulator_state_dir or workdir) / "fcm-service-account.json"
        if not credentials.exists():
            emulator.write_credentials(credentials)
        print(f"b4a run: FCM emulator at {emulator.base_url}; point the backend at it with:", file=sys.stderr)
        for key, value in emulator.backend_env(credentials).items():
            print(f"  export {key}={shlex.quote(value)}", file=sys.stderr)
        yield profile_path, profile.base_url, emulator.base_url
    finally:
        emulator.stop()


def _preflight(profile_path: Path, base_url: str) -> str:
    """Check the target answers; return the profile's name for the report."""
    from harness.profile import ProfileError, load_profile
    from harness.target import Target, TargetError

    try:
        profile = load_profile(profile_path, overrides={"base_url": base_url})
        Target(profile).check_reachable()
    except (ProfileError, TargetError) as exc:
        raise RunError(f"target not usable: {exc}") from None
    return profile.name


def _pytest_args(args: argparse.Namespace, profile: Path, base_url: str, emulator: str | None, results: Path) -> list[str]:
    suite = _suite_dir()
    # Plugin autoload is off (see run()): only what the suite needs is loaded, in every worker.
    argv = [str(suite), "-c", str(suite / "pytest.ini"), "--rootdir", str(suite), "-p", "harness.pytest_plugin",
            "-W", "ignore::pytest.PytestAssertRewriteWarning",
            "--b4a-profile", str(profile), "--b4a-base-url", base_url, "--b4a-results", str(results),
            "-o", "console_output_style=count", "--tb=no", "-q" if not args.verbose else "-v", "--no-header"]
    if emulator:
        argv += ["--b4a-emulator", emulator]
    if args.strict:
        argv.append("--b4a-strict")
    for selector in args.only:
        argv += ["--b4a-only", selector]
    if args.jobs > 1:
        argv += ["-p", "xdist.plugin", "-n", str(args.jobs)]
    return argv


def _build_report(args: argparse.Namespace, results: list[dict[str, Any]], name: str, base_url: str, started: float, started_at: str) -> Any:
    from harness.contract import load_contract
    from harness.report import build_rule_summaries
    from harness.report.model import CheckResult, Report, RunInfo

    contract = load_contract()
    checks = tuple(sorted((CheckResult.from_json(r) for r in results), key=lambda c: c.id))
    try:
        version = importlib.metadata.version("buddy4all-conformance")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    run = RunInfo(
        target=name, base_url=base_url, contract_version=contract.version, harness_version=version,
        started_at=started_at, duration_s=round(time.monotonic() - started, 2), strict=args.strict,
        command=" ".join(["b4a", "run", *map(shlex.quote, args.argv)]),
        selection=",".join(args.only) or None,
    )
    return Report(run=run, checks=checks, rules=build_rule_summaries(checks, contract))


def run(args: argparse.Namespace) -> int:
    import pytest

    args.argv = sys.argv[sys.argv.index("run") + 1:] if "run" in sys.argv else []

    if args.jobs < 1:
        print("b4a run: -j/--jobs must be at least 1", file=sys.stderr)
        return ExitCode.ERROR
    if args.target is None and (args.base_url or args.emulator):
        print("b4a run: --base-url and --emulator need --target (the embedded backend chooses its own)", file=sys.stderr)
        return ExitCode.ERROR
    if args.target is None and (args.emulator_port or args.emulator_proxy_port or args.emulator_state_dir):
        print("b4a run: --emulator-port, --emulator-proxy-port and --emulator-state-dir need --target", file=sys.stderr)
        return ExitCode.ERROR
    if args.target is not None and (args.fault or args.framing != "plain"):
        print("b4a run: --fault and --framing apply to the embedded reference backend only, not with --target", file=sys.stderr)
        return ExitCode.ERROR
    # Other installed pytest plugins (hypothesis, schemathesis...) cost seconds per worker and
    # could change the suite's behaviour: the suite loads exactly its own plugins.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    started, started_at = time.monotonic(), datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    report_dir = Path(args.report_dir)
    with tempfile.TemporaryDirectory(prefix="b4a-run-") as tmp:
        workdir = Path(tmp)
        results_file = workdir / "results.jsonl"
        try:
            environment = _embedded(args, workdir) if args.target is None else _external(args, workdir)
            with environment as (profile, base_url, emulator):
                name = _preflight(profile, base_url)
                print(f"b4a run: checking {base_url} ({profile.name}){' strict' if args.strict else ''}", file=sys.stderr)
                code = pytest.main(_pytest_args(args, profile, base_url, emulator, results_file))
        except RunError as exc:
            print(f"b4a run: {exc}", file=sys.stderr)
            return ExitCode.ERROR
        if code == pytest.ExitCode.NO_TESTS_COLLECTED:
            print(f"b4a run: no checks selected{' by --only ' + ', '.join(args.only) if args.only else ''}", file=sys.stderr)
            return ExitCode.ERROR
        if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or not results_file.exists():
            print(f"b4a run: the suite could not run (pytest exit code {int(code)})", file=sys.stderr)
            return ExitCode.ERROR
        results = [json.loads(line) for line in results_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    report = _build_report(args, results, name, base_url, started, started_at)
    from harness.report import render_terminal, write_reports
    from harness.violations import Outcome

    written = write_reports(report, report_dir, tuple(args.formats or REPORT_FORMATS))
    render_terminal(report, sys.stdout, verbose=args.verbose)
    for kind, path in written.items():
        print(f"b4a run: {kind} report: {path}", file=sys.stderr)
    outcomes = {check.outcome for check in report.checks}
    if Outcome.FAIL in outcomes or (args.strict and Outcome.NON_STRICT in outcomes):
        return ExitCode.VIOLATION
    if Outcome.ERROR in outcomes:
        return ExitCode.ERROR
    return ExitCode.OK
