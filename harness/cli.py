"""The `b4a` command line: one subcommand per module, dispatched from a table.

Each subcommand module exposes `configure(parser)` and `run(args) -> int` (or, for a module
serving several subcommands, `module:name` names an object in it that has both); it is imported
only when that subcommand is used, so `b4a validate` does not pay for the emulator's imports.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.exit_codes import ExitCode

#: subcommand -> (module, one-line help). Nested groups (`emulator fcm`) use a space.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("harness.commands.validate", "validate notification payloads or FCM messages"),
    "docs": ("harness.commands.docs", "generate (or --check) the docs from schemas and rules"),
    "diff": ("harness.commands.diff", "compare two contracts: breaking for consumers or producers, the next version"),
    "types": ("harness.commands.types", "generate consumer types (TypeScript, Python) for every notification"),
    "run": ("harness.commands.run", "run the conformance suite against a target backend"),
    "fuzz": ("harness.commands.fuzz", "fuzz the target's API from its OpenAPI document, judging every notification it causes"),
    "load": ("harness.commands.load", "many simulated users on Locust: every notification checked under load"),
    "profile check": ("harness.commands.profile:check", "validate a target profile and show what the harness will do with it"),
    "profile init": ("harness.commands.profile:init", "write a commented starting target profile"),
    "serve": ("harness.reference.command", "start the reference Buddy4all backend"),
    "emulator fcm": ("harness.emulator.fcm.command", "start the FCM HTTP v1 emulator"),
}


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors already; keep that, but never print a traceback."""


def _chosen(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line, so that only its module is imported."""
    words = [a for a in argv if not a.startswith("-")][:2]
    for name in SUBCOMMANDS:
        if name.split() == words[: len(name.split())]:
            return name
    return None


def _command(spec: str) -> Any:
    """`harness.commands.run` -> that module; `harness.commands.profile:check` -> that object of it."""
    module, _, name = spec.partition(":")
    loaded = importlib.import_module(module)
    return getattr(loaded, name) if name else loaded


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="b4a",
        description="Buddy4all notification conformance kit. Exit codes: 0 pass, "
        "1 contract violation, 2 usage or infrastructure error.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    groups: dict[str, argparse._SubParsersAction] = {}
    for name, (module, help_text) in SUBCOMMANDS.items():
        parts = name.split()
        target = subparsers
        if len(parts) == 2:
            if parts[0] not in groups:
                group = subparsers.add_parser(parts[0], help=f"{parts[0]} commands")
                groups[parts[0]] = group.add_subparsers(dest="subcommand", metavar="KIND")
                groups[parts[0]].required = True
            target = groups[parts[0]]
        sub = target.add_parser(parts[-1], help=help_text, description=help_text)
        sub.set_defaults(_module=module)
        if only is not None and name != only:
            continue  # listed in the help, configured only when chosen
        try:
            _command(module).configure(sub)
        except ModuleNotFoundError as exc:
            if exc.name != module.partition(":")[0]:
                raise
            sub.set_defaults(_missing=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=_chosen(argv) or "")
    args = parser.parse_args(argv)
    if not getattr(args, "_module", None):
        parser.print_help(sys.stderr)
        return ExitCode.ERROR
    if getattr(args, "_missing", False):
        print(f"b4a: '{args.command}' is not available in this build", file=sys.stderr)
        return ExitCode.ERROR
    name = " ".join(part for part in (getattr(args, "command", None), getattr(args, "subcommand", None)) if part)
    try:
        return int(_command(args._module).run(args))
    except KeyboardInterrupt:
        print("b4a: interrupted", file=sys.stderr)
        return ExitCode.ERROR
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a bug must still exit 2, in one line
        print(f"b4a {name}: {internal_error(exc)}", file=sys.stderr)
        return ExitCode.ERROR


def internal_error(exc: BaseException) -> str:
    """One line for a bug: where it happened (the innermost frame) and what it was."""
    where = exc.__traceback__
    while where is not None and where.tb_next is not None:
        where = where.tb_next
    place = f" ({Path(where.tb_frame.f_code.co_filename).name}:{where.tb_lineno})" if where else ""
    return f"internal error{place}: {type(exc).__name__}: {exc}".splitlines()[0]
