"""Where a rule is documented: the stable anchor scheme of docs/rules.md."""
from __future__ import annotations

import re

#: The page that documents every rule, relative to the docs directory.
RULES_PAGE = "rules.md"

_RULE_ID = re.compile(r"[A-Z]+-[0-9]{3}")


def rule_doc_anchor(rule_id: str) -> str:
    """The anchor of a rule in docs/rules.md: its id lowercased (`FRND-001` -> `frnd-001`).

    rules.md gives each rule a heading that is exactly its id, so every Markdown renderer
    (GitHub, MkDocs) derives this same anchor from it. Other code links to
    `docs/rules.md#<anchor>`; the scheme never changes.
    """
    if not _RULE_ID.fullmatch(rule_id):
        raise ValueError(f"not a rule id: {rule_id!r} (expected e.g. FRND-001)")
    return rule_id.lower()
