"""report.html: self-contained, failures first with their evidence, the matrix data, rule links, escaped payloads."""
from __future__ import annotations

import dataclasses
import html.parser
import json
import re

import pytest

from harness.report import Report
from harness.report.html import anchors, headline_outcome, render_html, script_json
from harness.report.redact import scrub_report
from harness.violations import Outcome

from .conftest import PAYLOAD_SCRIPT, make_checks, make_report


class _Tags(html.parser.HTMLParser):
    """Collects (tag, attrs) and the text of each <script>, to inspect the page's structure."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None


@pytest.fixture
def page(report: Report) -> str:
    return render_html(scrub_report(report))


def _parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


def _data(page: str, element_id: str) -> dict:
    return next(json.loads(text) for attrs, text in _parse(page).scripts if attrs.get("id") == element_id)


def test_self_contained(page: str) -> None:
    parsed = _parse(page)
    assert not [t for t, _ in parsed.tags if t in ("link", "img", "iframe", "object", "embed")]
    assert not [a for _, a in parsed.tags if a.get("src")]
    external = [a["href"] for t, a in parsed.tags if t == "a" and (a.get("href") or "").startswith(("http:", "https:", "//"))]
    assert external == []
    assert "<style>" in page and "@import" not in page and "url(" not in page
    code = [text for attrs, text in parsed.scripts if attrs.get("type") is None]
    assert len(code) == 1 and "fetch(" not in code[0] and "XMLHttpRequest" not in code[0] and "import(" not in code[0]


def test_every_check_and_badge(page: str, report: Report) -> None:
    for check in report.checks:
        assert check.id in page
    ids = {a.get("id") for _, a in _parse(page).tags}
    assert set(anchors(report.checks).values()) <= ids
    for outcome in Outcome:
        assert f'<span class="badge {outcome.value}">{outcome.value}</span>' in page
    assert '<header class="verdict ERROR">' in page and "contract 1.0.0" in page


def test_failed_rules_come_first_and_link_to_their_evidence(page: str, report: Report) -> None:
    failed = page[page.index('id="failed"'):page.index('id="matrix"')]
    anchor = anchors(report.checks)["test_friendship.py::test_new_request"]
    # DLV-002: the missing push is a delivery row; the link goes to that row's evidence.
    dlv = failed[failed.index('data-rule="DLV-002"'):]
    assert f'href="#{anchor}-e1"' in dlv[:dlv.index("</li>")]
    # FRND-001's violation names a source no row has: it links to the violations shown apart.
    frnd = failed[failed.index('data-rule="FRND-001"'):]
    assert f'href="#{anchor}-other"' in frnd[:frnd.index("</li>")]
    assert f'id="{anchor}-e1"' in page and f'id="{anchor}-other"' in page
    assert failed.index('data-rule="DLV-002"') < failed.index('data-rule="DLV-005"')  # MUST before SHOULD
    assert "CHAT-001" in failed  # the ERROR check's rule could not be judged: named too


def test_matrix_data_has_a_state_per_cell(page: str) -> None:
    data = _data(page, "b4a-matrix")
    states = {}
    for family in data["families"]:
        for check_index, seq, event, ok, cells, unexplained in family["rows"]:
            for cell in cells:
                states[(data["checks"][check_index][0], family["columns"][cell[0]][2])] = cell[1]
    assert states[("test_friendship.py::test_new_request", "B device 1")] == "missing"
    assert states[("test_friendship.py::test_new_request", "C#1")] == "quiet"
    assert states[("test_delivery.py::test_actor_gets_no_copy", "A#1")] == "unexpected"
    assert states[("test_friendship.py::test_accept", "B#1")] == "arrived"
    assert data["differencesFirst"] is True
    assert "2 of 5 deliveries not as expected" in page


def test_only_differences_is_on_for_a_failing_run_and_off_for_a_green_one(report: Report) -> None:
    failing = render_html(scrub_report(report))
    assert re.search(r'id="f-diff" checked', failing)
    green = make_report((make_checks()[0],))
    page = render_html(scrub_report(green))
    assert 'id="f-diff">' in page and _data(page, "b4a-matrix")["differencesFirst"] is False


def test_a_run_with_passes_and_skips_is_headed_pass() -> None:
    checks = make_checks()
    assert headline_outcome(make_report((checks[0], checks[3]))) is Outcome.PASS
    assert headline_outcome(make_report((checks[3],))) is Outcome.SKIP
    assert headline_outcome(make_report(checks)) is Outcome.ERROR


def test_rule_links_use_the_docs_base(report: Report) -> None:
    default = render_html(scrub_report(report))
    assert 'href="docs/rules.md#frnd-001"' in default
    custom = render_html(scrub_report(report), docs_base_url="https://docs.example/b4a")
    assert 'href="https://docs.example/b4a/rules.md#frnd-001"' in custom


def test_violation_shows_pointer_and_message(page: str) -> None:
    assert "<code>/friend_id</code>" in page
    assert "&#34;1&#34; is not of type integer" in page


def test_payload_markup_is_escaped_in_markup_and_in_data(page: str, report: Report) -> None:
    assert PAYLOAD_SCRIPT not in page
    assert "</script><script>" not in page.replace("</script>\n<script", "")  # no data block ends early
    steps = _data(page, "b4a-check-1")["steps"]
    frame = next(s for s in steps if s[2] == "frame")
    assert PAYLOAD_SCRIPT.replace("'", "\\u0027") in frame[7][0][1]  # the payload text, intact once parsed
    assert "\\u003cscript\\u003e" in page


def test_script_json_cannot_close_its_element() -> None:
    text = script_json({"a": "</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028"}


def test_script_json_drops_control_characters_but_keeps_backslashes() -> None:
    text = script_json({"k\x01": "a\\b\x00\x08\x0c\x1bc\x85\td\\u0000e\n"})
    assert json.loads(text) == {"k": "a\\bc\td\\u0000e\n"}


def test_check_data_holds_the_transcript_steps_and_rule_verdicts(page: str) -> None:
    steps = _data(page, "b4a-check-1")["steps"]
    http = steps[0]
    assert http[:4] == [0.001, "A", "http", "POST /friendships -> 201 (12.5 ms)"] and http[6] == 12.5
    assert ["request body", {"friend_id": 2}] in http[7]


def test_control_characters_are_removed(page: str) -> None:
    assert "\x00" not in page and "\x1b" not in page and "\x07" not in page
    assert "\\u0000" not in page and "\\u001b" not in page


def test_anchors_are_unique_and_url_safe() -> None:
    checks = make_checks()
    twins = (dataclasses.replace(checks[0], id="a b/c"), dataclasses.replace(checks[1], id="a-b c"))
    assert anchors(twins) == {"a b/c": "check-a-b-c", "a-b c": "check-a-b-c-2"}
