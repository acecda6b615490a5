"""`b4a types --lang typescript|python OUT`: consumer types for every notification and its FCM data."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.exit_codes import ExitCode

_DEFAULT_NAME = {"typescript": "buddy4all.d.ts", "python": "buddy4all_types.py"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=tuple(_DEFAULT_NAME), required=True,
                        help="typescript (json-schema-to-typescript, needs Node and `npm ci`) or python "
                             "(datamodel-code-generator: pip install 'buddy4all-conformance[types]')")
    parser.add_argument("out", metavar="OUT",
                        help=f"the file to write ('-' for stdout; a directory gets {' or '.join(_DEFAULT_NAME.values())})")
    parser.description = ("Generate types for apps: one per variant (a discriminated union on message_type and "
                          "status/state), and the FCM data form of each pushed variant (every value a string, type "
                          "instead of message_type). The same types are published in docs/types.md.")
    parser.epilog = "Exit codes: 0 written, 2 usage error, a missing generator or an unwritable OUT."


def run(args: argparse.Namespace) -> int:
    from harness.types_gen import GeneratorFailed, GeneratorMissing, generate

    target = None if args.out == "-" else Path(args.out)
    if target is not None and target.is_dir():
        target = target / _DEFAULT_NAME[args.lang]
    if target is not None and not target.parent.is_dir():
        print(f"b4a types: {target.parent}: no such directory", file=sys.stderr)
        return ExitCode.ERROR
    try:
        text = generate(args.lang)
    except (GeneratorMissing, GeneratorFailed) as exc:
        print(f"b4a types: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    if target is None:
        sys.stdout.write(text)
        return ExitCode.OK
    try:
        target.write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        print(f"b4a types: {target}: {exc.strerror}", file=sys.stderr)
        return ExitCode.ERROR
    print(f"b4a types: wrote {target}", file=sys.stderr)
    return ExitCode.OK
