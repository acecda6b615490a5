"""write_reports writes every format; no planted credential reaches any output, the device token does."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from harness.report import FORMATS, Report, render_terminal, write_reports

from .conftest import DEVICE_TOKEN, SECRETS


def test_writes_each_format(report: Report, tmp_path: Path) -> None:
    out = tmp_path / "nested" / "b4a-report"
    written = write_reports(report, out, ("junit", "json", "html"))
    assert written == {"junit": out / "junit.xml", "json": out / "report.json", "html": out / "report.html"}
    assert all(path.stat().st_size > 0 for path in written.values())


def test_writes_only_the_chosen_formats(report: Report, tmp_path: Path) -> None:
    assert set(write_reports(report, tmp_path, ["json", "json"])) == {"json"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_unknown_format_is_refused_before_anything_is_written(report: Report, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown report format\(s\) 'pdf'; known: junit, json, html"):
        write_reports(report, tmp_path / "out", ("html", "pdf"))
    assert not (tmp_path / "out").exists()


def test_no_credential_reaches_any_output_while_the_device_token_does(report: Report, tmp_path: Path) -> None:
    # The planted secrets really are in the input: the writers, not the fixture, must remove them.
    raw = repr(report)
    assert all(secret in raw for secret in SECRETS)
    outputs = {fmt: path.read_text(encoding="utf-8") for fmt, path in write_reports(report, tmp_path, FORMATS).items()}
    terminal = io.StringIO()
    render_terminal(report, terminal, verbose=True)
    outputs["terminal"] = terminal.getvalue()
    for name, text in outputs.items():
        leaked = [secret for secret in SECRETS if secret in text]
        assert leaked == [], f"{name} leaks {leaked}"
        assert "BEGIN PRIVATE KEY-----\n" not in text and "BEGIN PRIVATE KEY-----\\n" not in text
        assert DEVICE_TOKEN in text, f"{name} lost the device token"
