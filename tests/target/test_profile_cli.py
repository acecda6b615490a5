"""`b4a profile check` and `b4a profile init` as a team runs them: the real CLI in a subprocess (in-process
`main` where only the output matters, to keep the file fast: every interpreter start costs about 2 s)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.cli import main
from harness.profile import load_profile, profile_schema
from harness.profile.actions import ACTIONS
from harness.profile.starter import FRAMINGS, starter_profile

PROFILES = Path(__file__).resolve().parents[2] / "fixtures" / "profiles"


def b4a(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("B4A_")}
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=60, env={**environment, **(env or {})})


@pytest.mark.parametrize("name", sorted(path.name for path in PROFILES.glob("*.yaml")))
def test_every_shipped_profile_passes_the_check(name: str, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("B4A_BASE_URL", raising=False)
    assert main(["profile", "check", str(PROFILES / name)]) == 0, capsys.readouterr().err
    out, err = capsys.readouterr()
    assert out.startswith(f"{PROFILES / name}: valid profile ") and err == ""


def test_the_summary_says_what_the_harness_will_do() -> None:
    done = b4a("profile", "check", str(PROFILES / "rails-example.yaml"), "--base-url", "https://api.example.test/api/v1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "  base_url    https://api.example.test/api/v1" in lines
    assert "  auth        every request but auth: false ones sends the header Authorization: Bearer <token>" in lines
    assert "  websocket   wss://api.example.test/cable?token=***  (sample user, token redacted)" in lines
    assert "  framing     actioncable, channel identifier {'channel': 'NotificationsChannel'}" in lines
    assert "  fcm         proxy: the backend reaches FCM through the emulator's HTTPS proxy" in lines
    assert "  games       looked up once per run by games.lookup (1 step(s))" in lines
    # every action of the table, in table order, declared or not
    marked = [line[6:].split()[0].rstrip(":") for line in lines if line.startswith(("  [x] ", "  [ ] ")) and "->" not in line]
    assert marked == [spec.name for spec in ACTIONS]
    at = lines.index("  [x] game.create")
    assert lines[at + 1:at + 3] == [
        "        POST /game_sessions",
        "        receives {{game_id}} (from the games section), {{game_level}}, {{scheduled_at}}; extracts session_id (required)"]
    assert "  [ ] game.start: not declared; game.transition moves sessions to started" in lines
    assert "  [ ] presence.request: not declared; the harness waits presence.settle_seconds (1 s) instead" in lines
    assert "  [x] accepted->started      by game.transition" in lines
    assert "  [ ] finished->resumed      not listed in supports.game_transitions" in lines


def test_a_broken_profile_lists_every_problem_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = yaml.safe_load((PROFILES / "reference.yaml").read_text())
    document["actions"]["friendship.accept"][0]["path"] = "/friendships/{{thread_id}}/accept"
    document["actions"]["chat.post"][0].pop("extract")
    document["actions"]["chat.post"][1]["path"] = "/chat/messages"
    document["timeouts"]["http_seconds"] = 0
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    assert main(["profile", "check", str(path)]) == 2
    assert capsys.readouterr() == ("", f"{path}: timeouts.http_seconds: must be > 0, got 0\n"), "schema errors come first"
    document["timeouts"]["http_seconds"] = 5
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    done = b4a("profile", "check", str(path))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"{path}: actions.friendship.accept[0].path: unknown placeholder {{{{thread_id}}}} "
        "(known here: actor, friendship_id, name, other, token, user)",
        f"{path}: actions.chat.post: no step extracts thread_id (chat.post must extract thread_id; add e.g. extract: {{thread_id: /id}})",
    ]
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert main(["profile", "check", str(tmp_path / "nope.yaml")]) == 2
    assert capsys.readouterr().err == f"{tmp_path / 'nope.yaml'}: cannot read the profile: No such file or directory\n"


def test_base_url_override_wins_over_an_unset_variable(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("B4A_BASE_URL", raising=False)
    path = tmp_path / "p.yaml"
    path.write_text((PROFILES / "reference.yaml").read_text().replace("${B4A_BASE_URL:-http://127.0.0.1:8080}", "${B4A_BASE_URL}"))
    assert main(["profile", "check", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"{path}: base_url: environment variable B4A_BASE_URL is not set (set it, or give a default: ${{B4A_BASE_URL:-value}})\n")
    done = b4a("profile", "check", str(path), "--base-url", "http://10.1.2.3:81/v2")
    assert done.returncode == 0 and "  websocket   ws://10.1.2.3:81/ws?token=***  (sample user, token redacted)" in done.stdout


def test_init_writes_a_profile_that_passes_the_check(tmp_path: Path) -> None:
    done = b4a("profile", "init", cwd=tmp_path)
    written = tmp_path / "b4a-profile.yaml"
    assert done.returncode == 0 and done.stdout.strip() == (
        "wrote b4a-profile.yaml; adapt it to your API, then run: b4a profile check b4a-profile.yaml")
    assert written.read_text() == starter_profile("plain")
    checked = b4a("profile", "check", str(written))
    assert checked.returncode == 0, checked.stderr
    assert "  framing     plain" in checked.stdout


@pytest.mark.parametrize("framing", FRAMINGS)
def test_both_starting_profiles_pass_the_check(tmp_path: Path, framing: str, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("B4A_BASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["profile", "init", "--framing", framing, "p.yaml"]) == 0
    assert main(["profile", "check", "p.yaml"]) == 0, capsys.readouterr().err
    assert f"  framing     {framing}" in capsys.readouterr().out
    assert load_profile(tmp_path / "p.yaml").websocket.framing == framing


def test_init_explains_every_key_and_names_every_action() -> None:
    text = starter_profile()
    for key in profile_schema()["properties"]:
        assert f"\n{key}:" in text or f"\n# {key}:" in text, key
    for spec in ACTIONS:
        if spec.is_abstract:
            assert f"\n  {spec.name}:" in text or f"\n  # {spec.name}:" in text, spec.name
    assert text.count("\n#") >= 40, "every key is explained"


def test_init_refuses_to_overwrite_without_force_and_writes_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("# my own work\n")
    refused = b4a("profile", "init", str(path))
    assert refused.returncode == 2 and refused.stderr.strip() == f"b4a profile init: {path} exists; use --force to overwrite it"
    assert path.read_text() == "# my own work\n"
    assert main(["profile", "init", str(path), "--force", "--framing", "actioncable"]) == 0
    assert path.read_text() == starter_profile("actioncable")
    stdout = b4a("profile", "init", "-")
    assert stdout.returncode == 0 and stdout.stdout == starter_profile("plain") and stdout.stderr == ""


def test_init_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "init", str(tmp_path / "no-such-dir" / "p.yaml")]) == 2
    assert capsys.readouterr().err == f"b4a profile init: {tmp_path / 'no-such-dir' / 'p.yaml'}: No such file or directory\n"
    assert main(["profile", "init", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"b4a profile init: {tmp_path}: is a directory; give a file name\n"
    with pytest.raises(SystemExit) as exited:
        main(["profile", "init", "--framing", "socketio", "-"])
    assert exited.value.code == 2 and "invalid choice: 'socketio'" in capsys.readouterr().err
