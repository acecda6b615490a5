"""The generated consumer types, judged by the real compilers: every valid fixture (payload, and the
FCM data form of pushed ones) type-checks against the union types, and every invalid fixture a type
can reject (a missing key, a wrong JSON type, an unknown status) fails for that reason, at its line,
while the same payload with only that key repaired passes. One tsc run and one mypy --strict run."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from harness.types_gen import GeneratorMissing, generate

from .conftest import ROOT
from .type_modules import Line, lines, python_module, typescript_module

ENTRIES = lines()
TSC = ROOT / "node_modules" / ".bin" / "tsc"
TS_HEADER = re.compile(r"^check\.ts\((\d+),\d+\): error (TS\d+): (.*)$")
MYPY_LINE = re.compile(r"^check_types\.py:(\d+): error: (.*)$")


def _generated(language: str) -> str:
    try:
        return generate(language)
    except GeneratorMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def typescript_diagnostics(tmp_path_factory: pytest.TempPathFactory) -> dict[int, str]:
    """Line number (1-based) in check.ts -> the diagnostic text (all its lines)."""
    if not TSC.is_file() or shutil.which("node") is None:
        pytest.skip("typescript is not installed: run `npm ci`")
    folder = tmp_path_factory.mktemp("ts")
    (folder / "types.ts").write_text(_generated("typescript"))
    (folder / "check.ts").write_text(typescript_module(ENTRIES, "types"))
    (folder / "tsconfig.json").write_text('{"compilerOptions": {"strict": true, "noEmit": true, "target": "es2020", '
                                          '"module": "esnext", "moduleResolution": "bundler", "types": []}, '
                                          '"files": ["check.ts", "types.ts"]}')
    done = subprocess.run([str(TSC), "-p", "tsconfig.json", "--pretty", "false"], cwd=folder,
                          capture_output=True, text=True, timeout=120)
    found: dict[int, str] = defaultdict(str)
    current = None
    for line in done.stdout.splitlines():
        header = TS_HEADER.match(line)
        if header:
            current = int(header.group(1))
            found[current] += f"{header.group(2)} {header.group(3)}\n"
        elif current is not None and line.startswith(" "):
            found[current] += line.strip() + "\n"
        else:
            raise AssertionError(f"unexpected tsc output (types.ts itself?): {line}")
    return dict(found)


@pytest.fixture(scope="module")
def mypy_diagnostics(tmp_path_factory: pytest.TempPathFactory) -> dict[int, str]:
    folder = tmp_path_factory.mktemp("py")
    (folder / "b4a_types.py").write_text(_generated("python"))
    (folder / "check_types.py").write_text(python_module(ENTRIES, "b4a_types"))
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", os.devnull,
                           "--no-error-summary", "--hide-error-context", "check_types.py", "b4a_types.py"],
                          cwd=folder, capture_output=True, text=True, timeout=300, env={**os.environ, "MYPYPATH": str(folder)})
    found: dict[int, str] = defaultdict(str)
    for line in done.stdout.splitlines():
        match = MYPY_LINE.match(line)
        assert match, f"unexpected mypy output (b4a_types.py itself?): {line}"
        found[int(match.group(1))] += match.group(2) + "\n"
    return dict(found)


def _line_of(entry: Line, header_lines: int) -> int:
    return ENTRIES.index(entry) + header_lines + 1


def test_the_fixtures_cover_every_reason_and_the_push_form() -> None:
    reasons = {e.reason for e in ENTRIES}
    assert {"valid", "missing", "wrong-type", "unknown-status", "repaired"} <= reasons
    assert any(e.target == "PushData" for e in ENTRIES)
    assert any(e.key == "thread/id" and e.reason == "wrong-type" for e in ENTRIES)  # a nested key too


def _ts_reason(entry: Line) -> list[str]:
    leaf = entry.key.split("/")[-1]
    if entry.reason == "missing":
        return [f"Property '{leaf}' is missing"]
    if entry.reason == "unknown-status":
        return [f"Types of property '\"{entry.key}\"' are incompatible", f"Type '\"{entry.value}\"' is not assignable"]
    path = "".join(f'["{p}"]' for p in entry.key.split("/")[:-1]) + ("." if "/" in entry.key else "")
    where = f"The types of '{path}{leaf}' are incompatible" if "/" in entry.key else f"Types of property '\"{leaf}\"' are incompatible"
    return [where, "is not assignable to type"]


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.reason in ("valid", "repaired")],
                         ids=lambda e: f"{e.fixture}:{e.reason}")
def test_typescript_accepts(entry: Line, typescript_diagnostics: dict[int, str]) -> None:
    assert _line_of(entry, 1) not in typescript_diagnostics, typescript_diagnostics.get(_line_of(entry, 1))


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.reason not in ("valid", "repaired")],
                         ids=lambda e: f"{e.fixture}:{e.reason}")
def test_typescript_rejects_for_the_reason(entry: Line, typescript_diagnostics: dict[int, str]) -> None:
    text = typescript_diagnostics.get(_line_of(entry, 1), "")
    assert text.startswith("TS2322 ") or text.startswith("TS2741 "), text or "no error"
    for expected in _ts_reason(entry):
        assert expected in text, text


def _mypy_reason(entry: Line) -> str:
    leaf = entry.key.split("/")[-1]
    if entry.reason == "missing":
        return f'Missing key "{leaf}" for TypedDict'
    if entry.reason == "unknown-status":
        return "matches cleanly"  # none of the family's variants; the repaired control line proves it is the status
    return f'TypedDict item "{leaf}" has type'


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.reason in ("valid", "repaired")],
                         ids=lambda e: f"{e.fixture}:{e.reason}")
def test_mypy_accepts(entry: Line, mypy_diagnostics: dict[int, str]) -> None:
    assert _line_of(entry, 2) not in mypy_diagnostics, mypy_diagnostics.get(_line_of(entry, 2))


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.reason not in ("valid", "repaired")],
                         ids=lambda e: f"{e.fixture}:{e.reason}")
def test_mypy_rejects_for_the_reason(entry: Line, mypy_diagnostics: dict[int, str]) -> None:
    text = mypy_diagnostics.get(_line_of(entry, 2), "")
    assert _mypy_reason(entry) in text, text or "no error"


def test_nothing_else_is_reported(typescript_diagnostics: dict[int, str], mypy_diagnostics: dict[int, str]) -> None:
    """No diagnostic outside the invalid lines: the generated types themselves compile cleanly."""
    invalid = {ENTRIES.index(e) for e in ENTRIES if e.reason not in ("valid", "repaired")}
    assert {n - 2 for n in typescript_diagnostics} <= invalid
    assert {n - 3 for n in mypy_diagnostics} <= invalid
