"""`b4a validate --jsonl` streams: blocks of whole lines, UTF-8 checked, results written per block.

In-process, with the block size shrunk so that a few lines cross many block boundaries; the
same inputs through the real process (stdin, progress on a terminal, a closed pipe) are in
tests/acceptance/test_validate_cli.py.
"""
from __future__ import annotations

import argparse
import io
import json
from typing import Any

import pytest

from harness.commands import validate as validate_command
from harness.contract import load_contract

CONTRACT = load_contract()
FRIEND = {"message": "friendship status changed", "message_type": "api_friendship_status", "status": "new_request", "friend_id": 12, "open_requests": 3}
CHAT = {"message": "Bis später 👋", "message_type": "api_chat_message", "thread": {"id": 5, "participant_ids": [1, 2]}}


def text(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def run(data: bytes, *flags: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """`b4a validate --jsonl - FLAGS` with `data` on stdin."""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    parser = argparse.ArgumentParser()
    validate_command.configure(parser)
    code = validate_command.run(parser.parse_args(["--jsonl", *flags, "-"]))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(params=[1 << 20, 7, 64], ids=["1MB-blocks", "7B-blocks", "64B-blocks"])
def block(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Every test runs with real blocks and with blocks far shorter than a line."""
    monkeypatch.setattr(validate_command, "_BLOCK", request.param)
    monkeypatch.setattr(validate_command, "_UTF8_STEP", max(1, request.param // 4))
    return int(request.param)


MIXED = b"".join([
    text(FRIEND) + b"\n",
    b"\n",  # blank: not a payload, but a line
    text(dict(FRIEND, friend_id="12")) + b"\r\n",  # CRLF
    "\u00a0 \t".encode() + b"\n",  # Unicode whitespace only: blank too
    text(CHAT) + b"\n",
    text(dict(CHAT, thread={"id": 0})) + b"\n",
    b'{"message_type": "api_chat_message", "message": "hi", "thread": {"id": 1}, "score": NaN}\n',  # json.loads reads it
    text(dict(FRIEND, friend_id=7.0)),  # the last line, without "\n"; valid (7.0 is an integer)
])


def test_lines_are_numbered_and_judged_across_any_block_size(block, capsys, monkeypatch):
    code, out, err = run(MIXED, capsys=capsys, monkeypatch=monkeypatch)
    assert code == 1 and err == ""
    assert out.splitlines() == [
        '<stdin>:3: /friend_id: "12" is not of type integer (PAY-004 MUST: ' + CONTRACT.rule("PAY-004").title + ") [judged as friendship/new_request]",
        "<stdin>:6: /thread/id: 0 is less than the minimum 1 (PAY-004 MUST: " + CONTRACT.rule("PAY-004").title + ") [judged as chat/new_message]",
        "6 payloads checked: 4 valid, 2 invalid (2 violations)",
    ]


def test_json_lines_output_is_one_object_per_payload_then_the_summary(block, capsys, monkeypatch):
    code, out, _ = run(MIXED, "--format", "json", capsys=capsys, monkeypatch=monkeypatch)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert [json.dumps(r) for r in records] == out.splitlines()  # the fast records are json.dumps's text
    assert [(r["source"], r["variant"], r["valid"]) for r in records[:-1]] == [
        ("<stdin>:1", "friendship/new_request", True),
        ("<stdin>:3", "friendship/new_request", False),
        ("<stdin>:5", "chat/new_message", True),
        ("<stdin>:6", "chat/new_message", False),
        ("<stdin>:7", "chat/new_message", True),
        ("<stdin>:8", "friendship/new_request", True),
    ]
    assert records[0] == {"source": "<stdin>:1", "variant": "friendship/new_request", "valid": True, "violations": []}
    assert records[3]["violations"][0]["source"] == "<stdin>:6"
    assert records[-1] == {"summary": {"checked": 6, "valid": 4, "invalid": 2, "strict": False}}


def test_a_file_name_that_needs_escaping_stays_valid_json(tmp_path, capsys):
    path = tmp_path / 'we"ird\\name.jsonl'
    path.write_bytes(text(FRIEND) + b"\n")
    parser = argparse.ArgumentParser()
    validate_command.configure(parser)
    assert validate_command.run(parser.parse_args(["--jsonl", "--format", "json", str(path)])) == 0
    first, summary = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["source"] == f"{path}:1" and summary["summary"]["valid"] == 1


def test_bytes_that_are_not_utf8_end_the_run_after_the_lines_before_them(block, capsys, monkeypatch):
    data = text(dict(FRIEND, friend_id=0)) + b"\n" + text(FRIEND) + b"\n" + b'{"message_type": "x\xff"}\n' + text(FRIEND) + b"\n"
    code, out, err = run(data, capsys=capsys, monkeypatch=monkeypatch)
    assert code == 2
    assert out.startswith("<stdin>:1: /friend_id: 0 is less than the minimum 1")  # judged before
    offset = data.index(b"\xff")
    assert err.strip() == f"b4a validate: <stdin>:3: not UTF-8 text (invalid start byte at byte {offset})"


def test_bytes_that_are_not_utf8_in_a_key_the_fast_path_skips_are_caught(capsys, monkeypatch):
    # msgspec does not look into the keys it skips: the block check must.
    data = text(FRIEND)[:-1] + b', "extra\xc3": 1}\n'
    code, _, err = run(data, capsys=capsys, monkeypatch=monkeypatch)
    assert code == 2 and "<stdin>:1: not UTF-8 text" in err


@pytest.mark.parametrize(("line", "message"), [
    (b'{"message_type": \n', "<stdin>:1:18: malformed JSON: Expecting value"),
    (b"[" * 100_000 + b"]" * 100_000 + b"\n", "<stdin>:1: cannot read this JSON: nested too deeply"),
    (b'{"message_type": "api_chat_message", "thread": {"id": ' + b"1" * 5000 + b'}}\n', "<stdin>:1: cannot read this JSON: Exceeds the limit (4300 digits)"),
])
def test_unreadable_lines_exit_2_with_one_line(line, message, capsys, monkeypatch):
    code, _, err = run(text(FRIEND) + b"\n" + line, capsys=capsys, monkeypatch=monkeypatch)
    assert code == 2
    assert err.startswith("b4a validate: " + message.replace("<stdin>:1", "<stdin>:2")) and len(err.splitlines()) == 1


def test_a_line_longer_than_a_block_is_one_line(capsys, monkeypatch):
    long_chat = dict(CHAT, message="x" * 3_000_000)  # three 1 MB blocks
    code, out, _ = run(text(long_chat) + b"\n" + text(dict(long_chat, thread={})) + b"\n", capsys=capsys, monkeypatch=monkeypatch)
    assert code == 1
    assert out.splitlines()[0].startswith("<stdin>:2: /thread/id: required key 'id' is missing")
    assert out.splitlines()[-1] == "2 payloads checked: 1 valid, 1 invalid (1 violations)"


def test_push_messages_stream_too(block, capsys, monkeypatch):
    from harness.push_codec import encode_push_data

    good = {"token": "t", "data": encode_push_data(FRIEND)}
    bad = {"token": "t", "data": dict(encode_push_data(FRIEND), friend_id="twelve")}
    code, out, _ = run(text(good) + b"\n" + text(bad) + b"\n", "--push", capsys=capsys, monkeypatch=monkeypatch)
    assert code == 1
    assert out.splitlines()[0].startswith('<stdin>:2: /data/friend_id: "twelve" is not of type integer')


def test_blocks_are_whole_lines_and_bounded(monkeypatch):
    monkeypatch.setattr(validate_command, "_BLOCK", 10)
    data = b"a" * 25 + b"\nbb\n" + b"c" * 3 + b"\n" + b"tail"
    blocks = list(validate_command._blocks(io.BytesIO(data)))
    assert b"".join(blocks) == data
    assert all(b.endswith(b"\n") for b in blocks[:-1]) and blocks[-1] == b"tail"
    assert max(len(b) for b in blocks) <= 25 + 1 + 10  # the longest line plus one read at most
    assert validate_command.split_lines(b"x\n\ny\n") == [b"x", b"", b"y"]
    assert validate_command.split_lines(b"x\ny") == [b"x", b"y"]
