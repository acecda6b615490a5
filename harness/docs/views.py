"""What the pages show, computed from the contract: families, variants, who receives what, examples."""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from harness.contract import Contract, Family, Rule, Variant
from harness.docs.fields import Field, variant_fields
from harness.push_codec import encode_push_data

#: The FCM HTTP v1 send endpoint (CONTRACT.md "Push (FCM) payloads").
FCM_SEND_PATH = "/v1/projects/{project}/messages:send"
#: Placeholder for the recipient's registered device token in example requests.
DEVICE_TOKEN = "<device token>"

# Actor values that are not roles of a flow: rules.json uses them in `actor` only.
_ACTOR_MEANINGS = {
    "either": "either user of the flow (A or B)",
    "system": "no user: the backend itself, on a timeout",
}
_CHANNEL_NAMES = {"websocket": "WebSocket", "fcm": "FCM push"}


@dataclasses.dataclass(frozen=True)
class Silence:
    """Someone who must receive nothing for a variant, at a rule's level."""

    who: str
    level: str
    rule_id: str

    @property
    def sentence(self) -> str:
        """`MUST NOT receive anything`, `SHOULD NOT receive a copy`."""
        return f"{self.level} NOT receive {'anything' if self.level == 'MUST' else 'a copy'}"


@dataclasses.dataclass(frozen=True)
class VariantView:
    variant: Variant
    title: str
    trigger: str
    actor: str
    recipients: tuple[str, ...]
    channels: tuple[str, ...]
    silences: tuple[Silence, ...]
    fields: tuple[Field, ...]
    example: str
    fcm_request: str | None
    rules: tuple[Rule, ...]


@dataclasses.dataclass(frozen=True)
class Link:
    """A Markdown link: text and target, relative to the docs directory."""

    text: str
    href: str


@dataclasses.dataclass(frozen=True)
class FamilyView:
    family: Family
    page: str
    description: str
    roles: tuple[tuple[str, str], ...]
    variants: tuple[VariantView, ...]
    family_rules: tuple[Rule, ...]
    transitions: tuple[tuple[str, str, str], ...]

    @property
    def channel_summary(self) -> str:
        """`WebSocket; FCM push: new_request`: the channels, and which variants use the narrower ones."""
        parts = []
        for channel in dict.fromkeys(c for v in self.variants for c in v.variant.channels):
            users = [v.variant.name for v in self.variants if channel in v.variant.channels]
            name = channel_text(channel)
            parts.append(name if len(users) == len(self.variants) else f"{name}: {', '.join(users)}")
        return "; ".join(parts)


def to_json(value: Any) -> str:
    """The one JSON spelling used in every page: two-space indent, key order as in the source."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def role_text(contract: Contract, family: Family, role: str) -> str:
    """`B (the invited user)`: a role with its meaning in this family."""
    meaning = family.roles.get(role) or _ACTOR_MEANINGS.get(role) or contract.raw_rules["roles"].get(role)
    return f"{role} ({meaning})" if meaning else role


def channel_text(channel: str) -> str:
    return _CHANNEL_NAMES.get(channel, channel)


def silences(family: Family, variant: Variant) -> tuple[Silence, ...]:
    """Third users must receive nothing (MUST); the actor, when not a recipient, no copy (SHOULD)."""
    out = [Silence("any third user (outside the flow, connected throughout)", "MUST", "DLV-004")]
    actor, recipients = variant.actor, set(variant.recipients)
    if actor in family.roles and actor not in recipients:
        out.append(Silence(f"{actor}, the acting user", "SHOULD", "DLV-005"))
    elif actor == "either" and not {"A", "B"} <= recipients:
        out.append(Silence("the acting user", "SHOULD", "DLV-005"))
    return tuple(out)


def example_payload(contract: Contract, variant: Variant) -> dict[str, Any]:
    """The variant schema's first example: the WebSocket message shown for it."""
    examples = contract.resolve(variant.schema_uri).get("examples") or []
    if not examples:
        raise ValueError(f"{variant.schema_uri}: the variant schema has no `examples`; the docs need one")
    return dict(examples[0])


def fcm_request_body(payload: dict[str, Any], contract: Contract) -> dict[str, Any]:
    """The send body a conforming backend posts for `payload` to one device token."""
    return {"message": {"token": DEVICE_TOKEN, "data": encode_push_data(payload, contract)}}


def _variant_view(contract: Contract, family: Family, variant: Variant) -> VariantView:
    payload = example_payload(contract, variant)
    return VariantView(
        variant=variant,
        title=contract.resolve(variant.schema_uri).get("title", variant.name),
        trigger=variant.trigger,
        actor=role_text(contract, family, variant.actor),
        recipients=tuple(role_text(contract, family, r) for r in variant.recipients),
        channels=tuple(channel_text(c) for c in variant.channels),
        silences=silences(family, variant),
        fields=variant_fields(contract, variant),
        example=to_json(payload),
        fcm_request=to_json(fcm_request_body(payload, contract)) if variant.pushed else None,
        rules=tuple(contract.rule(r) for r in variant.rules),
    )


def family_view(contract: Contract, family: Family) -> FamilyView:
    return FamilyView(
        family=family,
        page=family_page(family),
        description=contract.schemas[family.schema_file].get("description", ""),
        roles=tuple(sorted(family.roles.items())),
        variants=tuple(_variant_view(contract, family, v) for v in family.variants),
        family_rules=tuple(contract.rule(r) for r in family.rules),
        transitions=tuple(
            (t["from"] or "(start)", t["to"], " or ".join(t["by"])) for t in family.transitions
        ),
    )


def family_page(family: Family) -> str:
    """The page of a family, relative to the docs directory (`game-session.md`)."""
    return f"{family.name}.md"


def rule_applies(contract: Contract) -> dict[str, tuple[Link, ...]]:
    """rule id -> where it applies: a whole family when it covers all its variants, else each variant."""
    applies: dict[str, list[Link]] = {rule_id: [] for rule_id in contract.rules}
    everywhere = {Link(f"{f.title} (every variant)", family_page(f)) for f in contract.families}
    for family in contract.families:
        page = family_page(family)
        for rule_id in dict.fromkeys([*family.rules, *(r for v in family.variants for r in v.rules)]):
            covered = [v for v in family.variants if rule_id in v.rules]
            if rule_id in family.rules or len(covered) == len(family.variants):
                applies[rule_id].append(Link(f"{family.title} (every variant)", page))
            else:
                applies[rule_id].extend(Link(v.key, f"{page}#{v.name}") for v in covered)
    return {
        rule_id: (Link("every variant of every family", "index.md#message-families"),) if set(links) == everywhere else tuple(links)
        for rule_id, links in applies.items()
    }
