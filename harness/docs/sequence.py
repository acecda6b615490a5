"""A Mermaid sequence diagram per variant, from rules.json: who acts, who receives on which channel,
and who must receive nothing.

Participants: the acting user (a Mermaid `actor`; or the backend's own timer), the backend, each recipient's
WebSocket connections and, for pushed variants, FCM and the recipient's devices; then the
bystander and, where the contract says so, the actor's own connections, each with a note of
the rule that keeps them quiet. Labels avoid `;` and `#`, which Mermaid reads as syntax, and no
participant is called `Actor` (a keyword: `actor` declares a participant drawn as a person).
"""
from __future__ import annotations

import re

from harness.contract import Contract, Family, Variant
from harness.docs.views import silences


def _label(text: str) -> str:
    return re.sub(r"[;#]", ",", text)


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _recipient_name(role: str) -> str:
    return "the other user" if role == "other" else role


def _ident(role: str) -> str:
    return "Other" if role == "other" else role


def sequence_diagram(contract: Contract, family: Family, variant: Variant) -> str:
    """The diagram's Mermaid source (without the fence). Labels are short (the page's text and
    tables say the rest), so the diagram stays legible at the page's width."""
    ws_deadline = _seconds(contract.deadlines["websocket_seconds"])
    push_deadline = _seconds(contract.deadlines["push_seconds"])
    actor = variant.actor
    lines = ["sequenceDiagram"]
    if actor in family.roles:
        lines.append(f"    actor Acting as {actor} (acts)")
    elif actor == "either":
        lines.append("    actor Acting as A or B (acts)")
    lines.append("    participant Backend")
    for role in variant.recipients:
        lines.append(f"    participant WS_{_ident(role)} as {_label(_recipient_name(role))}: WebSocket<br/>every open connection")
    if variant.pushed:
        lines.append("    participant FCM")
        for role in variant.recipients:
            lines.append(f"    participant Dev_{_ident(role)} as {_label(_recipient_name(role))}: devices<br/>every registered token")
    lines.append("    actor Third as third user")
    if actor == "system":
        lines.append(f"    Note over Backend: {_label(variant.trigger)}")
    else:
        lines.append(f"    Acting->>Backend: HTTP: {_label(variant.trigger)}")
        lines.append("    Backend-->>Acting: 2xx")
    for role in variant.recipients:
        lines.append(f"    Backend->>WS_{_ident(role)}: {variant.name} (within {ws_deadline})")
    if variant.pushed:
        for role in variant.recipients:
            lines.append(f"    Backend->>FCM: messages:send per device of {_label(_recipient_name(role))}")
            lines.append(f"    FCM->>Dev_{_ident(role)}: push {variant.name} (within {push_deadline})")
    else:
        lines.append(f"    Note over Backend: no FCM request (DLV-003 MUST)")
    for silence in silences(family, variant):
        if silence.rule_id == "DLV-004":
            lines.append(f"    Note over Third: receives nothing<br/>({silence.rule_id} {silence.level})")
        elif actor in family.roles or actor == "either":
            lines.append(f"    Note over Acting: no copy<br/>({silence.rule_id} {silence.level})")
    return "\n".join(lines)
