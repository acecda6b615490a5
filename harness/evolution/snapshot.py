"""A contract as it was somewhere: a directory, the installed package, a release kept in the history,
or a git ref of a repository that vendors the schemas. Read raw (a dict per JSON file), never through
`load_contract()`: an old contract may lack what today's loader requires (1.0.0 had no identity_keys).
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath
from typing import Any

from harness.contract import data_dir

#: The word that names the contract inside the installed package.
INSTALLED = "installed"
#: `history:1.0.0` names a release kept in fixtures/contract-history/ (of the installed package).
HISTORY_PREFIX = "history:"
HISTORY_DIR = "contract-history"
DEFAULT_SCHEMAS_PATH = "schemas/"


class SnapshotError(Exception):
    """A contract that cannot be read: one line naming what and where (exit 2)."""


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """Every JSON file of one contract, parsed, by file name; `label` says where it came from."""

    label: str
    files: dict[str, Any]

    @property
    def rules(self) -> dict[str, Any]:
        return self.files["rules.json"]  # type: ignore[no-any-return]

    @property
    def version(self) -> str:
        return str(self.rules.get("contract_version", "0.0.0"))


def _parse(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{where}:{exc.lineno}:{exc.colno}: malformed JSON: {exc.msg}") from None


def _checked(label: str, files: dict[str, Any]) -> Snapshot:
    rules = files.get("rules.json")
    if rules is None:
        raise SnapshotError(f"{label}: no rules.json (not a contract directory)")
    if not isinstance(rules, dict) or not isinstance(rules.get("families"), list) or not isinstance(rules.get("rules"), list):
        raise SnapshotError(f"{label}/rules.json: not a contract's rules (needs 'rules' and 'families' lists)")
    for family in rules["families"]:
        schema = family.get("schema") if isinstance(family, dict) else None
        if not isinstance(schema, str) or schema not in files:
            raise SnapshotError(f"{label}: rules.json names the schema {schema!r}, which is not in the contract")
    return Snapshot(label, files)


def _from_traversable(root: Traversable, label: str) -> Snapshot:
    files = {}
    for node in sorted(root.iterdir(), key=lambda n: n.name):
        if node.name.endswith(".json") and node.is_file():
            files[node.name] = _parse(node.read_text(encoding="utf-8"), f"{label}/{node.name}")
    return _checked(label, files)


def from_directory(path: Path) -> Snapshot:
    """A folder holding rules.json and the schemas (or a checkout whose schemas/ holds them)."""
    if not path.is_dir():
        raise SnapshotError(f"{path}: not a directory")
    if not (path / "rules.json").is_file() and (path / "schemas" / "rules.json").is_file():
        path = path / "schemas"
    try:
        return _from_traversable(path, str(path))
    except OSError as exc:
        raise SnapshotError(f"{exc.filename or path}: cannot read: {exc.strerror}") from None


def installed() -> Snapshot:
    return _from_traversable(data_dir("schemas"), INSTALLED)


def history_root() -> Traversable:
    return data_dir("fixtures") / HISTORY_DIR


def history_versions() -> list[str]:
    """The releases kept in fixtures/contract-history/, oldest first."""
    root = history_root()
    if not root.is_dir():
        return []
    return sorted((node.name for node in root.iterdir() if node.is_dir()), key=version_key)


def from_history(version: str) -> Snapshot:
    node = history_root() / version
    if not node.is_dir():
        known = ", ".join(history_versions()) or "none"
        raise SnapshotError(f"{HISTORY_PREFIX}{version}: no such release in {HISTORY_DIR}/ (kept: {known})")
    return _from_traversable(node, f"{HISTORY_PREFIX}{version}")


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, timeout=60)


def is_git_ref(ref: str, repo: Path) -> bool:
    if shutil.which("git") is None or ref.startswith("-"):
        return False
    return _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode == 0


def from_git(ref: str, repo: Path, schemas_path: str = DEFAULT_SCHEMAS_PATH) -> Snapshot:
    """The contract at `ref`: every *.json directly under `schemas_path`, read with `git show`."""
    folder = PurePosixPath(schemas_path.strip("/") or ".")
    label = f"{ref}:{folder}"
    listed = _git(repo, "ls-tree", "--name-only", f"{ref}:{folder}")
    if listed.returncode != 0:
        raise SnapshotError(f"{label}: no such folder at that ref (set --schemas-path)")
    files = {}
    for name in listed.stdout.decode().split():
        if not name.endswith(".json"):
            continue
        shown = _git(repo, "show", f"{ref}:{folder / name}")
        if shown.returncode != 0:
            raise SnapshotError(f"{label}/{name}: cannot read: {shown.stderr.decode().strip()}")
        files[name] = _parse(shown.stdout.decode("utf-8", errors="replace"), f"{label}/{name}")
    return _checked(label, files)


def resolve(spec: str, *, repo: Path, schemas_path: str = DEFAULT_SCHEMAS_PATH) -> Snapshot:
    """OLD or NEW of `b4a diff`: `installed`, `history:VERSION`, a directory, else a git ref of `repo`."""
    if spec == INSTALLED:
        return installed()
    if spec.startswith(HISTORY_PREFIX):
        return from_history(spec[len(HISTORY_PREFIX):])
    path = Path(spec)
    if path.is_dir():
        return from_directory(path)
    if path.exists():
        raise SnapshotError(f"{spec}: a file, not a contract directory")
    if is_git_ref(spec, repo):
        return from_git(spec, repo, schemas_path)
    raise SnapshotError(
        f"{spec}: not a contract directory, '{INSTALLED}', {HISTORY_PREFIX}VERSION, nor a git ref of the repository at {repo}"
    )


def version_key(version: str) -> tuple[int, ...]:
    """`1.10.0` after `1.9.0`; anything unparsable sorts first."""
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return (-1,)
