"""The AsyncAPI 3.0 document: the per-user WebSocket stream and the FCM send, one message per variant."""
from __future__ import annotations

from typing import Any

import yaml

from harness.contract import Contract, Family, Variant
from harness.docs.views import FCM_SEND_PATH, example_payload, fcm_request_body, role_text

#: Where docs/asyncapi.yaml finds the schemas: the checkout's schemas/ beside docs/.
SCHEMA_DIR = "../schemas"

_PLAIN_AND_CABLE = """\
The notifications of one authenticated user. Every open connection of the user receives each
notification meant for that user; no other user's notification ever arrives here.

Authentication is the target's (a token in the query string, a header or a cookie); a connection
without valid credentials is refused: HTTP 401/403 on the upgrade, or with ActionCable a
`disconnect` frame with reason `unauthorized` (AUTH-001, AUTH-002). The path is the target's too
(`/ws` here; a Rails backend typically serves ActionCable on `/cable`).

Two framings carry the same payload:
- plain: each notification is one text frame holding the JSON payload;
- ActionCable: the payload is the `message` member of a broadcast frame,
  `{"identifier": "<the subscription's identifier>", "message": <payload>}`, after the client's
  `subscribe` command was confirmed (`confirm_subscription`); the channel name is the target's;
  `welcome` and `ping` frames carry no notification.
"""

_FCM = """\
FCM HTTP v1 send, one request per registered device token of the recipient, for the variants
whose channels include FCM. `message.data` is the WebSocket payload, flat: `message_type` travels
as `type`, every value is a string (integers in decimal, null as "null", objects and arrays as
compact JSON). Decoded, it validates against the same schema as the WebSocket message and equals
the WebSocket payload of the same event (PUSH-001..003).
"""


def _message_id(variant: Variant, push: bool = False) -> str:
    return f"{variant.family}.{variant.name}{'.push' if push else ''}"


def _schema_ref(family: Family, variant: Variant) -> str:
    return f"{SCHEMA_DIR}/{family.schema_file}#/$defs/{variant.name}"


def _who(contract: Contract, family: Family, variant: Variant) -> str:
    recipients = ", ".join(role_text(contract, family, r) for r in variant.recipients)
    return f"Trigger: {variant.trigger}. Actor: {role_text(contract, family, variant.actor)}. Recipients: {recipients}."


def _ws_message(contract: Contract, family: Family, variant: Variant) -> dict[str, Any]:
    return {
        "name": _message_id(variant),
        "title": f"{family.title}: {variant.name}",
        "summary": contract.resolve(variant.schema_uri).get("title", variant.trigger),
        "description": f"{_who(contract, family, variant)} Rules: {', '.join(variant.rules)}.",
        "contentType": "application/json",
        "payload": {"$ref": _schema_ref(family, variant)},
        "examples": [{"name": variant.name, "payload": example_payload(contract, variant)}],
    }


def _push_message(contract: Contract, family: Family, variant: Variant) -> dict[str, Any]:
    return {
        "name": _message_id(variant, push=True),
        "title": f"{family.title}: {variant.name} (FCM)",
        "summary": f"The FCM send body for {variant.key}, one per device token of the recipient.",
        "description": f"{_who(contract, family, variant)} `message.data`, decoded, validates against "
        f"`{_schema_ref(family, variant)}`.",
        "contentType": "application/json",
        "payload": {
            "type": "object",
            "required": ["message"],
            "properties": {
                "validate_only": {"type": "boolean", "description": "FCM's dry-run flag; a backend normally omits it."},
                "message": {"$ref": f"{SCHEMA_DIR}/fcm-message.json"},
            },
        },
        "examples": [{"name": variant.name, "payload": fcm_request_body(example_payload(contract, variant), contract)}],
    }


def asyncapi_document(contract: Contract) -> dict[str, Any]:
    """The AsyncAPI 3.0 document as a value; `asyncapi_yaml` spells it."""
    ws_messages: dict[str, Any] = {}
    push_messages: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for family in contract.families:
        for variant in family.variants:
            components[_message_id(variant)] = _ws_message(contract, family, variant)
            ws_messages[_message_id(variant)] = {"$ref": f"#/components/messages/{_message_id(variant)}"}
            if variant.pushed:
                pid = _message_id(variant, push=True)
                components[pid] = _push_message(contract, family, variant)
                push_messages[pid] = {"$ref": f"#/components/messages/{pid}"}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Buddy4all notifications",
            "version": contract.version,
            "description": "The notifications a Buddy4all backend sends: over a per-user WebSocket stream "
            "(what a client receives) and as FCM HTTP v1 pushes (what the backend sends to FCM). "
            "Generated from schemas/ and schemas/rules.json; the rules are in rules.md.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "backend": {
                "host": "{host}",
                "protocol": "wss",
                "description": "The backend under test (ws on loopback, wss in production).",
                "variables": {"host": {"description": "The backend's host and port.", "default": "localhost:3000"}},
            },
            "fcm": {
                "host": "fcm.googleapis.com",
                "protocol": "https",
                "description": "Firebase Cloud Messaging HTTP v1 (or the bundled FCM emulator).",
            },
        },
        "channels": {
            "userNotifications": {
                "address": "/ws",
                "title": "Per-user notification stream",
                "description": _PLAIN_AND_CABLE,
                "servers": [{"$ref": "#/servers/backend"}],
                "messages": ws_messages,
            },
            "fcmSend": {
                "address": FCM_SEND_PATH,
                "title": "FCM HTTP v1 send to one device",
                "description": _FCM,
                "servers": [{"$ref": "#/servers/fcm"}],
                "parameters": {"project": {"description": "The Firebase project id the backend sends with."}},
                "messages": push_messages,
            },
        },
        "operations": {
            "receiveNotification": {
                "action": "receive",
                "title": "A client receives its notifications",
                "channel": {"$ref": "#/channels/userNotifications"},
                "messages": [{"$ref": f"#/channels/userNotifications/messages/{m}"} for m in ws_messages],
            },
            "sendPush": {
                "action": "send",
                "title": "The backend sends a push to a device of the recipient",
                "channel": {"$ref": "#/channels/fcmSend"},
                "messages": [{"$ref": f"#/channels/fcmSend/messages/{m}"} for m in push_messages],
            },
        },
        "components": {"messages": components},
    }


class _NoAliasDumper(yaml.SafeDumper):
    """Spell a value shared by two places twice, never as a YAML alias (`&id001`): readers differ on them."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def asyncapi_yaml(contract: Contract, note: str) -> str:
    """The document as YAML, `note` as a leading comment; key order as built, so output is stable."""
    body = yaml.dump(
        asyncapi_document(contract), Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, width=100
    )
    return f"# {note}\n{body}"
