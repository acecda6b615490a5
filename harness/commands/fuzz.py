"""`b4a fuzz`: requests generated from the target's OpenAPI document (Schemathesis), sent as a pool
of connected users, with every WebSocket copy and push they cause judged."""
from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import random
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.commands.environment import (SetupError, add_embedded_options, add_external_options, check_options,
                                          environment, preflight)
from harness.commands.arguments import positive_int, positive_number
from harness.exit_codes import ExitCode

REPORT_FORMATS = ("json", "junit", "html")
DEFAULT_EXAMPLES = 20
DEFAULT_TIME_LIMIT = 300.0


def configure(parser: argparse.ArgumentParser) -> None:
    add_external_options(parser)
    parser.add_argument("--openapi", metavar="URL|FILE", help="the target's OpenAPI 3 document (default: BASE_URL/openapi.json)")
    parser.add_argument("--max-examples", type=positive_int, default=DEFAULT_EXAMPLES, metavar="N",
                        help=f"generated requests per operation, half of them schema-violating (default {DEFAULT_EXAMPLES}); "
                             "then N/4 stateful scenarios following the document's links")
    parser.add_argument("--seed", type=int, default=None, metavar="S",
                        help="the generation seed (default: a random one, printed); the same seed sends the same requests")
    parser.add_argument("--time-limit", type=positive_number("seconds"), default=DEFAULT_TIME_LIMIT, metavar="SECONDS",
                        help=f"stop generating after this long (default {DEFAULT_TIME_LIMIT:g}); what was sent is still judged")
    parser.add_argument("--allow-remote", action="store_true",
                        help="fuzz a target that is not on loopback (generated requests create and change real data)")
    parser.add_argument("--report-dir", default="b4a-fuzz-report", help="where report.json, junit.xml and report.html go (default: ./b4a-fuzz-report)")
    parser.add_argument("--format", dest="formats", action="append", choices=REPORT_FORMATS, help="report files to write (repeatable; default: all)")
    add_embedded_options(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="the full terminal report")
    parser.epilog = ("Findings: a 5xx or no answer (SEC-010), an answer against the document (OAS-001), an invalid "
                     "notification or push (PAY, PUSH), a notification to a user who is no party of the request "
                     "(DLV-004), a notification after a refused request (DLV-008). Exit codes: 0 no finding, "
                     "1 a finding, 2 usage or infrastructure error.")


def run(args: argparse.Namespace) -> int:
    """`b4a fuzz`; a failure to run is one line and exit 2 (so is a bug: harness.cli catches it)."""
    from harness.fuzz.session import FuzzSetupError

    try:
        return _run(args)
    except (SetupError, FuzzSetupError) as exc:
        print(f"b4a fuzz: {exc}", file=sys.stderr)
        return ExitCode.ERROR


def _run(args: argparse.Namespace) -> int:
    from harness.fuzz.engine import Budget
    from harness.fuzz.session import FuzzSetupError, is_loopback, load_openapi, run_fuzz
    from harness.profile import ProfileError, load_profile

    check_options(args)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    argv = sys.argv[sys.argv.index("fuzz") + 1:] if "fuzz" in sys.argv else []
    if args.seed is None:
        argv += ["--seed", str(seed)]  # the report's command line reproduces the run
    started_at = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="b4a-fuzz-") as tmp:
        with environment(args, Path(tmp), "fuzz") as (profile_path, base_url, emulator):
            if not args.allow_remote and not is_loopback(base_url):
                raise FuzzSetupError(f"{base_url} is not on loopback: fuzzing creates and changes real data "
                                     "(pass --allow-remote if this target is yours to break)")
            name = preflight(profile_path, base_url)
            try:
                profile = load_profile(profile_path, overrides={"base_url": base_url})
            except ProfileError as exc:
                raise SetupError(str(exc)) from None
            source = args.openapi or f"{base_url}/openapi.json"
            schema = load_openapi(source)
            inbox = _inbox(emulator, profile)
            print(f"b4a fuzz: fuzzing {base_url} ({profile_path.name}) from {source}, seed {seed}", file=sys.stderr)
            budget = Budget(max_examples=args.max_examples, seed=seed, time_limit=args.time_limit, started=time.monotonic())
            try:
                outcome = run_fuzz(profile, schema, inbox, budget,
                                   progress=lambda line: print(f"b4a fuzz: {line}", file=sys.stderr))
            finally:
                if inbox is not None:
                    inbox.close()
    return _report(args, outcome, name, base_url, argv, started_at, began)


def _inbox(emulator: str | None, profile: Any) -> Any:
    if not emulator or profile.fcm_mode == "none":
        return None
    from harness.emulator.fcm import FcmInbox, FcmInboxError

    try:
        return FcmInbox.of(emulator)
    except FcmInboxError as exc:
        raise SetupError(f"the FCM emulator at {emulator} does not answer its control API: {exc}") from None


def _report(args: argparse.Namespace, outcome: Any, name: str, base_url: str, argv: list[str], started_at: str,
            began: float) -> int:
    from harness.contract import load_contract
    from harness.fuzz.report import build_report
    from harness.report import render_terminal, write_reports
    from harness.report.model import RunInfo
    from harness.violations import Outcome

    contract = load_contract()
    try:
        version = importlib.metadata.version("buddy4all-conformance")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    run_info = RunInfo(target=name, base_url=base_url, contract_version=contract.version, harness_version=version,
                       started_at=started_at, duration_s=round(time.monotonic() - began, 2), strict=False,
                       command=" ".join(["b4a", "fuzz", *map(shlex.quote, argv)]), selection=None)
    report = build_report(outcome.fuzzer, outcome.verdicts, outcome.caused, contract, run_info, outcome.problems,
                          outcome.started)
    try:
        written = write_reports(report, Path(args.report_dir), tuple(args.formats or REPORT_FORMATS))
    except (OSError, ValueError) as exc:
        raise SetupError(f"cannot write the reports to {args.report_dir}: {exc}") from None
    render_terminal(report, sys.stdout, verbose=args.verbose)
    fuzzer = outcome.fuzzer
    findings = sum(len(c.violations) for c in report.checks)
    stopped = " (the time limit ended generation early)" if fuzzer.ran_out else ""
    print(f"b4a fuzz: {len(fuzzer.exchanges)} requests, {sum(n for n, _ in outcome.caused.values())} notifications "
          f"caused, {findings} finding(s){stopped}", file=sys.stderr)
    for kind, path in written.items():
        print(f"b4a fuzz: {kind} report: {path}", file=sys.stderr)
    outcomes = {check.outcome for check in report.checks}
    if Outcome.FAIL in outcomes:
        return ExitCode.VIOLATION
    if Outcome.ERROR in outcomes or not fuzzer.exchanges:
        return ExitCode.ERROR
    return ExitCode.OK
