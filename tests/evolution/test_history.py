"""The contract's version follows from its changes: the repository's contract against the latest
release kept in fixtures/contract-history/, and each kept release against the one before."""
from __future__ import annotations

from typing import Any

import pytest

from harness.evolution.diff import diff_contracts
from harness.evolution.history import consecutive_releases, release_problem, version_problem
from harness.evolution.snapshot import Snapshot, from_directory, from_history, history_versions

from .conftest import ROOT, mutated, variant_schema

#: Releases whose version does NOT follow from the diff's rules, kept visible rather than bent:
#: xfail(strict) fails the day the history is corrected, so the marker cannot outlive the problem.
MISVERSIONED: dict[tuple[str, str], str] = {}


def test_history_holds_the_releases() -> None:
    assert history_versions()[:3] == ["1.0.0", "2.0.0", "3.0.0"]
    for version in history_versions():
        assert from_history(version).version == version, f"history/{version}/rules.json states another contract_version"


def test_the_repository_contract_follows_from_the_latest_release() -> None:
    """Changing schemas/ without a new contract_version (or with the wrong one) fails here; `b4a diff
    history:<latest> schemas` says which version the change demands."""
    assert release_problem(from_directory(ROOT / "schemas")) is None


@pytest.mark.parametrize(
    ("previous", "current"),
    [pytest.param(*pair, marks=[pytest.mark.xfail(strict=True, reason=MISVERSIONED[pair])] if pair in MISVERSIONED else [],
                  id=f"{pair[0]}->{pair[1]}") for pair in consecutive_releases()],
)
def test_each_release_follows_from_the_one_before(previous: str, current: str) -> None:
    problem = version_problem(from_history(previous), from_history(current))
    assert problem is None, problem


def test_what_2_0_0_changed_and_what_it_demanded() -> None:
    """The verdict on 1.0.0 -> 2.0.0, spelled out: one producer-breaking change (AUTH-003, a new MUST),
    identity keys as compatible additions, three reworded rules flagged for review (DLV-008's new
    wording is the substantive break: notifying after an accepted invalid transition is now a MUST)."""
    diff = diff_contracts(from_history("1.0.0"), from_history("2.0.0"))
    assert [(c.kind, c.rule) for c in diff.changes if c.breaks_producers] == [("rule-added", "AUTH-003")]
    assert not any(c.breaks_consumers for c in diff.changes)
    assert sorted(c.rule for c in diff.changes if c.kind == "rule-reworded") == ["CALL-002", "CALL-003", "DLV-008", "DLV-008"]
    assert all(c.review for c in diff.changes if c.kind == "rule-reworded")
    assert sorted(c.scope for c in diff.changes if c.kind == "identity-key-added") == ["call", "chat", "chat", "game-session"]
    assert diff.required_version == "2.0.0"


def test_what_3_0_0_changed_and_what_it_demanded() -> None:
    """The security rules: eight new MUSTs break producers (a major step), two new SHOULDs are
    compatible additions; nothing changes for consumers (no payload changed)."""
    diff = diff_contracts(from_history("2.0.0"), from_history("3.0.0"))
    added = [(c.rule, c.breaks_producers) for c in diff.changes if c.kind == "rule-added"]
    assert sorted(added) == [(f"SEC-{n:03d}", n not in (6, 9)) for n in range(1, 11)]
    assert [c for c in diff.changes if c.kind != "rule-added"] == []
    assert not any(c.breaks_consumers for c in diff.changes)
    assert diff.required_version == "3.0.0"


def _with_version(snapshot: Snapshot, version: str, change: Any = None) -> Snapshot:
    def edit(files: Any) -> None:
        if change:
            change(files)
        files["rules.json"]["contract_version"] = version
    return mutated(edit, label=f"candidate {version}")


def _optional_key(files: Any) -> None:
    variant_schema(files, "chat", "new_message")["properties"]["sender_name"] = {"type": "string"}


@pytest.mark.parametrize(("version", "change", "follows"), [
    ("3.0.0", None, True),               # unchanged: the same version
    ("3.0.0", _optional_key, False),     # changed without a bump
    ("3.0.1", _optional_key, False),     # an addition is a minor step, not a patch
    ("3.1.0", _optional_key, True),
    ("4.0.0", _optional_key, False),     # nor a major one
    ("2.9.9", None, False),              # older than the release
])
def test_the_check_fails_a_version_that_does_not_follow(base: Snapshot, version: str, change: Any, follows: bool) -> None:
    problem = release_problem(_with_version(base, version, change))
    assert (problem is None) is follows, problem
