"""Fixtures for the docs tests: the checkout's paths, Node availability, a freshly generated docs dir."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_CHECKS = ROOT / "tests" / "node_checks"


def node_or_skip(package: str) -> str:
    """The node executable, or skip (with the reason) when node or the npm package is missing."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (Node 20 is needed for the second-validator checks)")
    if not (ROOT / "node_modules" / package / "package.json").is_file():
        pytest.skip(f"node_modules/{package} is missing: run `npm install` in {ROOT}")
    return node


def run_node(script: str, *args: str, stdin: Any = None, package: str) -> tuple[int, Any, str]:
    """Run a Node check script; returns (exit code, its JSON stdout or None, stderr)."""
    node = node_or_skip(package)
    done = subprocess.run(
        [node, str(NODE_CHECKS / script), *args],
        input=None if stdin is None else json.dumps(stdin),
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    try:
        output = json.loads(done.stdout) if done.stdout.strip() else None
    except ValueError:
        output = None
    return done.returncode, output, done.stderr


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    """A docs directory freshly written by the generator (not the committed one)."""
    from harness.docs import write_docs

    out = tmp_path / "docs"
    write_docs(out)
    return out
