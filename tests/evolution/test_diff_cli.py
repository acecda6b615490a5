"""`b4a diff` through the CLI: sources (directories, installed, history, git refs), --for, formats,
exit codes, and one-line errors for anything it cannot read."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main

from .conftest import ROOT, mutated, variant, variant_schema, write_contract


def _required_key(files: Any) -> None:  # breaks producers only
    schema = variant_schema(files, "chat", "new_message")
    schema["properties"]["sent_at"] = {"type": "string"}
    schema["required"].append("sent_at")


def _optional_key_made_optional(files: Any) -> None:  # breaks consumers only
    variant_schema(files, "call", "accepted")["required"].remove("call_id")


def _reworded(files: Any) -> None:
    variant_schema(files, "chat", "new_message")["properties"]["message"]["description"] = "The text."


@pytest.fixture
def contracts(tmp_path: Path, base: Any) -> dict[str, Path]:
    return {
        "base": write_contract(base, tmp_path / "base"),
        "producers": write_contract(mutated(_required_key), tmp_path / "producers"),
        "consumers": write_contract(mutated(_optional_key_made_optional), tmp_path / "consumers"),
        "wording": write_contract(mutated(_reworded), tmp_path / "wording"),
    }


@pytest.mark.parametrize(("after", "side", "code"), [
    ("producers", "both", 1), ("producers", "producers", 1), ("producers", "consumers", 0),
    ("consumers", "both", 1), ("consumers", "consumers", 1), ("consumers", "producers", 0),
    ("wording", "both", 0),
])
def test_exit_code_follows_the_selected_side(contracts: dict[str, Path], after: str, side: str, code: int,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(contracts["base"]), str(contracts[after]), "--for", side]) == code
    out = capsys.readouterr().out
    assert out.startswith(f"b4a diff: {contracts['base']} (3.0.0) -> {contracts[after]} (3.0.0)")


def test_text_names_verdict_rule_pointer_and_next_version(contracts: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    main(["diff", str(contracts["base"]), str(contracts["consumers"])])
    out = capsys.readouterr().out.splitlines()
    assert any("BREAKING consumers" in line and "call/accepted PAY-003 /call_id: 'call_id' is no longer required" in line
               for line in out), out
    assert "consumers: BREAKING (1 change)" in out and "producers: compatible" in out
    assert out[-1] == "next version: 4.0.0 (major: a breaking change; from 3.0.0); " \
                      f"{contracts['consumers']} states 3.0.0, which does not follow"


def test_json_format(contracts: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(contracts["base"]), str(contracts["wording"]), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["bump"] == "patch" and document["next_version"] == "3.0.1" and document["version_follows"] is False
    assert document["breaking"] == {"consumers": False, "producers": False}
    assert document["changes"] == [{
        "scope": "chat/new_message", "pointer": "/message", "rule": None, "kind": "annotation-changed",
        "reason": "the description changed (documentation only)", "breaks": {"consumers": False, "producers": False},
        "bump": "patch", "review": False,
    }]


def test_markdown_is_a_changelog_section(contracts: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    main(["diff", str(contracts["base"]), str(contracts["producers"]), "--format", "markdown"])
    text = capsys.readouterr().out
    assert text.startswith("## 4.0.0\n\nChanges from 3.0.0 (major: a breaking change).\n")
    section = text.split("### Breaking for producers (backends)\n\n")[1]
    assert section.startswith("- **PAY-003** `chat/new_message` `/sent_at`: 'sent_at' is a new required key")
    assert "### Breaking for consumers" not in text


def test_require_version(contracts: dict[str, Path], tmp_path: Path, base: Any) -> None:
    assert main(["diff", str(contracts["base"]), str(contracts["wording"]), "--require-version"]) == 1
    bumped = mutated(lambda files: (_reworded(files), files["rules.json"].__setitem__("contract_version", "3.0.1")))
    assert main(["diff", str(contracts["base"]), str(write_contract(bumped, tmp_path / "bumped")), "--require-version"]) == 0


def test_installed_and_history_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "history:2.0.0", "installed"]) in (0, 1)
    assert capsys.readouterr().out.startswith("b4a diff: history:2.0.0 (2.0.0) -> installed (")


def test_a_checkout_directory_means_its_schemas(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(ROOT), "installed"]) == 0
    assert "no differences" in capsys.readouterr().out


@pytest.fixture
def vendoring_repo(tmp_path: Path, base: Any) -> Path:
    """A repository that vendors the contract under vendor/b4a/ with two commits: v2.0.0, then a
    change that makes a key optional (breaking consumers)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "app"
    folder = repo / "vendor" / "b4a"
    write_contract(base, folder)
    env = ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"]

    def git(*args: str) -> None:
        subprocess.run(["git", *env, *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", ".")
    git("commit", "-q", "-m", "contract 2.0.0")
    git("tag", "v2.0.0")
    write_contract(mutated(_optional_key_made_optional), folder)
    git("commit", "-q", "-am", "call_id optional")
    return repo


def test_git_refs_with_a_schemas_path(vendoring_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["diff", "v2.0.0", "HEAD", "--repo", str(vendoring_repo), "--schemas-path", "vendor/b4a/"]
    assert main([*args, "--for", "consumers"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("b4a diff: v2.0.0:vendor/b4a (3.0.0) -> HEAD:vendor/b4a (3.0.0)")  # the tag is the app's
    assert "call/accepted PAY-003 /call_id" in out
    assert main([*args, "--for", "producers"]) == 0


def test_the_real_command_line_inside_a_repository(vendoring_repo: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "harness", "diff", "HEAD~1", "HEAD", "--schemas-path", "vendor/b4a",
                           "--for", "consumers", "--format", "json"],
                          cwd=vendoring_repo, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["breaking"] == {"consumers": True, "producers": False}


def _break_json(folder: Path) -> None:
    (folder / "chat.json").write_text('{"$id": "x",\n  "oops"\n}')


def _dangling_ref(folder: Path) -> None:
    schema = json.loads((folder / "chat.json").read_text())
    schema["$defs"]["new_message"]["properties"]["thread"]["properties"]["id"]["$ref"] = "common.json#/$defs/nope"
    (folder / "chat.json").write_text(json.dumps(schema))


def _drop_rules(folder: Path) -> None:
    (folder / "rules.json").unlink()


def _drop_family_schema(folder: Path) -> None:
    (folder / "call.json").unlink()


@pytest.mark.parametrize(("spoil", "message"), [
    (_break_json, "/chat.json:3:1: malformed JSON: Expecting ':' delimiter"),
    (_dangling_ref, "cannot compare: cannot resolve $ref 'common.json#/$defs/nope'"),
    (_drop_rules, ": no rules.json (not a contract directory)"),
    (_drop_family_schema, ": rules.json names the schema 'call.json', which is not in the contract"),
])
def test_an_unreadable_contract_is_one_line_exit_2(contracts: dict[str, Path], spoil: Any, message: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    spoil(contracts["wording"])
    assert main(["diff", str(contracts["base"]), str(contracts["wording"])]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("b4a diff: ") and message in lines[0], lines


@pytest.mark.parametrize(("args", "message"), [
    (["no-such-thing", "installed"], "b4a diff: no-such-thing: not a contract directory, 'installed', history:VERSION, nor a git ref"),
    (["history:0.9.0", "installed"], "b4a diff: history:0.9.0: no such release in contract-history/ (kept: 1.0.0, 2.0.0"),
    (["HEAD", "installed", "--schemas-path", "no/such/dir"], "b4a diff: HEAD:no/such/dir: no such folder at that ref"),
])
def test_unknown_sources_are_one_line_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["diff", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err


def test_a_file_is_not_a_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "rules.json").write_text("{}")
    assert main(["diff", str(tmp_path / "rules.json"), "installed"]) == 2
    assert "a file, not a contract directory" in capsys.readouterr().err


def test_usage_error_is_exit_2() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["diff", "installed"])
    assert exited.value.code == 2
