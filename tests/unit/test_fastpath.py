"""harness.fastpath: jsonschema-rs per variant, the compiled JSON Lines batch, and life without either engine."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness import fastpath
from harness.commands import validate as validate_command
from harness.contract import load_contract
from harness.validation import judge, validate, variant_of

pytestmark = pytest.mark.skipif(not fastpath.AVAILABLE, reason="jsonschema-rs is not installed")

CONTRACT = load_contract()
VARIANTS = list(CONTRACT.variants())
FRIEND = CONTRACT.variant("friendship/new_request")
GAME = CONTRACT.variant("game-session/requested")
CHAT = CONTRACT.variant("chat/new_message")


def example(variant: Any) -> dict[str, Any]:
    return dict(CONTRACT.resolve(variant.schema_uri)["examples"][0])


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.key for v in VARIANTS])
def test_each_example_passes_and_a_broken_one_defers(variant):
    payload = example(variant)
    assert fastpath.is_valid(payload, variant)
    assert fastpath.is_valid(payload, variant, strict=True)
    payload["message_type"] = "api_friendship"
    assert not fastpath.is_valid(payload, variant)


def test_date_time_format_is_enforced():
    assert fastpath.is_valid(dict(example(GAME), scheduled_at=None), GAME)
    assert fastpath.is_valid(dict(example(GAME), scheduled_at="2026-11-25T14:00:00+01:00"), GAME)
    assert not fastpath.is_valid(dict(example(GAME), scheduled_at="2026-11-25 14:00"), GAME)
    assert not fastpath.is_valid(dict(example(GAME), scheduled_at="2026-02-30T14:00:00Z"), GAME)


def test_strict_mode_rejects_keys_beyond_the_contract():
    payload = dict(example(FRIEND), created_at="2026-11-25T14:00:00Z")
    assert fastpath.is_valid(payload, FRIEND)
    assert not fastpath.is_valid(payload, FRIEND, strict=True)
    # The chat thread is open: its extra keys are the backend's, even in strict mode.
    assert fastpath.is_valid(example(CHAT), CHAT, strict=True)


def test_references_resolve_from_the_bundled_schemas_only():
    import jsonschema_rs

    with pytest.raises((jsonschema_rs.ReferencingError, jsonschema_rs.ValidationError), match="(?i)retriev"):
        fastpath._compile({"$ref": "https://schemas.buddy4all.dev/notifications/v1/missing.json"})
    for variant in VARIANTS:  # every reference of the contract resolves, in both modes
        for strict in (False, True):
            assert fastpath._single(variant.schema_uri, strict) is fastpath._single(variant.schema_uri, strict)


def test_values_jsonschema_rs_cannot_take_go_to_jsonschema():
    payload = {**example(CHAT), 7: "seven"}  # not JSON: jsonschema-rs refuses the int key
    assert fastpath.is_valid(payload, CHAT) is False  # "ask jsonschema", not an exception
    assert validate(payload) == []  # ...which judges it valid


def test_lone_surrogates_do_not_break_the_fast_path():
    call = CONTRACT.variant("call/requested")
    payload = dict(example(call), session_id="\ud800")  # what json.loads('"\\ud800"') gives
    assert fastpath.is_valid(payload, call) is (validate(payload) == []) is True
    assert [v.pointer for v in validate(dict(payload, call_id="901"))] == ["/call_id"]


def line(payload: Any) -> str:
    return json.dumps(payload) + "\n"


needs_msgspec = pytest.mark.skipif(not fastpath.lines_available(), reason="msgspec is not installed")


@needs_msgspec
def test_batch_answers_each_line_with_its_variant_or_none():
    friend, game = example(FRIEND), example(GAME)
    lines: list[str | bytes] = [
        line(friend),
        line(game).encode(),  # bytes work too
        line(dict(friend, friend_id="12")),  # invalid: jsonschema must explain
        '{"message_type": "api_friendship_status",\n',  # malformed
        "\n",  # blank
        '{"message_type": "api_chat_message", "message": NaN, "thread": {"id": 1}}\n',  # json.loads only
        '{"message_type": "api_chat_message", "message": "\\ud800", "thread": {"id": 1}}\n',  # lone surrogate
        line([friend]),
        line("api_friendship_status"),
        line(dict(friend, message_type="api_friendship")),
        line(dict(friend, message_type=["api_friendship_status"])),  # unhashable
        line(dict(friend, status={"new_request": 1})),  # unhashable
        line(dict(friend, status=1)),
        line({k: v for k, v in friend.items() if k != "status"}),
        line(dict(friend, friend_id=12.0)),  # an integer to JSON Schema, refused by the compiled types
        line(dict(game, scheduled_at="2028-02-29T10:00:00Z")),  # a leap day: left to the precise path
        '{"message_type": "api_chat_message", "message": "x", "thread": {"id": 1}, "extra": 1e400}\n',  # inf to json.loads
        line(dict(friend, friend_id=18446744073709551616)),  # beyond 64 bits: still an integer
        line(dict(friend, surplus={"any": ["json", None]})),  # extra keys pass (not strict)
        line(dict(friend, status="canceled")).replace('"status": "canceled"', '"status": "accepted", "status": "canceled"'),
    ]
    canceled = CONTRACT.variant("friendship/canceled")
    expected = [FRIEND, GAME] + [None] * 14 + [CHAT, FRIEND, FRIEND, canceled]
    batch = fastpath.BatchValidator()
    assert batch.judge(lines) == expected
    assert batch.failures(lines) == [i for i, v in enumerate(expected) if v is None]
    # A None is never a verdict on its own: some of those lines are valid (the precise path says so).
    for text, verdict in zip(lines, expected):
        try:
            payload = json.loads(text)
        except json.JSONDecodeError:
            assert verdict is None
            continue
        if verdict is not None:
            # json.loads keeps the last of duplicate keys, and so do the compiled types.
            assert validate(payload) == [] and variant_of(payload) == verdict
    assert [validate(json.loads(t)) == [] for t in lines[14:16]] == [True, True]


@needs_msgspec
def test_batch_finds_invalid_lines_across_blocks_and_in_strict_mode():
    payloads = [example(VARIANTS[i % len(VARIANTS)]) for i in range(1000)]
    bad = {0, 255, 256, 257, 511, 512, 999}
    for i in bad:
        payloads[i]["message_type" if i % 2 else "extra"] = "api_friendship" if i % 2 else 1
    verdicts = fastpath.BatchValidator(strict=True).judge([json.dumps(p) for p in payloads])
    assert {i for i, v in enumerate(verdicts) if v is None} == bad
    assert all(v == variant_of(p) for v, p in zip(verdicts, payloads) if v is not None)
    lax = fastpath.BatchValidator().judge([json.dumps(p) for p in payloads])
    assert {i for i, v in enumerate(lax) if v is None} == {i for i in bad if i % 2}  # extra keys pass
    # Strict closes the top level only: the chat thread is the backend's own object.
    chat = dict(example(CHAT), thread={"id": 5, "participant_ids": [1, 2]})
    assert fastpath.BatchValidator(strict=True).judge([json.dumps(chat)]) == [CHAT]


def test_error_locations_are_jsonschema_rs_errors_in_order():
    payload = {k: v for k, v in example(GAME).items() if k not in ("game_id", "user_id")}
    payload.update(session_id=0, scheduled_at="soon", extra=True)
    assert fastpath.error_locations(example(GAME), GAME) == []
    assert fastpath.error_locations(payload, GAME) == [
        ([], ["required"]), ([], ["required"]),
        (["session_id"], ["properties", "session_id", "minimum"]),
        (["scheduled_at"], ["properties", "scheduled_at", "format"]),
    ]
    assert fastpath.error_locations(payload, GAME, strict=True)[-1] == ([], ["unevaluatedProperties"])
    assert fastpath.error_locations({**example(CHAT), 7: "seven"}, CHAT) is None  # not JSON: ask jsonschema


def run_validate_jsonl(path: Path, *flags: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    validate_command.configure(parser)
    code = validate_command.run(parser.parse_args(["--jsonl", *flags, str(path)]))
    return code, capsys.readouterr().out


def test_b4a_validate_jsonl_takes_the_fast_path(tmp_path, monkeypatch, capsys):
    payloads = [example(VARIANTS[i % len(VARIANTS)]) for i in range(5000)]
    payloads[4095]["friend_id" if "friend_id" in payloads[4095] else "message_type"] = "12"  # last of the first batch
    payloads[4096].pop("message_type")  # first of the second
    payloads[4999]["surplus"] = True  # only strict mode minds
    path = tmp_path / "big.jsonl"
    path.write_text("".join(line(p) for p in payloads))
    calls: list[Any] = []

    def counting(payload: Any, **kwargs: Any) -> Any:
        calls.append(payload)
        return judge(payload, **kwargs)

    monkeypatch.setattr(validate_command, "judge", counting)
    code, out = run_validate_jsonl(path, capsys=capsys)
    assert code == 1
    assert f"{path}:4096: /" in out and f"{path}:4097: /message_type: required key 'message_type' is missing" in out
    assert out.strip().endswith("5000 payloads checked: 4998 valid, 2 invalid (2 violations)")
    assert len(calls) == 2  # jsonschema only saw the two lines the fast path did not pass

    code, out = run_validate_jsonl(path, "--strict", "--format", "json", capsys=capsys)
    *results, summary = [json.loads(text) for text in out.splitlines()]  # JSON Lines
    assert code == 1 and summary == {"summary": {"checked": 5000, "valid": 4997, "invalid": 3, "strict": True}}
    assert results[4999]["violations"][0]["pointer"] == "/surplus"
    assert results[0] == {"source": f"{path}:1", "variant": VARIANTS[0].key, "valid": True, "violations": []}
    assert [r["valid"] for r in results].count(False) == 3


WITHOUT_ENGINE = r"""
import json, sys
for name in sys.argv[2:]:
    sys.modules[name] = None  # `import <name>` now raises ImportError
from harness import fastpath
from harness.cli import main
from harness.fixtures import iter_fixture_tests
from harness.validation import validate
wrong = [t.id for t in iter_fixture_tests() if t.kind == "payload" and (validate(t.data, strict=t.strict) == []) != t.valid]
example = {"message": "hi", "message_type": "api_chat_message", "thread": {"id": 1}}
print(json.dumps({
    "rs": fastpath.AVAILABLE,
    "lines": fastpath.lines_available(),
    "is_valid": fastpath.is_valid(example, fastpath.load_contract().variant("chat/new_message")),
    "judge": [v and v.key for v in fastpath.BatchValidator().judge([json.dumps(example)])],
    "wrong": wrong,
}))
sys.stdout.flush()
sys.exit(main(["validate", "--jsonl", sys.argv[1]]))
"""


@pytest.mark.parametrize("missing", [["jsonschema_rs"], ["msgspec"], ["jsonschema_rs", "msgspec"]], ids="+".join)
def test_without_an_engine_the_precise_path_judges(tmp_path, missing):
    path = tmp_path / "two.jsonl"
    path.write_text(line(example(CHAT)) + line(dict(example(CHAT), thread={"id": "88"})))
    result = subprocess.run([sys.executable, "-c", WITHOUT_ENGINE, str(path), *missing], capture_output=True, text=True, timeout=120)
    first, *rest = result.stdout.splitlines()
    rs, lines = "jsonschema_rs" not in missing, "msgspec" not in missing
    assert json.loads(first) == {"rs": rs, "lines": lines, "is_valid": rs, "judge": ["chat/new_message" if lines else None], "wrong": []}, result.stderr
    assert result.returncode == 1, result.stderr
    assert f"{path}:2: /thread/id: \"88\" is not of type integer" in "\n".join(rest)
    assert rest[-1] == "2 payloads checked: 1 valid, 1 invalid (1 violations)"
