"""docs/asyncapi.yaml: its shape, and the real @asyncapi/parser accepting it (and refusing a broken one)."""
from __future__ import annotations

from pathlib import Path

import yaml

from harness.contract import load_contract
from harness.docs.asyncapi import _NoAliasDumper, asyncapi_document, asyncapi_yaml
from harness.push_codec import decode_push_data
from harness.validation import validate, validate_push

from .conftest import ROOT, run_node

CONTRACT = load_contract()
DOCUMENT = asyncapi_document(CONTRACT)


def _parse(path: Path) -> tuple[int, dict, str]:
    code, report, stderr = run_node("asyncapi_validate.js", str(path), package="@asyncapi/parser")
    assert report is not None, f"no JSON from the parser script (exit {code}): {stderr}"
    for warning in report["warnings"]:
        print(f"asyncapi {warning['severity']}: {warning['code']}: {warning['message']} at {warning['path']}")
    return code, report, stderr


def test_committed_asyncapi_passes_the_real_parser():
    code, report, stderr = _parse(ROOT / "docs" / "asyncapi.yaml")
    assert report["errors"] == [], report["errors"]
    assert code == 0, stderr
    assert report["version"] == "3.0.0"
    # The parser resolved the relative $refs into the schemas: every variant's keys, typed.
    for variant in CONTRACT.variants():
        keys = report["messages"][f"{variant.family}.{variant.name}"]
        assert set(keys) == set(CONTRACT.variant_properties(variant)), variant.key
        for key, schema in CONTRACT.variant_properties(variant).items():
            if "type" in schema:
                assert keys[key] == schema["type"], (variant.key, key)


def test_parser_reports_a_broken_document(tmp_path: Path):
    """The check can fail: a bad operation action and a dangling $ref are errors, exit 1."""
    broken = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text())
    broken["operations"]["receiveNotification"]["action"] = "listen"
    broken["components"]["messages"]["chat.new_message"]["payload"] = {"$ref": "../schemas/chat.json#/$defs/nope"}
    (tmp_path / "docs").mkdir()
    (tmp_path / "schemas").symlink_to(ROOT / "schemas")
    path = tmp_path / "docs" / "asyncapi.yaml"
    path.write_text(yaml.safe_dump(broken, sort_keys=False))
    code, report, _ = _parse(path)
    assert code == 1
    assert any(e["path"] == "operations/receiveNotification/action" for e in report["errors"]), report["errors"]
    assert any(e["code"] == "invalid-ref" and "$defs/nope" in e["message"] for e in report["errors"]), report["errors"]


def test_yaml_spells_the_document_without_aliases():
    text = asyncapi_yaml(CONTRACT, "note")
    assert text.startswith("# note\n")
    assert yaml.safe_load(text) == DOCUMENT
    shared = {"a": 1}
    assert "&id" in yaml.safe_dump({"x": shared, "y": shared})  # what the dumper must avoid
    assert "&" not in yaml.dump({"x": shared, "y": shared}, Dumper=_NoAliasDumper)


def test_channels_operations_and_messages():
    channels, operations = DOCUMENT["channels"], DOCUMENT["operations"]
    assert DOCUMENT["asyncapi"] == "3.0.0" and DOCUMENT["info"]["version"] == CONTRACT.version
    assert channels["userNotifications"]["address"] == "/ws"
    assert "ActionCable" in channels["userNotifications"]["description"]
    assert channels["fcmSend"]["address"] == "/v1/projects/{project}/messages:send"
    assert operations["receiveNotification"]["action"] == "receive"
    assert operations["sendPush"]["action"] == "send"
    ws = set(channels["userNotifications"]["messages"])
    push = set(channels["fcmSend"]["messages"])
    assert ws == {f"{v.family}.{v.name}" for v in CONTRACT.variants()}
    assert push == {f"{v.family}.{v.name}.push" for v in CONTRACT.variants() if v.pushed}
    assert len(operations["receiveNotification"]["messages"]) == len(ws)
    assert len(operations["sendPush"]["messages"]) == len(push)


def test_message_payloads_reference_the_schemas_and_examples_are_valid():
    messages = DOCUMENT["components"]["messages"]
    for variant in CONTRACT.variants():
        family = CONTRACT.family(variant.family)
        message = messages[f"{variant.family}.{variant.name}"]
        assert message["payload"] == {"$ref": f"../schemas/{family.schema_file}#/$defs/{variant.name}"}
        assert (ROOT / "schemas" / family.schema_file).is_file()
        example = message["examples"][0]["payload"]
        assert validate(example, strict=True) == []
        if variant.pushed:
            push = messages[f"{variant.family}.{variant.name}.push"]
            assert push["payload"]["properties"]["message"] == {"$ref": "../schemas/fcm-message.json"}
            body = push["examples"][0]["payload"]
            assert validate_push(body) == []
            assert decode_push_data(body["message"]["data"]) == example
