"""`b4a validate` as a user runs it: exit codes, messages, line numbers, formats."""
from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harness.fixtures import iter_fixture_tests
from harness.push_codec import encode_push_data

VALID = {"message": "friendship status changed", "message_type": "api_friendship_status", "status": "new_request", "friend_id": 12, "open_requests": 3}


def json_lines(text: str) -> list[dict]:
    """`--jsonl --format json` output: one JSON object per line."""
    return [json.loads(line) for line in text.splitlines()]


def b4a(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=60)


def test_missing_keys_on_stdin_are_named_and_exit_1():
    result = b4a("validate", "-", stdin='{"message_type":"api_chat_message"}')
    assert result.returncode == 1
    assert "/message: required key 'message' is missing (PAY-003" in result.stdout
    assert "/thread: required key 'thread' is missing" in result.stdout
    assert "[judged as chat/new_message]" in result.stdout
    assert "not valid under any of the given schemas" not in result.stdout
    assert result.stdout.strip().endswith("1 payloads checked: 0 valid, 1 invalid (2 violations)")


def test_a_missing_file_exits_2_with_one_line():
    result = b4a("validate", "nosuchfile")
    assert result.returncode == 2
    assert result.stderr.strip() == "b4a validate: nosuchfile: no such file"
    assert result.stdout == ""


def test_truncated_json_names_line_and_column(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text('{\n  "message_type": "api_chat_message",\n  "thread": {"id": ')
    result = b4a("validate", str(path))
    assert result.returncode == 2
    assert f"{path}:3:" in result.stderr and "malformed JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_valid_file_exits_0(tmp_path):
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(VALID))
    result = b4a("validate", str(path))
    assert result.returncode == 0, result.stdout
    assert "1 payloads checked: 1 valid, 0 invalid" in result.stdout


def test_jsonl_errors_carry_line_numbers(tmp_path):
    path = tmp_path / "capture.jsonl"
    bad = dict(VALID, friend_id="12")
    path.write_text("\n".join(json.dumps(p) for p in (VALID, VALID, bad, VALID)) + "\n")
    result = b4a("validate", "--jsonl", str(path))
    assert result.returncode == 1
    assert f'{path}:3: /friend_id: "12" is not of type integer (PAY-004' in result.stdout
    assert "4 payloads checked: 3 valid, 1 invalid" in result.stdout


def test_jsonl_malformed_line_exits_2_naming_the_line(tmp_path):
    path = tmp_path / "capture.jsonl"
    path.write_text(json.dumps(VALID) + "\n" + '{"message_type": \n')
    result = b4a("validate", "--jsonl", str(path))
    assert result.returncode == 2
    assert f"{path}:2:" in result.stderr


def test_strict_reports_unknown_keys_and_fails(tmp_path):
    path = tmp_path / "extra.json"
    path.write_text(json.dumps(dict(VALID, trace_id="x")))
    assert b4a("validate", str(path)).returncode == 0
    strict = b4a("validate", "--strict", str(path))
    assert strict.returncode == 1
    assert "/trace_id: key 'trace_id' is not part of the contract (PAY-006 SHOULD" in strict.stdout


def test_json_format_is_machine_readable(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(dict(VALID, status="pending")))
    result = b4a("validate", "--format", "json", str(path))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["summary"] == {"checked": 1, "valid": 0, "invalid": 1, "strict": False}
    [violation] = report["results"][0]["violations"]
    assert (violation["rule_id"], violation["pointer"], violation["level"]) == ("PAY-002", "/status", "MUST")


def test_push_mode_judges_the_decoded_data(tmp_path):
    good = {"message": {"token": "dev-1", "data": encode_push_data(VALID)}}
    bad = {"token": "dev-1", "data": dict(encode_push_data(VALID), friend_id="twelve")}
    (tmp_path / "good.json").write_text(json.dumps(good))
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    assert b4a("validate", "--push", str(tmp_path / "good.json")).returncode == 0
    result = b4a("validate", "--push", str(tmp_path / "bad.json"))
    assert result.returncode == 1
    assert '/data/friend_id: "twelve" is not of type integer' in result.stdout


def test_usage_errors_exit_2():
    assert b4a("validate").returncode == 2
    assert b4a("validate", "--format", "yaml", "x.json").returncode == 2
    assert b4a("nosuchcommand").returncode == 2


def test_every_fixture_through_the_cli(tmp_path):
    """The bundled cases through the real command: valid ones exit 0, invalid ones name their pointer."""
    tests = list(iter_fixture_tests())
    for kind in ("payload", "push"):
        chosen = [t for t in tests if t.kind == kind and not t.strict]
        lines = tmp_path / f"{kind}.jsonl"
        lines.write_text("".join(json.dumps(t.data) + "\n" for t in chosen))
        args = ["validate", "--jsonl", "--format", "json", str(lines)] + (["--push"] if kind == "push" else [])
        *results, summary = json_lines(b4a(*args).stdout)
        assert summary["summary"]["checked"] == len(chosen)
        for test, result in zip(chosen, results, strict=True):
            assert result["valid"] is test.valid, test.id
            got = {(v["rule_id"], v["pointer"]) for v in result["violations"]}
            assert set(test.violations) <= got, (test.id, got)


def test_a_directory_is_a_clear_error(tmp_path):
    result = b4a("validate", str(tmp_path))
    assert result.returncode == 2
    assert "is a directory" in result.stderr


@pytest.mark.parametrize("text", ["", "   \n"])
def test_empty_input_is_a_clear_error(text):
    result = b4a("validate", "-", stdin=text)
    assert result.returncode == 2
    assert "empty input" in result.stderr


# -- JSON Lines as a stream: stdin, results as judged, progress on a terminal only, closed pipes --


def b4a_process(*args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "harness", *args], **kwargs)


def read_line(stream: Any, timeout: float = 60) -> bytes:
    """One line of a child's output, or fail after `timeout` (instead of hanging the suite)."""
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, f"no output within {timeout} s"
    return stream.readline()


def test_jsonl_from_stdin_writes_each_result_before_the_input_ends():
    process = b4a_process("validate", "--jsonl", "-", stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        process.stdin.write(json.dumps(dict(VALID, friend_id="12")).encode() + b"\n")
        process.stdin.flush()
        # stdin is still open: the first line was judged and its violation written already.
        assert read_line(process.stdout).startswith(b'<stdin>:1: /friend_id: "12" is not of type integer')
        process.stdin.write(json.dumps(VALID).encode() + b"\n" + json.dumps(dict(VALID, status="x")).encode() + b"\n")
        process.stdin.close()
        rest = process.stdout.read().decode()
        assert process.wait(timeout=60) == 1
    finally:
        process.kill()
    assert rest.splitlines()[0].startswith("<stdin>:3: /status: unknown status")
    assert rest.splitlines()[-1] == "3 payloads checked: 1 valid, 2 invalid (2 violations)"
    assert process.stderr.read() == b""  # not a terminal: no progress


def many_lines(path: Path, count: int, last: dict[str, Any] | None = None) -> Path:
    path.write_text((json.dumps(VALID) + "\n") * (count - 1) + json.dumps(last or VALID) + "\n")
    return path


def test_progress_shows_on_a_terminal_a_few_times_a_second(tmp_path):
    path = many_lines(tmp_path / "many.jsonl", 150_000, last=dict(VALID, friend_id=0))
    main, terminal = pty.openpty()
    started = time.monotonic()
    process = b4a_process("validate", "--jsonl", str(path), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal)
    os.close(terminal)
    shown = b""
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal, i.e. exited
            break
        if not data:
            break
        shown += data
    os.close(main)
    stdout = process.stdout.read().decode()
    assert process.wait(timeout=60) == 1
    elapsed = time.monotonic() - started
    draws = re.findall(rb"\r([\d,]+) lines judged, ([\d,]+) lines/s, ([\d,]+) invalid\x1b\[K", shown)
    assert draws, shown
    assert len(draws) <= 2 + elapsed / 0.25, (len(draws), elapsed)  # at most 4 a second
    counts = [int(done.replace(b",", b"")) for done, _, _ in draws]
    assert counts == sorted(counts) and counts[-1] <= 150_000
    assert shown.endswith(b"\r\x1b[K")  # erased at the end: the terminal keeps only the results
    assert stdout.splitlines()[-1] == "150000 payloads checked: 149999 valid, 1 invalid (1 violations)"


def test_no_progress_when_stderr_is_a_pipe(tmp_path):
    result = b4a("validate", "--jsonl", str(many_lines(tmp_path / "many.jsonl", 20_000)))
    assert result.returncode == 0 and result.stderr == ""


def test_a_reader_that_stops_early_is_no_error_and_the_exit_code_still_judges_everything(tmp_path):
    path = many_lines(tmp_path / "many.jsonl", 100_000, last=dict(VALID, friend_id="12"))
    process = b4a_process("validate", "--jsonl", "--format", "json", str(path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = json.loads(read_line(process.stdout))
    process.stdout.close()  # like `| head -1`
    assert process.wait(timeout=60) == 1  # the invalid last line was still judged
    assert first["source"] == f"{path}:1"
    assert process.stderr.read() == b""  # no traceback, no BrokenPipeError


def test_help_documents_the_json_lines_output_and_progress():
    text = " ".join(b4a("validate", "--help").stdout.split())
    assert "with --jsonl, JSON Lines instead, written as the input is judged" in text
    assert '{"summary": {...}} object last' in text and "progress" in text
