"""A bug in any command is one line on stderr and exit 2, never a traceback (harness.cli's guard)."""
from __future__ import annotations

import pytest

from harness.cli import main


@pytest.mark.parametrize(("argv", "module"), [(["validate", "x.json"], "harness.commands.validate"),
                                               (["run"], "harness.commands.run"),
                                               (["profile", "check", "p.yaml"], "harness.commands.profile")])
def test_a_bug_in_a_command_is_one_line_and_exit_2(argv, module, monkeypatch, capsys):
    import importlib

    command = importlib.import_module(module)

    def broken(*args, **kwargs):
        return {}["a key that is not there"]

    if argv[0] == "profile":  # `profile check` dispatches to the frozen object `check` of its module
        monkeypatch.setattr(command, "check", command.Subcommand(command.check.configure, broken))
    else:
        monkeypatch.setattr(command, "run", broken)
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and "internal error (test_cli_guard.py:" in lines[0] and "KeyError" in lines[0], err
    assert lines[0].startswith(f"b4a {' '.join(argv[:2] if argv[0] == 'profile' else argv[:1])}:"), err
