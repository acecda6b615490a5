"""Validation throughput against orjson.loads, and `b4a validate --jsonl`'s memory on a big file.

Builds a seeded JSONL of mixed payloads (every variant, 1% invalid) in a temp dir, then measures,
in the same run and interleaved, best of 5 rounds, in CPU time of this process (the machine is
shared with other jobs, so wall time mostly measures them):
  (a) orjson.loads over every line (the floor: parsing alone);
  (b) the engine, exactly as `b4a validate --jsonl` runs it from bytes in memory to results
      written (to a sink): blocks of whole lines checked to be UTF-8, the compiled fast path
      (parse + dispatch + judge in one msgspec call per line), and for each line it does not
      pass, the precise path (parse, dispatch, jsonschema-rs's errors worded as jsonschema's, or
      jsonschema's), formatted as the text output;
  (c) its parts: the fast path alone, per line with its variant (BatchValidator.judge, what the
      JSON output needs) and without (BatchValidator.failures, what the text output needs), and
      the precise path's time per invalid line;
  (d) for reference, plain jsonschema over the oneOf union (schemas/notification.json) on a
      sample of lines, extrapolated to lines/s.
Then memory: `b4a validate --jsonl` in a subprocess on a file of a few hundred MB (copies of the
bench lines; --big: 1 GB) and on an eighth of it, each with its peak RSS (VmHWM), to show that
memory does not grow with the input; and the CLI's own end-to-end rate there.

Run: .venv/bin/python bench/validate.py [--lines N] [--big] [--no-memory]
"""
from __future__ import annotations

import argparse
import copy
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import orjson

from harness import fastpath
from harness.commands import validate as validate_command
from harness.contract import Contract, Variant, load_contract
from harness.validation import validate

SEED = 20261125
INVALID_SHARE = 0.01
ROUNDS = 5
#: jsonschema over the union takes ~2 ms a line here, so it runs on a sample, in 2 rounds.
UNION_SAMPLE = 1_000
UNION_ROUNDS = 2
#: The goals (issue "Speed", goal 3).
ENGINE_TARGET, FAST_TARGET = 0.6, 0.8
#: Size of the file the memory run validates (default / --big).
MEMORY_FILE_MB, BIG_FILE_MB = 300, 1024


def _valid_payload(rng: random.Random, variant: Variant, contract: Contract) -> dict[str, Any]:
    """The variant's schema example with fresh ids, counts, dates and texts."""
    payload: dict[str, Any] = copy.deepcopy(contract.resolve(variant.schema_uri)["examples"][0])
    for key, value in payload.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            payload[key] = rng.randint(0 if key in ("open_requests", "game_level") else 1, 2**31)
    if "scheduled_at" in payload:
        payload["scheduled_at"] = rng.choice([None, f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z"])
    if variant.family == "chat":
        payload["message"] = rng.choice(["Ready for a rematch?", "gg", "Bis später 👋", "x" * rng.randint(1, 200)])
        payload["thread"] = {"id": rng.randint(1, 2**31), "participant_ids": [rng.randint(1, 999), rng.randint(1, 999)]}
    if variant.family == "call":
        payload["session_id"] = "ses_" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGH0123456789") for _ in range(16))
    return payload


def _break(rng: random.Random, payload: dict[str, Any]) -> dict[str, Any]:
    """One typical backend mistake: a missing key, a string id, a bad date, a zero id, a bad status."""
    broken = dict(payload)
    ints = [k for k, v in broken.items() if isinstance(v, int) and not isinstance(v, bool)]
    mistakes: list[Callable[[], None]] = [
        lambda: broken.pop(rng.choice([k for k in broken if k != "message_type"])),
        lambda: broken.update({"message_type": "api_friendship"}),
    ]
    if ints:
        key = rng.choice(ints)
        mistakes += [lambda: broken.update({key: str(broken[key])}), lambda: broken.update({key: -1})]
    if "scheduled_at" in broken:
        mistakes.append(lambda: broken.update({"scheduled_at": "2026-11-25 14:00"}))
    if "status" in broken:
        mistakes.append(lambda: broken.update({"status": "pending"}))
    rng.choice(mistakes)()
    return broken


def build_jsonl(path: Path, lines: int) -> int:
    """Write `lines` seeded payloads to `path`; returns how many are invalid."""
    contract = load_contract()
    rng = random.Random(SEED)
    variants = list(contract.variants())
    invalid = 0
    with path.open("wb") as out:
        for _ in range(lines):
            payload = _valid_payload(rng, rng.choice(variants), contract)
            if rng.random() < INVALID_SHARE:
                payload, invalid = _break(rng, payload), invalid + 1
            out.write(orjson.dumps(payload) + b"\n")
    return invalid


# -- throughput --------------------------------------------------------------------------------


def run_orjson(lines: list[bytes]) -> float:
    loads = orjson.loads
    start = time.process_time()
    for line in lines:
        loads(line)
    return time.process_time() - start


def _cli_args(**overrides: Any) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    validate_command.configure(parser)
    args = parser.parse_args(["--jsonl", "-"])
    for key, value in overrides.items():
        setattr(args, key, value)
    return args


def _engine() -> tuple[validate_command._Report, validate_command._Lines]:
    """What `b4a validate --jsonl` judges with: its line judge, text output (to a sink)."""
    report = validate_command._Report(_cli_args(), io.StringIO())
    return report, validate_command._Lines(_cli_args(), report)


def run_engine(blocks: list[tuple[bytes, list[bytes]]]) -> tuple[float, int, int]:
    """The engine on lines already split (as orjson.loads gets them): per block the UTF-8 check
    (orjson's parse does it too) and the judging, fast and precise. (seconds, checked, invalid)"""
    report, engine = _engine()
    utf8_error, judge = validate_command.utf8_error, engine.block
    start = time.process_time()
    first = 1
    for data, lines in blocks:
        if utf8_error(data) is not None:
            raise SystemExit("bench: the generated file is not UTF-8")
        judge("bench", first, lines)
        first += len(lines)
    return time.process_time() - start, report.checked, report.invalid


def run_pipeline(data: bytes) -> float:
    """The CLI's whole pipeline from bytes in memory: blocks, UTF-8 check, split, judge, output."""
    report, engine = _engine()
    start = time.process_time()
    first = 1
    for block in validate_command._blocks(io.BytesIO(data)):
        validate_command.utf8_error(block)
        lines = validate_command.split_lines(block)
        engine.block("bench", first, lines)
        first += len(lines)
    return time.process_time() - start


def run_fast(lines: list[bytes], batch: fastpath.BatchValidator, with_variants: bool) -> float:
    start = time.process_time()
    if with_variants:
        batch.judge(lines)
    else:
        batch.failures(lines)
    return time.process_time() - start


def run_precise(lines: list[bytes]) -> float:
    """The precise path alone, on the lines the fast path refused (as the engine runs it)."""
    _, engine = _engine()
    start = time.process_time()
    for line in lines:
        engine._precise(line, "bench", 1)
    return time.process_time() - start


def run_union(lines: list[bytes], validator: jsonschema.protocols.Validator) -> tuple[float, int]:
    start = time.process_time()
    invalid = sum(not validator.is_valid(orjson.loads(line)) for line in lines)
    return time.process_time() - start, invalid


# -- memory ------------------------------------------------------------------------------------

#: Runs `b4a validate --jsonl FILE` and prints its exit code, peak RSS (kB) and CPU seconds.
_MEASURED_CLI = r"""
import os, resource, sys, time
sys.stdout = open(os.devnull, "w")
from harness.cli import main
start = time.perf_counter()
code = main(["validate", "--jsonl", sys.argv[1]])
wall = time.perf_counter() - start
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
usage = resource.getrusage(resource.RUSAGE_SELF)
print(code, hwm, usage.ru_utime + usage.ru_stime, wall, file=sys.stderr)
"""


def grow(source: Path, target: Path, megabytes: int) -> int:
    """Copies of `source` until `target` holds `megabytes`; returns its line count."""
    data = source.read_bytes()
    copies = max(1, -(-megabytes * 2**20 // len(data)))  # rounded up
    with target.open("wb") as out:
        for _ in range(copies):
            out.write(data)
    return copies * data.count(b"\n")


def measure_cli(path: Path) -> tuple[int, int, float, float]:
    """(exit code, peak RSS kB, CPU s, wall s) of `b4a validate --jsonl path` in a subprocess."""
    result = subprocess.run([sys.executable, "-c", _MEASURED_CLI, str(path)], capture_output=True, text=True, check=False, timeout=900)
    try:
        code, hwm, cpu, wall = result.stderr.split()[-4:]
        return int(code), int(hwm), float(cpu), float(wall)
    except ValueError:
        raise SystemExit(f"bench: the memory run failed: {result.stderr.strip()}") from None


def memory(source: Path, tmp: Path, megabytes: int) -> None:
    big = tmp / "big.jsonl"
    small = tmp / "small.jsonl"
    lines = grow(source, big, megabytes)
    small_lines = grow(source, small, megabytes // 8)
    print(f"memory: `b4a validate --jsonl FILE` in a subprocess (peak RSS = VmHWM)")
    for path, count in ((small, small_lines), (big, lines)):
        code, hwm, cpu, wall = measure_cli(path)
        size = path.stat().st_size / 2**20
        print(f"  {size:>7,.0f} MB, {count:>10,} lines: peak RSS {hwm / 1024:>6.1f} MB, exit {code}, "
              f"{count / cpu:>10,.0f} lines/s CPU ({cpu:.1f} s CPU, {wall:.1f} s wall)")
        path.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000, help="number of JSONL lines to build and judge (default: 200000)")
    parser.add_argument("--big", action="store_true", help=f"the memory run validates {BIG_FILE_MB:,} MB (default: {MEMORY_FILE_MB} MB)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory run")
    args = parser.parse_args(argv)
    if args.lines < 1_000:
        parser.error("--lines must be at least 1000 (1%% of them are invalid)")
    batch = fastpath.BatchValidator()
    if not (fastpath.AVAILABLE and batch.active):
        print("bench: jsonschema-rs or msgspec is not importable, so there is no fast path to measure", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="b4a-bench-") as tmp:
        path = Path(tmp) / "payloads.jsonl"
        planted = build_jsonl(path, args.lines)
        data = path.read_bytes()
        blocks = [(block, validate_command.split_lines(block)) for block in validate_command._blocks(io.BytesIO(data))]
        lines = [line for _, block_lines in blocks for line in block_lines]
        refused = [lines[i] for i in batch.failures(lines)]
        contract = load_contract()
        union = jsonschema.Draft202012Validator(
            contract.schemas["notification.json"], registry=contract.registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        sample = lines[:UNION_SAMPLE]
        run_engine(blocks[:1])  # warm-up: compile the validators before timing

        best: dict[str, float] = {}
        for round_ in range(ROUNDS):  # interleaved, best of each: the machine is noisy
            measured = {
                "orjson": run_orjson(lines),
                "engine": (engine := run_engine(blocks))[0],
                "pipeline": run_pipeline(data),
                "judge": run_fast(lines, batch, with_variants=True),
                "failures": run_fast(lines, batch, with_variants=False),
                "precise": run_precise(refused),
            }
            if round_ < UNION_ROUNDS:
                measured["union"], union_invalid = run_union(sample, union)
            for key, seconds in measured.items():
                best[key] = min(best.get(key, float("inf")), seconds)

        # The engine really judged: it found exactly the planted invalid lines, and the union
        # validator agrees with harness.validation on its sample.
        _, checked, engine_invalid = engine
        sample_invalid = sum(bool(validate(json.loads(line))) for line in sample)
        if (checked, engine_invalid) != (len(lines), planted) or union_invalid != sample_invalid:
            print(f"bench: verdicts disagree: engine found {engine_invalid} invalid lines of {planted} planted in {checked}; "
                  f"the union {union_invalid} of {sample_invalid}", file=sys.stderr)
            return 1

        n = len(lines)
        rate = {key: (len(sample) if key == "union" else n) / seconds for key, seconds in best.items()}
        ratio = {key: value / rate["orjson"] for key, value in rate.items()}
        print(f"{n:,} lines, {len(data) / 2**20:.1f} MB ({planted:,} invalid, {planted / n:.1%}; {len(refused):,} refused by the fast path); best of {ROUNDS} interleaved rounds, CPU time")
        print(f"orjson.loads only                              : {rate['orjson']:>11,.0f} lines/s")
        print(f"engine (b4a validate --jsonl, text output)     : {rate['engine']:>11,.0f} lines/s  ({best['engine']:.3f} s)")
        print(f"  the same from bytes (+ blocks, split)        : {rate['pipeline']:>11,.0f} lines/s  ({best['pipeline']:.3f} s)")
        print(f"  fast path, variant per line (judge)          : {rate['judge']:>11,.0f} lines/s  ({best['judge']:.3f} s)")
        print(f"  fast path, refused lines only (failures)     : {rate['failures']:>11,.0f} lines/s  ({best['failures']:.3f} s)")
        print(f"  precise path for the refused lines           : {best['precise']:.3f} s = {best['precise'] / len(refused) * 1e6:.1f} us per line")
        print(f"jsonschema over the oneOf union                : {rate['union']:>11,.0f} lines/s  (sample of {len(sample):,} lines)")
        print(f"ratio engine/orjson.loads = {ratio['engine']:.2f}  (target >= {ENGINE_TARGET})")
        print(f"ratio fast path/orjson.loads = {ratio['judge']:.2f}  (target >= {FAST_TARGET}; without variants {ratio['failures']:.2f})")
        print(f"ratio union/orjson.loads = {ratio['union']:.4f}")
        if not args.no_memory:
            memory(path, Path(tmp), BIG_FILE_MB if args.big else MEMORY_FILE_MB)
    return 0


if __name__ == "__main__":
    sys.exit(main())
