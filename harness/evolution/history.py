"""The released contracts kept in fixtures/contract-history/<version>/, and whether a contract's
version follows from the last release (the rule `b4a diff` states: major for a breaking change,
minor for a compatible addition, patch for wording, unchanged for no change)."""
from __future__ import annotations

from harness.evolution.diff import diff_contracts
from harness.evolution.snapshot import Snapshot, from_history, history_versions, version_key


def version_problem(previous: Snapshot, current: Snapshot) -> str | None:
    """None when `current`'s contract_version is the one its changes since `previous` demand."""
    diff = diff_contracts(previous, current)
    if current.version == diff.required_version:
        return None
    breaking = [c for c in diff.changes if c.bump == diff.bump]
    example = f" (e.g. {breaking[0].kind} at {breaking[0].scope} {breaking[0].pointer})" if breaking and diff.changes else ""
    return (f"{current.label} states contract_version {current.version}, but its changes since {previous.label} "
            f"({previous.version}) demand {diff.required_version}{example}")


def release_problem(current: Snapshot) -> str | None:
    """The repository's contract against the latest release kept in the history: the same version
    means the same contract; a later version must be the one `b4a diff` demands."""
    releases = history_versions()
    if not releases:
        return "no release is kept in fixtures/contract-history/"
    newer = [v for v in releases if version_key(v) > version_key(current.version)]
    if newer:
        return f"{current.label} states contract_version {current.version}, older than the kept release {newer[-1]}"
    return version_problem(from_history(releases[-1]), current)


def consecutive_releases() -> list[tuple[str, str]]:
    releases = history_versions()
    return list(zip(releases, releases[1:]))
