"""`b4a diff OLD NEW`: what changed between two contracts, who it breaks, and the next version."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.exit_codes import ExitCode

_FOR = {"consumers": ("consumers",), "producers": ("producers",), "both": ("consumers", "producers")}


def configure(parser: argparse.ArgumentParser) -> None:
    where = ("a contract directory (rules.json and the schemas, or a checkout holding schemas/), 'installed' "
             "(the contract inside this installed kit), history:VERSION (a release kept in "
             "fixtures/contract-history/), or a git ref of the repository (see --repo, --schemas-path)")
    parser.add_argument("old", metavar="OLD", help=f"the contract before: {where}")
    parser.add_argument("new", metavar="NEW", help="the contract after, in the same forms")
    parser.add_argument("--for", dest="side", choices=tuple(_FOR), default="both",
                        help="whose breakage sets the exit code: consumers (apps parsing notifications), "
                             "producers (backends sending them) or both (default)")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                        help="text (default), json, or markdown (a changelog section)")
    parser.add_argument("--repo", type=Path, default=Path("."), metavar="DIR",
                        help="the git repository git refs are read from (default: the current directory)")
    parser.add_argument("--schemas-path", default="schemas/", metavar="PATH",
                        help="where the contract lives inside a git ref (default: schemas/)")
    parser.add_argument("--require-version", action="store_true",
                        help="also exit 1 when NEW's contract_version is not the one the changes demand")
    parser.description = ("Compare two contracts (schemas and rules.json). Every change is classified, per variant, "
                          "as breaking for consumers, breaking for producers, or compatible, with its rule id, JSON "
                          "pointer and reason; the next contract version follows (major for a breaking change, minor "
                          "for a compatible addition, patch for wording).")
    parser.epilog = ("Exit codes: 0 no breaking change for the selected side(s), 1 a breaking change (or, with "
                     "--require-version, a version that does not follow), 2 usage error or an unreadable contract.")


def run(args: argparse.Namespace) -> int:
    from harness.evolution import Side, SnapshotError, diff_contracts, resolve
    from harness.evolution.render import FORMATS

    try:
        old = resolve(args.old, repo=args.repo, schemas_path=args.schemas_path)
        new = resolve(args.new, repo=args.repo, schemas_path=args.schemas_path)
        diff = diff_contracts(old, new)
        required = diff.required_version  # raises ValueError on a malformed contract_version
    except SnapshotError as exc:
        print(f"b4a diff: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    except (ValueError, KeyError, TypeError) as exc:
        # A contract that reads but does not hang together (a dangling $ref, a variant without its schema).
        print(f"b4a diff: cannot compare: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    sides = [Side(s) for s in _FOR[args.side]]
    sys.stdout.write(FORMATS[args.format](diff, sides))
    if diff.is_breaking(sides):
        return ExitCode.VIOLATION
    if args.require_version and new.version != required:
        print(f"b4a diff: {new.label} states contract_version {new.version}; the changes demand {required}", file=sys.stderr)
        return ExitCode.VIOLATION
    return ExitCode.OK
