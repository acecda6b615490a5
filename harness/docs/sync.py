"""Compare the generated files with a docs directory, and bring the directory up to date."""
from __future__ import annotations

import dataclasses
import enum
from pathlib import Path

from harness.contract import load_contract
from harness.docs.render import HAND_WRITTEN_PAGES, NOTE, render_docs


class Change(str, enum.Enum):
    MISSING = "missing"
    STALE = "stale"
    #: A file an earlier `b4a docs` wrote that is no longer generated (a family was removed, say).
    OBSOLETE = "obsolete"


@dataclasses.dataclass(frozen=True)
class Difference:
    path: Path
    change: Change


def expected_files(out: Path) -> dict[str, str]:
    """What `b4a docs` writes into `out`: the index links the hand-written pages `out` has."""
    return render_docs(load_contract(), hand_written=tuple(page for page in HAND_WRITTEN_PAGES if (out / page).is_file()))


def _obsolete(out: Path, expected: dict[str, str]) -> list[Path]:
    if not out.is_dir():
        return []
    found = []
    for path in sorted(out.iterdir()):
        if path.name in expected or not path.is_file() or path.suffix not in (".md", ".yaml"):
            continue
        with path.open(encoding="utf-8", errors="replace") as stream:
            if NOTE in stream.readline():
                found.append(path)
    return found


def differences(out: Path) -> list[Difference]:
    """Every generated file that is missing, differs from what would be generated, or is obsolete."""
    return _differences(out, expected_files(out))


def _differences(out: Path, expected: dict[str, str]) -> list[Difference]:
    found = []
    for name, text in expected.items():
        path = out / name
        if not path.is_file():
            found.append(Difference(path, Change.MISSING))
        elif path.read_text(encoding="utf-8", errors="replace") != text:
            found.append(Difference(path, Change.STALE))
    found.extend(Difference(path, Change.OBSOLETE) for path in _obsolete(out, expected))
    return found


def write_docs(out: Path) -> list[Difference]:
    """Bring `out` up to date; returns what changed (written or, when obsolete, removed)."""
    expected = expected_files(out)
    changed = _differences(out, expected)
    out.mkdir(parents=True, exist_ok=True)
    for difference in changed:
        if difference.change is Change.OBSOLETE:
            difference.path.unlink()
        else:
            # newline="\n": the same bytes on every platform, or --check would flap.
            difference.path.write_text(expected[difference.path.name], encoding="utf-8", newline="\n")
    return changed
