"""`b4a validate`: judge payloads (or FCM messages) from files, stdin or JSON Lines."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from harness.exit_codes import ExitCode
from harness.push_codec import variant_of_push_data
from harness.validation import unwrap_send_body, validate, validate_push, variant_of
from harness.violations import Level, Violation


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="JSON file(s) holding one payload each (or an array of payloads); '-' reads stdin")
    parser.add_argument("--jsonl", action="store_true", help="each input holds one JSON payload per line (errors carry line numbers)")
    parser.add_argument("--push", action="store_true", help="inputs are FCM v1 message objects (or {\"message\": ...} send bodies), judged with their decoded data")
    parser.add_argument("--strict", action="store_true", help="also report keys beyond the contract's (SHOULD) and fail on them")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.epilog = "Exit codes: 0 all valid, 1 an invalid payload, 2 usage error, unreadable file or malformed JSON."


@dataclass
class Result:
    source: str
    variant: str | None
    violations: list[Violation] = field(default_factory=list)


#: JSON Lines judged per batch by the fast path (harness.fastpath.BatchValidator).
_JSONL_CHUNK = 4096


class InputError(Exception):
    """An input that cannot be read or parsed: exit 2 with one line."""


def _open(path: str) -> TextIO:
    if path == "-":
        return sys.stdin
    try:
        return open(path, encoding="utf-8")
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


def _documents(path: str, jsonl: bool) -> Iterator[tuple[str, Any]]:
    name = "<stdin>" if path == "-" else path
    with _open(path) as stream:
        try:
            if jsonl:
                for number, line in enumerate(stream, start=1):
                    if line.strip():
                        yield f"{name}:{number}", _parse(line.rstrip("\r\n"), name, number - 1)
                return
            text = stream.read()
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not text.strip():
        raise InputError(f"{name}: empty input, expected a JSON payload")
    document = _parse(text, name)
    if isinstance(document, list):
        for index, item in enumerate(document):
            yield f"{name}[{index}]", item
    else:
        yield f"{name}:1", document


def _jsonl_results(path: str, strict: bool) -> Iterator[Result]:
    """Payloads from JSON Lines, fast: a line jsonschema-rs passes is valid as is; any other line
    (malformed, undispatchable, invalid) takes the precise path, `_parse` then `_judge`."""
    from harness.fastpath import BatchValidator

    batch = BatchValidator(strict=strict)
    name = "<stdin>" if path == "-" else path

    def judged(chunk: list[tuple[int, str]]) -> Iterator[Result]:
        for (number, line), variant in zip(chunk, batch.judge([line for _, line in chunk])):
            if variant is not None:
                yield Result(f"{name}:{number}", variant.key)
            elif line.strip():
                yield _judge(f"{name}:{number}", _parse(line.rstrip("\r\n"), name, number - 1), False, strict)

    chunk: list[tuple[int, str]] = []
    with _open(path) as stream:
        try:
            for number, line in enumerate(stream, start=1):
                chunk.append((number, line))
                if len(chunk) == _JSONL_CHUNK:
                    yield from judged(chunk)
                    chunk = []
        except UnicodeDecodeError as exc:
            # Lines read before the bad bytes are judged first, as the line-by-line path does.
            yield from judged(chunk)
            raise InputError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        yield from judged(chunk)


def _judge(source: str, document: Any, push: bool, strict: bool) -> Result:
    if push:
        message, _ = unwrap_send_body(document)
        data = message.get("data") if isinstance(message, dict) else None
        variant = variant_of_push_data(data) if isinstance(data, dict) else None
        violations = validate_push(document, strict=strict)
    else:
        variant = variant_of(document)
        violations = validate(document, strict=strict)
    return Result(source, variant.key if variant else None, [v.at(source) for v in violations])


def run(args: argparse.Namespace) -> int:
    results: list[Result] = []
    try:
        for path in args.files:
            if args.jsonl and not args.push:
                results.extend(_jsonl_results(path, args.strict))
                continue
            for source, document in _documents(path, args.jsonl):
                results.append(_judge(source, document, args.push, args.strict))
    except InputError as exc:
        print(f"b4a validate: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    invalid = [r for r in results if r.violations]
    failing = [r for r in invalid if args.strict or any(v.level is Level.MUST for v in r.violations)]
    kind = "FCM messages" if args.push else "payloads"
    summary = f"{len(results)} {kind} checked: {len(results) - len(invalid)} valid, {len(invalid)} invalid ({sum(len(r.violations) for r in invalid)} violations)"
    if args.format == "json":
        json.dump(
            {
                "summary": {"checked": len(results), "valid": len(results) - len(invalid), "invalid": len(invalid), "strict": args.strict},
                "results": [{"source": r.source, "variant": r.variant, "valid": not r.violations, "violations": [v.to_json() for v in r.violations]} for r in results],
            },
            sys.stdout,
            indent=2,
        )
        print()
    else:
        for result in invalid:
            for violation in result.violations:
                print(violation)
        print(summary)
    return ExitCode.VIOLATION if failing else ExitCode.OK
