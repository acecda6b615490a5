"""`b4a validate`: judge payloads (or FCM messages) from files, stdin or JSON Lines.

JSON Lines are streamed: read in blocks of about a megabyte of whole lines, judged block by
block (harness.fastpath.BatchValidator first, the precise path for the lines it does not pass),
and each result written as soon as it is judged; only counters outlive a block. So memory does
not grow with the input (bench/validate.py measures it on a file of hundreds of megabytes).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TextIO

from harness.contract import Variant
from harness.exit_codes import ExitCode
from harness.push_codec import variant_of_push_data
from harness.validation import judge, unwrap_send_body, validate_push
from harness.violations import Level, Violation

try:  # parses the lines the fast path did not pass; json.loads does without it
    import msgspec

    _decode, _DecodeError = msgspec.json.decode, msgspec.DecodeError
except ImportError:  # pragma: no cover - exercised in a subprocess by the tests
    _decode, _DecodeError = json.loads, json.JSONDecodeError  # type: ignore[assignment]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="JSON file(s) holding one payload each (or an array of payloads); '-' reads stdin")
    parser.add_argument("--jsonl", action="store_true", help="each input holds one JSON payload per line, streamed in bounded memory (errors carry line numbers)")
    parser.add_argument("--push", action="store_true", help="inputs are FCM v1 message objects (or {\"message\": ...} send bodies), judged with their decoded data")
    parser.add_argument("--strict", action="store_true", help="also report keys beyond the contract's (SHOULD) and fail on them")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text",
        help="output format (default: text). json: one JSON document {\"summary\": {...}, \"results\": [...]}; "
        "with --jsonl, JSON Lines instead, written as the input is judged: one object per payload "
        "({\"source\", \"variant\", \"valid\", \"violations\"}, in input order), then one {\"summary\": {...}} object last",
    )
    parser.epilog = (
        "Exit codes: 0 all valid, 1 an invalid payload, 2 usage error, unreadable file or malformed JSON "
        "(results judged before a malformed line are already written; no summary follows). "
        "With --jsonl on a terminal, progress (lines, rate, invalid so far) is shown on stderr."
    )


@dataclass
class Result:
    source: str
    variant: str | None
    violations: list[Violation] = field(default_factory=list)


class InputError(Exception):
    """An input that cannot be read or parsed: exit 2 with one line."""


# -- reading -----------------------------------------------------------------------------------


def _open(path: str, binary: bool = False) -> Any:
    if path == "-":
        return sys.stdin.buffer if binary else sys.stdin
    try:
        return open(path, "rb") if binary else open(path, encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a JSON file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None


def _parse(text: str, name: str, line_offset: int = 0) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}:{exc.lineno + line_offset}:{exc.colno}: malformed JSON: {exc.msg}") from None
    except RecursionError:
        raise InputError(f"{name}:{line_offset + 1}: cannot read this JSON: nested too deeply") from None
    except ValueError as exc:  # valid JSON Python will not read: an integer of more than 4300 digits
        raise InputError(f"{name}:{line_offset + 1}: cannot read this JSON: {str(exc).split(';')[0]}") from None


def _documents(path: str) -> Iterator[tuple[str, Any]]:
    """The payloads of a JSON file: the document, or each item of an array."""
    name = "<stdin>" if path == "-" else path
    stream: TextIO = _open(path)
    try:
        text = stream.read()
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    finally:
        if stream is not sys.stdin:
            stream.close()
    if not text.strip():
        raise InputError(f"{name}: empty input, expected a JSON payload")
    document = _parse(text, name)
    if isinstance(document, list):
        for index, item in enumerate(document):
            yield f"{name}[{index}]", item
    else:
        yield f"{name}:1", document


#: Bytes read per block of JSON Lines: big enough to amortise a block's Python overhead, small
#: enough to stay in the CPU cache. Memory is a few of these plus the longest line, whatever the
#: input size.
_BLOCK = 1 << 20


def _blocks(stream: BinaryIO) -> Iterator[bytes]:
    """The input in blocks of whole lines (the last one may lack its "\\n"), each about `_BLOCK`
    bytes, or one long line. Lines end at "\\n" (a "\\r" before it is JSON whitespace)."""
    read = getattr(stream, "read1", stream.read)  # read1: what a pipe has now, not a full block
    pending: list[bytes] = []  # a line not yet ended, in parts (a long line is joined once)
    while True:
        chunk = read(_BLOCK)
        if not chunk:
            if pending:
                yield b"".join(pending)
            return
        end = chunk.rfind(b"\n") + 1
        if not end:
            pending.append(chunk)
            continue
        yield b"".join([*pending, memoryview(chunk)[:end]]) if pending else chunk[:end]
        pending = [chunk[end:]] if end < len(chunk) else []


#: Bytes decoded per step of the UTF-8 check: the text it builds (and drops) stays small, which
#: keeps the allocator from fragmenting (one decode per megabyte block grew the RSS steadily).
_UTF8_STEP = 1 << 14


def utf8_error(data: bytes) -> UnicodeDecodeError | None:
    """The first UTF-8 error in a block of whole lines, with `start` as an offset in `data`.

    A check only, and a necessary one: msgspec does not look into the strings it skips (keys
    beyond the contract's), json.loads of the text did. An ASCII block costs nothing."""
    if data.isascii():
        return None
    view, start, size = memoryview(data), 0, len(data)
    while start < size:
        stop = data.find(b"\n", start + _UTF8_STEP) + 1 or size  # "\n" never ends a multibyte sequence
        try:
            str(view[start:stop], "utf-8")
        except UnicodeDecodeError as exc:
            exc.start, exc.end = exc.start + start, exc.end + start
            return exc
        start = stop
    return None


def split_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()  # split leaves an empty string after the last "\n"
    return lines


# -- judging -----------------------------------------------------------------------------------


def _judge(source: str, document: Any, push: bool, strict: bool) -> Result:
    if push:
        message, _ = unwrap_send_body(document)
        data = message.get("data") if isinstance(message, dict) else None
        variant = variant_of_push_data(data) if isinstance(data, dict) else None
        violations = [v.at(source) for v in validate_push(document, strict=strict)]
    else:
        variant, violations = judge(document, strict=strict, source=source)
    return Result(source, variant.key if variant else None, violations)


class _Lines:
    """Judges JSON Lines inputs block by block into a report."""

    def __init__(self, args: argparse.Namespace, report: _Report) -> None:
        self.push, self.strict, self.report = args.push, args.strict, report
        self.batch = None
        if not args.push:
            from harness.fastpath import BatchValidator

            self.batch = BatchValidator(strict=args.strict)

    def judge(self, path: str, progress: _Progress | None) -> None:
        name = "<stdin>" if path == "-" else path
        stream: BinaryIO = _open(path, binary=True)
        number, offset = 1, 0  # the first line of the next block, and its byte offset in the input
        try:
            for data in _blocks(stream):
                bad = utf8_error(data)
                if bad is not None:  # the whole lines before the bad bytes are judged first
                    good = data[: data.rfind(b"\n", 0, bad.start) + 1]
                    self.block(name, number, split_lines(good))
                    where = number + good.count(b"\n")
                    raise InputError(f"{name}:{where}: not UTF-8 text ({bad.reason} at byte {offset + bad.start})")
                lines = split_lines(data)
                self.block(name, number, lines)
                number, offset = number + len(lines), offset + len(data)
                if progress:
                    progress.update(self.report)
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()

    def block(self, name: str, first: int, lines: list[bytes]) -> None:
        """Judge the lines of one block (checked to be UTF-8), numbered from `first`, into the report."""
        report, batch = self.report, self.batch
        if batch is None:  # FCM messages: every line takes the precise path
            for offset, line in enumerate(lines):
                self._precise(line, name, first + offset)
        elif report.wants_valid:  # a record per line
            for offset, variant in enumerate(batch.judge(lines)):
                if variant is None:
                    self._precise(lines[offset], name, first + offset)
                else:
                    report.valid(name, first + offset, variant)
        else:  # errors only: the lines that passed are only counted
            failed = batch.failures(lines)
            report.passed += len(lines) - len(failed)
            for offset in failed:
                self._precise(lines[offset], name, first + offset)
        report.flush()

    def _precise(self, line: bytes, name: str, number: int) -> None:
        """A line the fast path did not pass: parsed exactly as `json.loads` reads it (msgspec
        first: it reads the same values 5x faster, and refuses what it would read differently,
        such as NaN), then judged by harness.validation. A blank line is no payload (not counted)."""
        if not line.strip():
            return
        try:
            document = _decode(line)
        except (_DecodeError, RecursionError):
            text = line.decode("utf-8")  # checked already
            if not text.strip():
                return  # Unicode whitespace only: blank too
            document = _parse(text, name, number - 1)
        self.report.add(_judge(f"{name}:{number}", document, self.push, self.strict))


# -- reporting ---------------------------------------------------------------------------------


class _Report:
    """Results, written as they are judged and then forgotten: only counters are kept (and, for
    the one-document `--format json`, the results, whose inputs are read whole anyway)."""

    def __init__(self, args: argparse.Namespace, stream: TextIO) -> None:
        self.stream, self.strict = stream, args.strict
        self.kind = "FCM messages" if args.push else "payloads"
        self.json_lines = args.format == "json" and args.jsonl
        self.document: list[dict[str, Any]] | None = [] if args.format == "json" and not args.jsonl else None
        #: Whether every valid payload needs a record (`valid()`), or only a count (`passed`).
        self.wants_valid = args.format == "json"
        self.passed = 0  # valid payloads counted without a Result
        self.results = self.invalid = self.violations = 0
        self.failing = False
        self._pending: list[str] = []
        self._sources: dict[str, str] = {}
        self._suffixes: dict[int, str] = {}

    @property
    def checked(self) -> int:
        return self.passed + self.results

    def valid(self, name: str, number: int, variant: Variant) -> None:
        """A valid line of a JSON Lines input, its record written without building a Result:
        the same text `json.dumps(_record(...))` gives, from pieces escaped once."""
        self.passed += 1
        prefix = self._sources.get(name)
        if prefix is None:  # `{"source": "name`
            prefix = self._sources[name] = '{"source": ' + json.dumps(name)[:-1]
        suffix = self._suffixes.get(id(variant))  # (the contract's Variants live as long as the process)
        if suffix is None:
            suffix = self._suffixes[id(variant)] = f'", "variant": {json.dumps(variant.key)}, "valid": true, "violations": []}}\n'
        self._pending.append(f"{prefix}:{number}{suffix}")

    def add(self, result: Result) -> None:
        self.results += 1
        if result.violations:
            self.invalid += 1
            self.violations += len(result.violations)
            self.failing = self.failing or self.strict or any(v.level is Level.MUST for v in result.violations)
        if self.document is not None:
            self.document.append(_record(result))
        elif self.json_lines:
            self._pending.append(json.dumps(_record(result)) + "\n")
        else:
            self._pending.extend(f"{v}\n" for v in result.violations)

    def flush(self) -> None:
        """Write what was judged since the last flush (once per block: one write, and at once)."""
        if self._pending:
            self._write("".join(self._pending))
            self._pending.clear()

    def finish(self) -> int:
        checked, valid = self.checked, self.checked - self.invalid
        summary = {"checked": checked, "valid": valid, "invalid": self.invalid, "strict": self.strict}
        if self.document is not None:
            self._write(json.dumps({"summary": summary, "results": self.document}, indent=2) + "\n")
        elif self.json_lines:
            self._pending.append(json.dumps({"summary": summary}) + "\n")
        else:
            self._pending.append(f"{checked} {self.kind} checked: {valid} valid, {self.invalid} invalid ({self.violations} violations)\n")
        self.flush()
        return ExitCode.VIOLATION if self.failing else ExitCode.OK

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except BrokenPipeError:
            # The reader stopped early (`| head`): judging goes on, for the exit code, and what
            # is left to write goes nowhere (no traceback at exit either).
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())


def _record(result: Result) -> dict[str, Any]:
    return {"source": result.source, "variant": result.variant, "valid": not result.violations, "violations": [v.to_json() for v in result.violations]}


class _Progress:
    """Lines judged, rate and invalid payloads so far, redrawn in place on a terminal's stderr at
    most a few times a second, and erased at the end (the results and summary stay on stdout)."""

    #: Seconds between two redraws.
    INTERVAL = 0.25

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.start = time.monotonic()
        self.last = float("-inf")
        self.drawn = False

    def update(self, report: _Report) -> None:
        now = time.monotonic()
        if now - self.last < self.INTERVAL:
            return
        self.last = now
        done = report.checked
        rate = done / max(now - self.start, 1e-6)
        self.stream.write(f"\r{done:,} lines judged, {rate:,.0f} lines/s, {report.invalid:,} invalid\x1b[K")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False


def run(args: argparse.Namespace) -> int:
    report = _Report(args, sys.stdout)
    progress = _Progress(sys.stderr) if args.jsonl and sys.stderr.isatty() else None
    lines = _Lines(args, report) if args.jsonl else None
    try:
        for path in args.files:
            if lines is not None:
                lines.judge(path, progress)
                continue
            for source, document in _documents(path):
                report.add(_judge(source, document, args.push, args.strict))
            report.flush()
    except InputError as exc:
        report.flush()  # what was judged before the bad input stands
        if progress:
            progress.close()
        print(f"b4a validate: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    if progress:
        progress.close()
    return report.finish()
