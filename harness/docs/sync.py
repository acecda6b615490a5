"""Compare the generated files with a docs directory, and bring the directory up to date.

Besides the pages, the profile schema beside the docs (`schemas/profile.schema.json` next to
`docs/`, i.e. in a checkout) is generated too: its `actions` part comes from the action table.
"""
from __future__ import annotations

import dataclasses
import enum
from pathlib import Path

from harness.contract import load_contract
from harness.docs.render import HAND_WRITTEN_PAGES, NOTE, render_docs
from harness.profile.schema_file import FILE_NAME as PROFILE_SCHEMA, generated_text as profile_schema_text
from harness.types_gen.page import types_page


class Change(str, enum.Enum):
    MISSING = "missing"
    STALE = "stale"
    #: A file an earlier `b4a docs` wrote that is no longer generated (a family was removed, say).
    OBSOLETE = "obsolete"


@dataclasses.dataclass(frozen=True)
class Difference:
    path: Path
    change: Change


def expected_files(out: Path, *, also: tuple[str, ...] = ()) -> dict[str, str]:
    """What `b4a docs` writes into `out`: the index links the pages of HAND_WRITTEN_PAGES that `out`
    has, or that this run writes there too (`also`)."""
    present = tuple(page for page in HAND_WRITTEN_PAGES if (out / page).is_file() or page in also)
    return render_docs(load_contract(), hand_written=present)


def _targets(out: Path) -> dict[Path, str]:
    """Every generated file by its path: the pages in `out`, and the profile schema of the checkout beside it."""
    types = types_page(out)  # docs/types.md, the consumer types (harness.types_gen), in a checkout
    files = {out / name: text for name, text in expected_files(out, also=tuple(p.name for p in types if p.parent == out)).items()}
    schema = out.parent / "schemas" / PROFILE_SCHEMA
    if schema.is_file():  # a checkout (an installed kit has no schemas/ beside the docs it writes)
        files[schema] = profile_schema_text(schema)
    files.update(types)
    return files


def _obsolete(out: Path, expected: set[str]) -> list[Path]:
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
    return _differences(out, _targets(out))


def _differences(out: Path, expected: dict[Path, str]) -> list[Difference]:
    found = []
    for path, text in expected.items():
        if not path.is_file():
            found.append(Difference(path, Change.MISSING))
        elif path.read_text(encoding="utf-8", errors="replace") != text:
            found.append(Difference(path, Change.STALE))
    found.extend(Difference(path, Change.OBSOLETE) for path in _obsolete(out, {path.name for path in expected if path.parent == out}))
    return found


def write_docs(out: Path) -> list[Difference]:
    """Bring `out` up to date; returns what changed (written or, when obsolete, removed)."""
    expected = _targets(out)
    changed = _differences(out, expected)
    out.mkdir(parents=True, exist_ok=True)
    for difference in changed:
        if difference.change is Change.OBSOLETE:
            difference.path.unlink()
        else:
            # newline="\n": the same bytes on every platform, or --check would flap.
            difference.path.write_text(expected[difference.path], encoding="utf-8", newline="\n")
    return changed
