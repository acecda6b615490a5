"""What the generated pages say: every variant's facts, fields, examples, rules and working links."""
from __future__ import annotations

import json
import re

import pytest

from harness.contract import load_contract
from harness.docs import RULES_PAGE, render_docs, rule_doc_anchor
from harness.docs.errata import ERRATA
from harness.docs.fields import describe_type, variant_fields
from harness.docs.views import family_page, silences
from harness.push_codec import decode_push_data
from harness.validation import validate, validate_push

CONTRACT = load_contract()
PAGES = render_docs(CONTRACT)
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} (.+)$", re.M)
_FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def slug(heading: str) -> str:
    """GitHub's heading anchor: lowercase, punctuation but `-` and `_` dropped, spaces to `-`."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    return {slug(h) for h in _HEADING.findall(_FENCE.sub("", text))}


def broken_links(pages: dict[str, str]) -> list[str]:
    """Links between generated pages whose page or anchor does not exist (outside links skipped)."""
    broken = []
    for name, text in pages.items():
        for target in _LINK.findall(_FENCE.sub("", text)):
            page, _, anchor = target.partition("#")
            if page.startswith(("../", "http")):
                continue
            page = page or name
            if page not in pages or (anchor and anchor not in anchors(pages[page])):
                broken.append(f"{name} -> {target}")
    return broken


def section(page: str, variant: str) -> str:
    """The `## <variant>` section of a family page."""
    text = PAGES[page]
    start = text.index(f"\n## {variant}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_rule_doc_anchor_is_the_id_lowercased():
    assert rule_doc_anchor("FRND-001") == "frnd-001"
    assert rule_doc_anchor("PUSH-005") == "push-005"
    for bad in ("frnd-001", "FRND-1", "FRND-001 ", ""):
        with pytest.raises(ValueError, match="not a rule id"):
            rule_doc_anchor(bad)


def test_every_rule_has_its_anchor_in_rules_page():
    page_anchors = anchors(PAGES[RULES_PAGE])
    for rule in CONTRACT.rules.values():
        assert rule_doc_anchor(rule.id) in page_anchors, rule.id
        assert f"**{rule.title}** ({rule.level.value}" in PAGES[RULES_PAGE]
        assert rule.description in PAGES[RULES_PAGE]


def test_all_links_between_pages_resolve():
    assert broken_links(PAGES) == []


def test_the_link_checker_catches_a_broken_link():
    pages = dict(PAGES)
    pages["index.md"] += "\nSee [nothing](rules.md#frnd-999) and [gone](poke.md).\n"
    assert broken_links(pages) == ["index.md -> rules.md#frnd-999", "index.md -> poke.md"]


def test_index_lists_version_families_and_rules():
    index = PAGES["index.md"]
    assert f"Contract version **{CONTRACT.version}**" in index
    for family in CONTRACT.families:
        assert f"[{family.title}]({family_page(family)})" in index
        assert f"`{family.message_type}`" in index
    for rule in CONTRACT.rules.values():
        assert f"| [{rule.id}](rules.md#{rule.id.lower()}) | {rule.level.value} |" in index
    assert "b4a validate" in index and "[seed-errata.md](seed-errata.md)" in index


@pytest.mark.parametrize("variant", list(CONTRACT.variants()), ids=lambda v: v.key)
def test_variant_section_states_the_contract(variant):
    family = CONTRACT.family(variant.family)
    text = section(family_page(family), variant.name)
    assert f"- Trigger: {variant.trigger}\n" in text
    for role in variant.recipients:
        assert role in text.split("- Recipients: ")[1].splitlines()[0]
    assert "any third user" in text and "[DLV-004](rules.md#dlv-004)" in text
    for f in variant_fields(CONTRACT, variant):
        assert f"| `{f.key}` | {f.type} |" in text
    example = CONTRACT.resolve(variant.schema_uri)["examples"][0]
    blocks = re.findall(r"```(\w+)\n(.*?)\n```", text, re.S)
    assert json.loads(dict(blocks)["json"]) == example
    assert validate(example, strict=True) == []
    for rule_id in variant.rules:
        assert f"| [{rule_id}](rules.md#{rule_id.lower()}) |" in text
    if variant.pushed:
        body = json.loads(dict(blocks)["http"].split("\n\n", 1)[1])
        assert dict(blocks)["http"].startswith("POST /v1/projects/{project}/messages:send\n")
        assert body["message"]["token"] == "<device token>"
        assert validate_push(body) == []
        assert decode_push_data(body["message"]["data"]) == example
        assert "type" in body["message"]["data"] and "message_type" not in body["message"]["data"]
    else:
        assert "http" not in dict(blocks)
        assert "WebSocket only" in text and "[DLV-003](rules.md#dlv-003)" in text


def test_actor_who_is_not_a_recipient_should_receive_nothing():
    friendship = CONTRACT.family("friendship")
    assert [s.rule_id for s in silences(friendship, friendship.variant("new_request"))] == ["DLV-004", "DLV-005"]
    assert [s.rule_id for s in silences(friendship, friendship.variant("terminated"))] == ["DLV-004", "DLV-005"]
    game = CONTRACT.family("game-session")
    assert [s.rule_id for s in silences(game, game.variant("started"))] == ["DLV-004"]  # both users receive it
    call = CONTRACT.family("call")
    assert [s.rule_id for s in silences(call, call.variant("user_not_available"))] == ["DLV-004"]  # A acts and receives
    text = section("friendship.md", "new_request")
    assert "A, the acting user: SHOULD NOT receive a copy ([DLV-005](rules.md#dlv-005))" in text
    assert "any third user (outside the flow, connected throughout): MUST NOT receive anything" in text


def test_game_page_has_the_state_graph():
    game = CONTRACT.family("game-session")
    text = PAGES[family_page(game)]
    assert "## State graph" in text and "stateDiagram-v2" in text
    for t in game.transitions:
        assert f"| {t['from'] or '(start)'} | {t['to']} | {' or '.join(t['by'])} |" in text
        assert f"{t['from'] or '[*]'} --> {t['to']}: " in text
    assert "State graph" not in PAGES["friendship.md"]


def test_seed_errata_page_lists_every_erratum():
    text = PAGES["seed-errata.md"]
    for erratum in ERRATA:
        assert f"## {erratum.topic}" in text and erratum.seed in text and erratum.reading in text
    assert "call_id' =>" in text and "status: \"new_request\",." in text


@pytest.mark.parametrize(
    ("schema", "text"),
    [
        ({"type": "integer", "minimum": 1}, "integer ≥ 1"),
        ({"type": ["string", "null"], "format": "date-time"}, "string (date-time, RFC 3339) or null"),
        ({"type": "string", "minLength": 1}, "string, non-empty"),
        ({"type": "string", "minLength": 3, "pattern": "^a"}, "string, at least 3 characters, matching `^a`"),
        ({"const": "x"}, "string"),
        ({"enum": [1, "a"]}, "integer or string"),
    ],
)
def test_describe_type(schema, text):
    assert describe_type(schema) == text


def test_nested_object_fields_are_listed_with_dotted_keys():
    keys = [f.key for f in variant_fields(CONTRACT, CONTRACT.variant("chat/new_message"))]
    assert keys == ["message", "thread", "thread.id", "message_type"]


def test_no_markup_in_pipes_breaks_a_table_row():
    for name, text in PAGES.items():
        if not name.endswith(".md"):
            continue
        body = _FENCE.sub("", text)
        for table in re.findall(r"(?:^\|.*\|\n)+", body, re.M):
            rows = table.splitlines()
            widths = {len(re.split(r"(?<!\\)\|", row)) for row in rows}
            assert len(widths) == 1, (name, rows[0])
