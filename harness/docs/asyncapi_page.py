"""docs/asyncapi.md: the AsyncAPI document rendered as a page (servers, channels, operations, messages),
from the same value as asyncapi.yaml, so the two cannot disagree and the site needs no renderer."""
from __future__ import annotations

from typing import Any

from harness.contract import Contract
from harness.docs.asyncapi import asyncapi_document
from harness.docs.views import family_page, to_json

ASYNCAPI_PAGE = "asyncapi.md"


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def asyncapi_page_context(contract: Contract) -> dict[str, Any]:
    """What templates/asyncapi.md.j2 shows: the document's parts, each message with its family page."""
    document = asyncapi_document(contract)
    messages = document["components"]["messages"]
    pages = {f"{v.family}.{v.name}": f"{family_page(contract.family(v.family))}#{v.name}" for v in contract.variants()}
    channels = []
    for key, channel in document["channels"].items():
        names = [_ref_name(m["$ref"]) for m in channel["messages"].values()]
        channels.append({"key": key, "channel": channel, "server": _ref_name(channel["servers"][0]["$ref"]),
                         "messages": [(name, messages[name]) for name in names]})
    operations = [{"key": key, "operation": op, "channel": _ref_name(op["channel"]["$ref"]), "count": len(op["messages"])}
                  for key, op in document["operations"].items()]
    return {
        "document": document,
        "channels": channels,
        "operations": operations,
        "page_of": lambda name: pages[name.removesuffix(".push")],
        "example": lambda message: to_json(message["examples"][0]["payload"]),
        "payload_ref": lambda message: message["payload"].get("$ref") or message["payload"]["properties"]["message"]["$ref"],
    }
