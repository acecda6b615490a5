"""report.html: self-contained, every check and badge, the delivery matrix, rule links, escaped payloads."""
from __future__ import annotations

import html.parser

import pytest

from harness.report import Report
from harness.report.html import anchors, render_html
from harness.report.redact import scrub_report
from harness.violations import Outcome

from .conftest import PAYLOAD_SCRIPT, make_checks


class _Tags(html.parser.HTMLParser):
    """Collects (tag, attrs) and the text of rows with a class, to inspect the page's structure."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.fixture
def page(report: Report) -> str:
    return render_html(scrub_report(report))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def test_self_contained(page: str) -> None:
    tags = _tags(page)
    assert not [t for t, _ in tags if t in ("script", "link", "img", "iframe", "object")]
    assert not [a for _, a in tags if a.get("src")]
    external = [a["href"] for t, a in tags if t == "a" and (a.get("href") or "").startswith(("http:", "https:", "//"))]
    assert external == []
    assert "<style>" in page and "@import" not in page and "url(" not in page


def test_every_check_and_badge(page: str, report: Report) -> None:
    for check in report.checks:
        assert check.id in page
    ids = {a.get("id") for _, a in _tags(page)}
    assert set(anchors(report.checks).values()) <= ids
    for outcome in Outcome:
        assert f'<span class="badge {outcome.value}">{outcome.value}</span>' in page
    assert '<header class="verdict ERROR">' in page and "contract 1.0.0" in page


def test_delivery_matrix_highlights_mismatches(page: str) -> None:
    rows = [a.get("class") or "" for t, a in _tags(page[page.index('id="matrix"'):page.index('id="rules"')]) if t == "tr"]
    assert sum("mismatch" in r for r in rows) == 2 and sum(r.startswith("match") for r in rows) == 3
    assert "2 of 5 deliveries not as expected" in page
    assert "B device 1" in page and "21 ms" in page


def test_rule_links_use_the_docs_base(report: Report) -> None:
    default = render_html(scrub_report(report))
    assert 'href="docs/rules.md#frnd-001"' in default
    custom = render_html(scrub_report(report), docs_base_url="https://docs.example/b4a")
    assert 'href="https://docs.example/b4a/rules.md#frnd-001"' in custom


def test_violation_shows_expected_actual_and_pointer(page: str) -> None:
    assert "<code>/friend_id</code>" in page
    assert "friend_id is the counterpart as seen by the recipient" in page
    assert "&#34;1&#34; is not of type integer" in page


def test_payload_markup_is_escaped(page: str) -> None:
    assert PAYLOAD_SCRIPT not in page
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in page


def test_transcript_timeline_with_pretty_bodies(page: str) -> None:
    assert "POST /friendships -&gt; 201 (12.5 ms)" in page
    assert "<summary>request body</summary><pre>{\n  &#34;friend_id&#34;: 2\n}</pre>" in page
    assert "+0.004s" in page


def test_control_characters_are_removed(page: str) -> None:
    assert "\x00" not in page and "\x1b" not in page and "\x07" not in page


def test_anchors_are_unique_and_url_safe() -> None:
    checks = make_checks()
    import dataclasses
    twins = (dataclasses.replace(checks[0], id="a b/c"), dataclasses.replace(checks[1], id="a-b c"))
    assert anchors(twins) == {"a b/c": "check-a-b-c", "a-b c": "check-a-b-c-2"}
