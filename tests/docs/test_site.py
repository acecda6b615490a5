"""The docs site: built offline with mkdocs --strict from docs/, diagrams served from the site, every diagram valid Mermaid."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

MERMAID = ROOT / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
FENCE = re.compile(r"```mermaid\n(.*?)```", re.S)

pytestmark = pytest.mark.skipif(not MERMAID.is_file(), reason="node_modules/mermaid is missing: run `npm ci` (./dev test does)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    pytest.importorskip("material", reason="mkdocs-material is missing: install the test extra")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_a_family_page_carries_its_sequence_diagrams_as_mermaid_source(site: Path) -> None:
    page = (site / "friendship.html").read_text(encoding="utf-8")
    diagrams = re.findall(r'<pre class="mermaid"><code>(.*?)</code></pre>', page, re.S)
    assert len(diagrams) == 5  # one per variant
    new_request = next(d for d in diagrams if "FCM-&gt;&gt;Dev_B" in d)
    assert new_request.startswith("sequenceDiagram") and "Note over Third: receives nothing" in new_request


def test_mermaid_is_served_from_the_site_and_nothing_from_elsewhere(site: Path) -> None:
    page = (site / "friendship.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert "assets/javascripts/mermaid.min.js" in scripts
    assert (site / "assets" / "javascripts" / "mermaid.min.js").read_bytes() == MERMAID.read_bytes()
    for html in site.glob("*.html"):
        text = html.read_text(encoding="utf-8")
        loads = re.findall(r'<(?:script|img|iframe)[^>]+src="((?:https?:)?//[^"]+)"', text)
        loads += re.findall(r'<link[^>]+href="((?:https?:)?//[^"]+)"', text)
        assert loads == [], html.name  # links to elsewhere may be followed; nothing is loaded from there
        assert "fonts.googleapis" not in text and "unpkg.com" not in text, html.name


def test_schema_links_resolve_inside_the_site(site: Path) -> None:
    page = (site / "friendship.html").read_text(encoding="utf-8")
    assert 'href="schemas/friendship.json"' in page and "../schemas/" not in page
    assert json.loads((site / "schemas" / "friendship.json").read_text())["$schema"].startswith("https://json-schema.org/")
    assert 'href="friendship.json"' in (site / "schemas" / "index.html").read_text(encoding="utf-8")


def test_the_asyncapi_document_is_a_page_and_a_file(site: Path) -> None:
    page = (site / "asyncapi.html").read_text(encoding="utf-8")
    assert "userNotifications" in page and "fcmSend" in page and 'href="friendship.html#new_request"' in page
    assert (site / "asyncapi.yaml").read_text() == (ROOT / "docs" / "asyncapi.yaml").read_text()


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (./dev test installs it)")
def test_every_diagram_of_the_docs_is_valid_mermaid(site: Path, tmp_path: Path) -> None:
    """The vendored Mermaid parses every diagram the pages carry (a syntax error shows as raw text)."""
    sources = [(page.name, source) for page in sorted((ROOT / "docs").glob("*.md"))
               for source in FENCE.findall(page.read_text(encoding="utf-8"))]
    assert len(sources) >= 20
    probe = tmp_path / "probe.html"
    probe.write_text(
        "<!DOCTYPE html><html><body><pre id='out'>pending</pre>"
        f"<script src='{(site / 'assets' / 'javascripts' / 'mermaid.min.js').as_uri()}'></script><script>\n"
        f"const sources = {json.dumps(sources)};\n"
        "mermaid.initialize({startOnLoad: false});\n"
        "Promise.all(sources.map(([page, src]) => mermaid.parse(src).then(() => null, e => page + ': ' + e.message)))\n"
        "  .then(r => { document.getElementById('out').textContent = JSON.stringify(r.filter(x => x)); });\n"
        "</script></body></html>", encoding="utf-8")
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--allow-file-access-from-files",
                           "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    result = re.search(r"<pre id=\"out\">(.*?)</pre>", done.stdout, re.S).group(1)
    assert result == "[]", result


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (./dev test installs it)")
def test_a_family_page_renders_its_diagrams_without_errors(site: Path, tmp_path: Path) -> None:
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
                           "--virtual-time-budget=10000", "--dump-dom", (site / "game-session.html").as_uri()],
                          capture_output=True, text=True, timeout=120)
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "rror" in line], console
    assert done.stdout.count('<div class="mermaid">') == 8  # seven variants and the state graph, drawn
    assert '<pre class="mermaid">' not in done.stdout
