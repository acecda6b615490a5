"""`b4a profile check PROFILE` and `b4a profile init [PATH]`: write and validate target profiles without a target.

`check` loads the profile exactly as `b4a run --target` does (same errors, same key paths) and, when
it is valid, prints what the harness will do with it. `init` writes a commented starting profile.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable
from pathlib import Path

from harness.exit_codes import ExitCode

__all__ = ["check", "init"]


@dataclasses.dataclass(frozen=True)
class Subcommand:
    """What harness.cli needs of a subcommand: configure its parser, run it."""

    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _configure_check(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("profile", metavar="PROFILE", help="the target profile (YAML)")
    parser.add_argument("--base-url", metavar="URL", help="override the profile's base_url, as `b4a run --base-url` does")
    parser.epilog = ("Exit codes: 0 the profile is valid (a summary is printed), 2 it is not (every problem on "
                     "stderr, one per line: file: key.path: message).")


def _run_check(args: argparse.Namespace) -> int:
    from harness.profile import ProfileError, load_profile
    from harness.profile.summary import summary_lines

    try:
        profile = load_profile(Path(args.profile), overrides={"base_url": args.base_url})
    except ProfileError as error:
        print(error, file=sys.stderr)
        return ExitCode.ERROR
    _write_stdout("\n".join(summary_lines(profile)) + "\n")
    return ExitCode.OK


def _write_stdout(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader stopped early (`| head`): not a problem of the profile, and no traceback at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _configure_init(parser: argparse.ArgumentParser) -> None:
    from harness.profile.starter import FRAMINGS

    parser.add_argument("path", metavar="PATH", nargs="?", default="b4a-profile.yaml",
                        help="where to write it (default: b4a-profile.yaml; - writes to stdout)")
    parser.add_argument("--framing", choices=FRAMINGS, default="plain",
                        help="the WebSocket framing: plain JSON frames (default) or Rails ActionCable")
    parser.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    parser.epilog = "Exit codes: 0 written, 2 PATH exists (without --force) or cannot be written."


def _run_init(args: argparse.Namespace) -> int:
    from harness.profile.starter import starter_profile

    text = starter_profile(args.framing)
    if args.path == "-":
        _write_stdout(text)
        return ExitCode.OK
    path = Path(args.path)
    if path.is_dir():
        print(f"b4a profile init: {path}: is a directory; give a file name", file=sys.stderr)
        return ExitCode.ERROR
    if path.exists() and not args.force:
        print(f"b4a profile init: {path} exists; use --force to overwrite it", file=sys.stderr)
        return ExitCode.ERROR
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        print(f"b4a profile init: {path}: {error.strerror or error}", file=sys.stderr)
        return ExitCode.ERROR
    print(f"wrote {path}; adapt it to your API, then run: b4a profile check {path}")
    return ExitCode.OK


check = Subcommand(_configure_check, _run_check)
init = Subcommand(_configure_init, _run_init)
