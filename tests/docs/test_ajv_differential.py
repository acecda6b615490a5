"""A second, independent validator (ajv, draft 2020-12) gives the same verdict as Python's jsonschema
for every schema, fixture and schema example, so the schemas rely on no single engine's quirks."""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from harness.contract import SCHEMA_BASE, data_dir, load_contract
from harness.fixtures import iter_fixture_tests, load_fixture_files
from harness.push_codec import decode_push_data, variant_of_push_data

from .conftest import ROOT, run_node

CONTRACT = load_contract()
UNION = f"{SCHEMA_BASE}notification.json"
FCM = f"{SCHEMA_BASE}fcm-message.json"


@dataclasses.dataclass(frozen=True)
class Pair:
    """One (schema, instance) judgement both engines make. `expected` is the fixture's verdict, if any."""

    id: str
    schema: Any  # an absolute URI, or a schema object
    instance: Any
    expected: bool | None = None


def _payload_schema(variant_uri: str | None, strict: bool) -> Any:
    """The variant's schema (the union when no variant is known); strict adds unevaluatedProperties."""
    uri = variant_uri or UNION
    return {"$ref": uri, "unevaluatedProperties": False} if strict and variant_uri else uri


def _fixture_pairs() -> list[Pair]:
    pairs = []
    for test in iter_fixture_tests():
        if test.kind == "payload":
            uri = CONTRACT.variant(test.variant).schema_uri if test.variant else None
            pairs.append(Pair(test.id, _payload_schema(uri, test.strict), test.data, test.valid))
            continue
        # A push: the FCM message against fcm-message.json, and its decoded data (decoded in Python,
        # as the harness does) against the payload schema. Both must hold for the push to be valid.
        message = test.data
        if isinstance(message, dict) and isinstance(message.get("message"), dict) and "token" not in message:
            message = message["message"]
        pairs.append(Pair(f"{test.id}#fcm", FCM, message, None))
        data = message.get("data") if isinstance(message, dict) else None
        if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
            variant = variant_of_push_data(data, CONTRACT)
            pairs.append(Pair(f"{test.id}#payload", _payload_schema(variant.schema_uri if variant else None, test.strict), decode_push_data(data, CONTRACT), None))
    return pairs


def _example_pairs() -> list[Pair]:
    pairs = []
    for variant in CONTRACT.variants():
        for n, example in enumerate(CONTRACT.resolve(variant.schema_uri).get("examples", [])):
            pairs.append(Pair(f"example:{variant.key}:{n}", variant.schema_uri, example, True))
            pairs.append(Pair(f"example:{variant.key}:{n}:strict", _payload_schema(variant.schema_uri, True), example, True))
            pairs.append(Pair(f"example:{variant.key}:{n}:union", UNION, example, True))
    for name, schema in CONTRACT.schemas.items():
        for n, example in enumerate(schema.get("examples", [])):
            pairs.append(Pair(f"example:{name}:{n}", schema["$id"], example, True))
    return pairs


def _data_pairs() -> list[Pair]:
    """rules.json against its meta-schema."""
    rules = json.loads((data_dir("schemas") / "rules.json").read_text(encoding="utf-8"))
    return [Pair("data:rules.json", f"{SCHEMA_BASE}rules.schema.json", rules, True)]


_ENV = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::-([^}]*))?\}")


def _env_defaults(value: Any) -> Any:
    """A profile as loaded with an empty environment: `${VAR:-default}` becomes its default."""
    if isinstance(value, str):
        return _ENV.sub(lambda m: m.group(1) or "", value)
    if isinstance(value, dict):
        return {k: _env_defaults(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_env_defaults(v) for v in value]
    return value


def _profile_pairs() -> list[Pair]:
    """The shipped target profiles against profile.schema.json."""
    profiles = data_dir("fixtures") / "profiles"
    return [
        Pair(f"data:profiles/{node.name}", f"{SCHEMA_BASE}profile.schema.json", _env_defaults(yaml.safe_load(node.read_text(encoding="utf-8"))), True)
        for node in sorted(profiles.iterdir(), key=lambda n: n.name)
        if node.name.endswith((".yaml", ".yml"))
    ]


def _case_file_pairs() -> list[Pair]:
    """Each fixture file against fixtures/case-schema.json."""
    case_schema = json.loads((data_dir("fixtures") / "case-schema.json").read_text(encoding="utf-8"))
    return [Pair(f"data:fixtures/{name}", case_schema, document, True) for name, document in load_fixture_files()]


PAIRS = _fixture_pairs() + _example_pairs() + _data_pairs() + _profile_pairs()


def _python_verdict(pair: Pair, registry: Any) -> tuple[bool, list[str]]:
    schema = {"$ref": pair.schema} if isinstance(pair.schema, str) else pair.schema
    validator = jsonschema.Draft202012Validator(schema, registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(pair.instance)]
    return not errors, errors


def _ajv(pairs: list[Pair], schema_dir: Path) -> tuple[int, dict[str, Any], str]:
    stdin = [{"id": p.id, "schema": p.schema, "instance": p.instance} for p in pairs]
    code, output, stderr = run_node("ajv_verdicts.js", str(schema_dir), stdin=stdin, package="ajv")
    assert output is not None, f"ajv_verdicts.js printed no JSON (exit {code}): {stderr}"
    return code, output, stderr


@pytest.fixture(scope="module")
def ajv_output() -> dict[str, Any]:
    code, output, stderr = _ajv(PAIRS, ROOT / "schemas")
    assert output["schemas"] and all(error is None for error in output["schemas"].values()), output["schemas"]
    assert code == 0, stderr or output
    return output


def test_every_schema_loads_in_ajv_strict_mode(ajv_output: dict[str, Any]):
    expected = {name for name, schema in CONTRACT.schemas.items()} | {"rules.schema.json"}
    assert set(ajv_output["schemas"]) >= expected - {"rules.json"}


def test_every_pair_was_judged(ajv_output: dict[str, Any]):
    assert len(PAIRS) == len({p.id for p in PAIRS}) > 200
    assert set(ajv_output["verdicts"]) == {p.id for p in PAIRS}


def test_ajv_and_jsonschema_agree_on_every_pair(ajv_output: dict[str, Any]):
    registry = CONTRACT.registry
    disagreements = []
    for pair in PAIRS:
        verdict = ajv_output["verdicts"][pair.id]
        python_valid, python_errors = _python_verdict(pair, registry)
        if verdict["valid"] is not python_valid:
            disagreements.append(f"{pair.id}: ajv {verdict['valid']} {verdict['errors']} / jsonschema {python_valid} {python_errors}")
    assert disagreements == []


def test_engines_agree_with_the_fixture_verdicts(ajv_output: dict[str, Any]):
    """Payload cases and examples: the schema alone carries the stated verdict. Push cases: the
    push is valid exactly when its FCM message and its decoded payload both are."""
    verdicts = {pid: v["valid"] for pid, v in ajv_output["verdicts"].items()}
    for pair in PAIRS:
        if pair.expected is not None:
            assert verdicts[pair.id] is pair.expected, pair.id
    for test in iter_fixture_tests():
        if test.kind == "push":
            parts = [verdicts[pid] for pid in (f"{test.id}#fcm", f"{test.id}#payload") if pid in verdicts]
            assert all(parts) is test.valid, test.id


def test_ajv_judges_for_real():
    """Negative control: a mutated example is invalid, in ajv and in jsonschema alike."""
    variant = CONTRACT.variant("friendship/new_request")
    example = dict(CONTRACT.resolve(variant.schema_uri)["examples"][0])
    bad = [
        Pair("string-id", variant.schema_uri, {**example, "friend_id": "12"}),
        Pair("bad-date", CONTRACT.variant("game-session/requested").schema_uri,
             {**CONTRACT.resolve(CONTRACT.variant("game-session/requested").schema_uri)["examples"][0], "scheduled_at": "tomorrow"}),
        Pair("extra-key-strict", _payload_schema(variant.schema_uri, True), {**example, "debug": 1}),
    ]
    _, output, _ = _ajv(bad, ROOT / "schemas")
    for pair in bad:
        assert output["verdicts"][pair.id]["valid"] is False, pair.id
        assert _python_verdict(pair, CONTRACT.registry)[0] is False, pair.id


def test_a_schema_leaning_on_a_lenient_engine_is_refused(tmp_path: Path):
    """ajv's strict mode names a schema with an unknown keyword (jsonschema ignores it silently)."""
    schema_dir = tmp_path / "schemas"
    shutil.copytree(ROOT / "schemas", schema_dir)
    chat = json.loads((schema_dir / "chat.json").read_text())
    chat["$defs"]["new_message"]["properties"]["message"]["maxLenght"] = 10  # typo: a keyword nobody knows
    (schema_dir / "chat.json").write_text(json.dumps(chat))
    code, output, _ = _ajv([], schema_dir)
    assert code == 1
    assert "maxLenght" in output["schemas"]["chat.json"]


def test_fixture_files_pass_the_case_schema_in_ajv_too():
    pairs = _case_file_pairs()
    _, output, _ = _ajv(pairs, ROOT / "schemas")
    for pair in pairs:
        verdict = output["verdicts"][pair.id]
        assert verdict["valid"] is True, (pair.id, verdict["errors"])
        assert _python_verdict(pair, CONTRACT.registry)[0] is True, pair.id
