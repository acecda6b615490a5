"""Docs generated from the schemas and rules: Markdown pages per family, rules, seed errata, AsyncAPI 3.0.

Public: `rule_doc_anchor` (the anchor of a rule in docs/rules.md), `render_docs` (every file as
text), `differences` and `write_docs` (compare with, or update, a docs directory).
"""
from __future__ import annotations

from harness.docs.anchors import RULES_PAGE, rule_doc_anchor

__all__ = ["RULES_PAGE", "rule_doc_anchor", "render_docs", "differences", "write_docs"]


def __getattr__(name: str) -> object:
    # The generator pulls in Jinja2 and PyYAML; `rule_doc_anchor` alone (used by reports) should not.
    if name == "render_docs":
        from harness.docs.render import render_docs

        return render_docs
    if name in ("differences", "write_docs"):
        from harness.docs import sync

        return getattr(sync, name)
    raise AttributeError(f"module 'harness.docs' has no attribute {name!r}")
