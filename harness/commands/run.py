"""`b4a run`: run the conformance suite against a target (by default the embedded reference backend)."""
from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.resources
import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.commands.arguments import positive_int
from harness.commands.environment import (SetupError, add_embedded_options, add_external_options, check_options,
                                          environment, preflight)
from harness.exit_codes import ExitCode

REPORT_FORMATS = ("json", "junit", "html")


def configure(parser: argparse.ArgumentParser) -> None:
    add_external_options(parser)
    parser.add_argument("--only", action="append", default=[], metavar="FAMILY|RULE", help="run only a family (friendship, game-session, chat, call, delivery, push, auth), the checks carrying a rule id or prefix (FRND-001, PUSH), or the checks whose id starts with this (test_call.py, test_call.py::test_a_declined_call); repeatable")
    parser.add_argument("--strict", action="store_true", help="SHOULD violations fail the run; unknown payload keys are reported")
    parser.add_argument("--report-dir", default="b4a-report", help="where report.json, junit.xml and report.html go (default: ./b4a-report)")
    parser.add_argument("--format", dest="formats", action="append", choices=REPORT_FORMATS, help="report files to write (repeatable; default: all)")
    parser.add_argument("-j", "--jobs", type=_jobs, default="auto", metavar="N|auto", help="checks run concurrently in N worker processes; auto (the default) = the machine's cores plus one, at most 4; 1 = one process")
    add_embedded_options(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="show pytest's per-check lines and the full terminal report")
    parser.add_argument("--profile-time", action="store_true", help="after the report, show where the checks' time went: setup, actions, waiting for copies, quiet proofs, judging, teardown, reporting (also in report.json, per check)")
    parser.epilog = "Exit codes: 0 every MUST holds, 1 a MUST failed (or a SHOULD in --strict), 2 usage, profile or infrastructure error."


#: Cannot run: bad usage, bad profile, unreachable target. One line, exit 2. (The shared
#: environment's error: starting and preflighting the target is harness.commands.environment's.)
RunError = SetupError


def auto_jobs() -> int:
    """What `-j auto` means on this machine."""
    return max(1, min((os.cpu_count() or 1) + 1, MAX_AUTO_JOBS))


#: More workers than this stall SQLite-backed backends and cost more in start-up than they save.
MAX_AUTO_JOBS = 4


def _jobs(text: str) -> int:
    """`-j N` or `-j auto`: the machine's cores plus one, at most MAX_AUTO_JOBS. A check mostly
    waits on sockets (a run at -j 3 kept 2 cores 60% busy), so one worker more than the cores
    overlaps the waits; measured on 2 cores against the embedded backend: -j 1 8.2 s, -j 2 5.1-5.5 s,
    -j 3 4.5 s, -j 4 4.9-5.5 s (more workers cost more start-up than they overlap)."""
    if text == "auto":
        return auto_jobs()
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"{error} (or 'auto')") from None


def _suite_dir() -> Path:
    return Path(str(importlib.resources.files("conformance_tests")))


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
        # one test at a time once the first are handed out: checks differ in length by seconds
        argv += ["-p", "xdist.plugin", "-n", str(args.jobs), "--maxschedchunk", "1"]
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
    """`b4a run`; a failure to run is one line and exit 2 (so is a bug: harness.cli catches it)."""
    try:
        return _run(args)
    except RunError as exc:
        print(f"b4a run: {exc}", file=sys.stderr)
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

    check_options(args)
    # Other installed pytest plugins (hypothesis, schemathesis...) cost seconds per worker and
    # could change the suite's behaviour: the suite loads exactly its own plugins.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    started, started_at = time.monotonic(), datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    report_dir = Path(args.report_dir)
    with tempfile.TemporaryDirectory(prefix="b4a-run-") as tmp:
        workdir = Path(tmp)
        results_file = workdir / "results.jsonl"
        with environment(args, workdir, "run") as (profile, base_url, emulator):
            name = preflight(profile, base_url)
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
