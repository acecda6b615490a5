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
import threading
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
    parser.add_argument("--only", action="append", default=[], metavar="FAMILY|RULE", help="run only a family (friendship, game-session, chat, call, delivery, push, auth), the checks carrying a rule id or prefix (FRND-001, PUSH), or the checks whose id starts with this (test_call.py, test_call.py::test_a_declined_call); repeatable")
    parser.add_argument("--strict", action="store_true", help="SHOULD violations fail the run; unknown payload keys are reported")
    parser.add_argument("--report-dir", default="b4a-report", help="where report.json, junit.xml and report.html go (default: ./b4a-report)")
    parser.add_argument("--format", dest="formats", action="append", choices=REPORT_FORMATS, help="report files to write (repeatable; default: all)")
    parser.add_argument("-j", "--jobs", type=_jobs, default="auto", metavar="N|auto", help="checks run concurrently in N worker processes; auto (the default) = the machine's cores, at most 4; 1 = one process")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME", help="embedded reference backend only: switch on a deliberate bug (see `b4a serve --list-faults`)")
    parser.add_argument("--framing", choices=("plain", "actioncable"), default="plain", help="embedded reference backend only: WebSocket framing to test (default: plain)")
    parser.add_argument("--style", choices=("default", "rails", "node"), default="default", help="embedded reference backend only: the API conventions it speaks (rails: /api/v1, {data: ...} envelopes, PATCH states, ActionCable; node: /v2, verb per game move, X-Auth-Token, string ids, millisecond dates, 401 upgrades), each with its own profile; see `b4a serve --list-styles`")
    parser.add_argument("-v", "--verbose", action="store_true", help="show pytest's per-check lines and the full terminal report")
    parser.add_argument("--profile-time", action="store_true", help="after the report, show where the checks' time went: setup, actions, waiting for copies, quiet proofs, judging, teardown, reporting (also in report.json, per check)")
    parser.epilog = "Exit codes: 0 every MUST holds, 1 a MUST failed (or a SHOULD in --strict), 2 usage, profile or infrastructure error."


class RunError(Exception):
    """Cannot run: bad usage, bad profile, unreachable target. One line, exit 2."""


#: More workers than this stall SQLite-backed backends and cost more in start-up than they save.
MAX_AUTO_JOBS = 4


def _jobs(text: str) -> int:
    """`-j N` or `-j auto` (the machine's cores, at most MAX_AUTO_JOBS: measured, on 2 cores
    `-j 4` was slower than `-j 1` against external backends)."""
    if text == "auto":
        return max(1, min(os.cpu_count() or 1, MAX_AUTO_JOBS))
    try:
        jobs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of workers or 'auto', got {text!r}") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return jobs


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

    from harness.reference.styles import BUNDLE_PROFILES

    if args.style != "default":
        name = BUNDLE_PROFILES[args.style]
    else:
        name = "reference.yaml" if args.framing == "plain" else "reference-cable.yaml"
    profile = _profile_dir() / name
    print(f"b4a run: starting the FCM emulator and the reference backend{' with faults ' + ', '.join(args.fault) if args.fault else ''}...", file=sys.stderr)
    try:
        emulator = FcmEmulator().start()
    except (OSError, RuntimeError, ValueError) as exc:
        raise RunError(f"the FCM emulator could not start: {str(exc).splitlines()[0]}") from None
    try:
        styles = (args.style,) if args.style != "default" else ()
        backend = ReferenceBackend(fcm_emulator_url=emulator.base_url, faults=args.fault, styles=styles).start()
    except ReferenceBackendError as exc:
        emulator.stop()
        raise RunError(str(exc).splitlines()[0]) from None
    try:
        yield profile, backend.api_url, emulator.base_url
    finally:
        # both at once: each waits a moment for its connections to end
        stopping = threading.Thread(target=backend.stop)
        stopping.start()
        emulator.stop()
        stopping.join()


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
    from harness.emulator.fcm.command import env_block

    credentials = Path(args.emulator_state_dir or workdir) / "fcm-service-account.json"
    try:
        # the credentials file exists before the emulator answers on any port: a backend that
        # starts when the port opens reads a working service account
        emulator = FcmEmulator(port=args.emulator_port, proxy_port=args.emulator_proxy_port, state_dir=args.emulator_state_dir,
                               credentials_path=credentials).start()
    except (OSError, RuntimeError, ValueError) as exc:
        raise RunError(f"the FCM emulator could not start: {str(exc).splitlines()[0]}") from None
    try:
        print(f"b4a run: FCM emulator at {emulator.base_url} (the profile says fcm.mode: {profile.fcm_mode}); "
              "point the backend at it with one of:", file=sys.stderr)
        print(env_block(emulator, credentials), file=sys.stderr)
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
            "-o", "console_output_style=count", "--tb=no", "--no-header"]
    # b4a prints the verdicts; pytest's own summary would count differently (a check is one
    # result, pytest counts setup/teardown errors apart), so only its progress line is kept.
    argv += ["-v"] if args.verbose else ["-qq", "--no-summary"]
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
    return Report(run=run, checks=checks, rules=build_rule_summaries(checks, contract, strict=args.strict))


def run(args: argparse.Namespace) -> int:
    """`b4a run`; any failure of the harness itself is one line and exit 2, never a traceback."""
    try:
        return _run(args)
    except RunError as exc:
        print(f"b4a run: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a bug must still exit 2
        where = exc.__traceback__
        while where is not None and where.tb_next is not None:
            where = where.tb_next
        place = f" ({Path(where.tb_frame.f_code.co_filename).name}:{where.tb_lineno})" if where else ""
        print(f"b4a run: internal error{place}: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return ExitCode.ERROR


def merge_results(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One result per check id: a teardown error after a verdict, or a crash report after a
    partial result, makes the check's outcome the worse of the two and keeps both messages."""
    from harness.violations import Outcome

    merged: dict[str, dict[str, Any]] = {}
    for result in results:
        first = merged.get(result["id"])
        if first is None:
            merged[result["id"]] = result
            continue
        worse, other = (result, first) if Outcome(result["outcome"]).rank > Outcome(first["outcome"]).rank else (first, result)
        merged[result["id"]] = {**worse, "message": "; ".join(filter(None, (first["message"], result["message"]))),
                                "violations": first["violations"] + result["violations"],
                                "transcript": worse["transcript"] or other["transcript"],
                                "delivery": worse["delivery"] or other["delivery"],
                                "rules": worse.get("rules") or other.get("rules", [])}
    return list(merged.values())


def _run(args: argparse.Namespace) -> int:
    import pytest

    args.argv = sys.argv[sys.argv.index("run") + 1:] if "run" in sys.argv else []

    if args.target is None and (args.base_url or args.emulator):
        raise RunError("--base-url and --emulator need --target (the embedded backend chooses its own)")
    if args.target is None and (args.emulator_port or args.emulator_proxy_port or args.emulator_state_dir):
        raise RunError("--emulator-port, --emulator-proxy-port and --emulator-state-dir need --target")
    if args.target is not None and (args.fault or args.framing != "plain" or args.style != "default"):
        raise RunError("--fault, --framing and --style apply to the embedded reference backend only, not with --target")
    if args.style != "default" and args.framing != "plain":
        raise RunError("--style picks its own framing (its profile's); leave out --framing")
    # Other installed pytest plugins (hypothesis, schemathesis...) cost seconds per worker and
    # could change the suite's behaviour: the suite loads exactly its own plugins.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    started, started_at = time.monotonic(), datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    report_dir = Path(args.report_dir)
    with tempfile.TemporaryDirectory(prefix="b4a-run-") as tmp:
        workdir = Path(tmp)
        results_file = workdir / "results.jsonl"
        environment = _embedded(args, workdir) if args.target is None else _external(args, workdir)
        with environment as (profile, base_url, emulator):
            name = _preflight(profile, base_url)
            print(f"b4a run: checking {base_url} ({profile.name}){' strict' if args.strict else ''}", file=sys.stderr)
            code = pytest.main(_pytest_args(args, profile, base_url, emulator, results_file))
        if code == pytest.ExitCode.NO_TESTS_COLLECTED:
            raise RunError(f"no checks selected{' by --only ' + ', '.join(args.only) if args.only else ''}")
        if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or not results_file.exists():
            raise RunError(f"the suite could not run (pytest exit code {int(code)})")
        results = merge_results([json.loads(line) for line in results_file.read_text(encoding="utf-8").splitlines() if line.strip()])
    report = _build_report(args, results, name, base_url, started, started_at)
    from harness.report import render_terminal, write_reports
    from harness.violations import Outcome

    try:
        written = write_reports(report, report_dir, tuple(args.formats or REPORT_FORMATS))
    except (OSError, ValueError) as exc:
        raise RunError(f"cannot write the reports to {report_dir}: {exc}") from None
    render_terminal(report, sys.stdout, verbose=args.verbose)
    if args.profile_time:
        from harness.report.timings import render_timings

        render_timings(report, sys.stdout)
    for kind, path in written.items():
        print(f"b4a run: {kind} report: {path}", file=sys.stderr)
    outcomes = {check.outcome for check in report.checks}
    if Outcome.FAIL in outcomes or (args.strict and Outcome.NON_STRICT in outcomes):
        return ExitCode.VIOLATION
    if Outcome.ERROR in outcomes:
        return ExitCode.ERROR
    if code == pytest.ExitCode.TESTS_FAILED:
        print("b4a run: pytest reported a failure that no check result shows; see --verbose", file=sys.stderr)
        return ExitCode.ERROR
    if not any(rule.outcome is not Outcome.SKIP for rule in report.rules):
        print(f"b4a run: nothing was checked: all {len(report.checks)} selected checks were skipped or judged no rule", file=sys.stderr)
        return ExitCode.ERROR
    return ExitCode.OK
