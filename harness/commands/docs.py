"""`b4a docs`: write the generated docs, or with --check say which ones are stale."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.exit_codes import ExitCode


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=Path("docs"), metavar="DIR",
        help="the docs directory (default: docs/ in the current directory, i.e. the checkout's when run from its root)",
    )
    parser.add_argument(
        "--check", action="store_true",
        help="write nothing; exit 1 and name each missing, stale or obsolete file when DIR is not current",
    )
    parser.description = ("Generate docs/ from the schemas and rules: a page per family, the rules, the seed errata, "
                          "the profile reference and an AsyncAPI document. In a checkout (schemas/ beside DIR) it also "
                          "rewrites the generated `actions` part of schemas/profile.schema.json from the action table, "
                          "and --check reports it when stale.")
    parser.epilog = "Exit codes: 0 docs current (or written), 1 --check found stale docs, 2 usage error or unwritable DIR."


def run(args: argparse.Namespace) -> int:
    from harness.docs.sync import differences, write_docs  # local: Jinja2 and PyYAML only when used

    out: Path = args.out
    if out.exists() and not out.is_dir():
        print(f"b4a docs: {out}: not a directory", file=sys.stderr)
        return ExitCode.ERROR
    try:
        if args.check:
            stale = differences(out)
            for difference in stale:
                print(f"{difference.path}: {difference.change.value}")
            if stale:
                command = "b4a docs" if out == Path("docs") else f"b4a docs --out {out}"
                print(f"b4a docs: {len(stale)} file(s) in {out} are not current; run `{command}` and commit them", file=sys.stderr)
                return ExitCode.VIOLATION
            print(f"b4a docs: {out} is current")
            return ExitCode.OK
        changed = write_docs(out)
    except OSError as exc:
        print(f"b4a docs: {exc.filename or out}: {exc.strerror}", file=sys.stderr)
        return ExitCode.ERROR
    except (KeyError, ValueError) as exc:
        # The contract data itself is inconsistent (a variant without an example, an unknown rule id).
        print(f"b4a docs: cannot generate the docs: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    for difference in changed:
        action = "removed" if difference.change.value == "obsolete" else "wrote"
        print(f"{action} {difference.path}")
    print(f"b4a docs: {len(changed)} file(s) changed in {out}" if changed else f"b4a docs: {out} was already current")
    return ExitCode.OK
