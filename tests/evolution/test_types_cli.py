"""`b4a types` through the CLI, and docs/types.md kept current by `b4a docs`."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.types_gen import generators
from harness.types_gen.page import PAGE, page_text

from .conftest import ROOT


@pytest.fixture(scope="module")
def typescript_text() -> str:
    try:
        return generators.typescript()
    except generators.GeneratorMissing as exc:
        pytest.skip(str(exc))


def test_writes_the_file_and_a_directory_gets_the_default_name(tmp_path: Path, typescript_text: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["types", "--lang", "typescript", str(tmp_path / "app.d.ts")]) == 0
    assert (tmp_path / "app.d.ts").read_text() == typescript_text
    assert main(["types", "--lang", "python", str(tmp_path)]) == 0
    text = (tmp_path / "buddy4all_types.py").read_text()
    assert "class FriendshipNewRequest(TypedDict):" in text and "status: Literal['new_request']" in text
    assert "class FriendshipNewRequestPush(TypedDict):" in text and "type: Literal['api_friendship_status']" in text
    assert capsys.readouterr().err.splitlines() == [f"b4a types: wrote {tmp_path / 'app.d.ts'}",
                                                    f"b4a types: wrote {tmp_path / 'buddy4all_types.py'}"]


def test_dash_writes_to_stdout(typescript_text: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["types", "--lang", "typescript", "-"]) == 0
    out = capsys.readouterr().out
    assert out == typescript_text
    assert 'export type Notification = FriendshipNotification | GameSessionNotification | ChatNotification | CallNotification;' in out
    assert 'status: "new_request";' in out and "export interface ChatNewMessagePush {" in out


def test_a_missing_directory_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["types", "--lang", "python", str(tmp_path / "no" / "x.py")]) == 2
    assert capsys.readouterr().err == f"b4a types: {tmp_path / 'no'}: no such directory\n"


def test_a_missing_generator_is_one_line_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(generators, "CHECKOUT", tmp_path)  # a checkout without node_modules
    monkeypatch.setenv("PATH", str(tmp_path))               # and no json2ts on PATH
    assert main(["types", "--lang", "typescript", "-"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("b4a types: TypeScript types need json-schema-to-typescript: run `npm ci`") and err.count("\n") == 1


def test_unknown_language_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["types", "--lang", "cobol", "-"])
    assert exited.value.code == 2


def test_the_committed_types_page_is_current(typescript_text: str) -> None:
    assert (ROOT / "docs" / PAGE).read_text() == page_text()


def test_docs_check_names_a_stale_types_page(tmp_path: Path, typescript_text: str, capsys: pytest.CaptureFixture[str]) -> None:
    """In a checkout (schemas/ beside the docs) `b4a docs` writes types.md and --check guards it."""
    (tmp_path / "schemas").mkdir()
    out = tmp_path / "docs"
    assert main(["docs", "--out", str(out)]) == 0
    page = out / PAGE
    assert page.is_file()
    page.write_text(page.read_text().replace("friend_id: number;", "friend_id: string;", 1))
    capsys.readouterr()
    assert main(["docs", "--check", "--out", str(out)]) == 1
    assert capsys.readouterr().out.splitlines() == [f"{page}: stale"]


def test_an_installed_kit_writes_no_types_page(tmp_path: Path) -> None:
    assert main(["docs", "--out", str(tmp_path / "docs")]) == 0
    assert not (tmp_path / "docs" / PAGE).exists()
