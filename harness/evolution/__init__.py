"""Contract evolution: read a contract from anywhere (harness.evolution.snapshot), compare two
(harness.evolution.diff), judge each change for consumers and producers (model), render the result."""
from harness.evolution.diff import ContractDiff, diff_contracts
from harness.evolution.model import Bump, Change, Side, next_version
from harness.evolution.snapshot import Snapshot, SnapshotError, resolve

__all__ = ["Bump", "Change", "ContractDiff", "Side", "Snapshot", "SnapshotError", "diff_contracts", "next_version", "resolve"]
