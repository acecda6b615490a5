"""The HTML report as a person sees it: headless Chromium renders it, with every section laid out."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness.report import write_reports

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (./dev test installs it)")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120)


def test_chromium_renders_every_check_and_the_matrix(report, tmp_path):
    html = write_reports(report, tmp_path, ("html",))["html"]
    dom = _chromium(tmp_path, "--dump-dom", html.as_uri()).stdout
    assert "Delivery matrix" in dom
    for check in report.checks:
        assert check.id in dom
    for badge in ("PASS", "FAIL", "NON_STRICT", "SKIP", "ERROR"):
        assert badge in dom
    assert "<script>alert" not in dom  # payload text stays escaped after the browser parses it


def test_the_screenshot_is_a_laid_out_page(report, tmp_path):
    html = write_reports(report, tmp_path, ("html",))["html"]
    shot = tmp_path / "report.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,1800", html.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1400, 1800)
    assert len(data) > 30_000  # a blank page compresses to a few kB; a laid-out report does not
