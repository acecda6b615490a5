"""Validation throughput: the engine (orjson + dispatch + jsonschema-rs) against orjson.loads alone.

Builds a seeded JSONL of mixed payloads (every variant, 1% invalid) in a temp dir, then measures,
in the same run and interleaved, best of 5 rounds:
  (a) orjson.loads over every line (the floor: parsing alone);
  (b) the engine over every line, as `b4a validate --jsonl` runs it: BatchValidator (parse,
      dispatch, jsonschema-rs is_valid), then for each line it does not pass, json.loads and
      harness.validate.validate, which gives jsonschema's precise violations;
  (c) for reference, plain jsonschema over the oneOf union (schemas/notification.json) on a
      sample of lines, extrapolated to lines/s.
Prints lines/s for each and "ratio engine/orjson.loads" (target >= 0.5).

Run: .venv/bin/python bench/validate.py [--lines N]
"""
from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import orjson

from harness import fastpath
from harness.contract import Contract, Variant, load_contract
from harness.validate import validate

SEED = 20261125
INVALID_SHARE = 0.01
ROUNDS = 5
UNION_SAMPLE = 2_000


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


def run_orjson(lines: list[str]) -> int:
    loads = orjson.loads
    for line in lines:
        loads(line)
    return 0


def run_engine(lines: list[str], batch: fastpath.BatchValidator) -> int:
    """What `b4a validate --jsonl` does per line; returns the number of invalid lines."""
    invalid = 0
    for line, variant in zip(lines, batch.judge(lines)):
        if variant is None and validate(json.loads(line)):
            invalid += 1
    return invalid


def run_union(lines: list[str], validator: jsonschema.protocols.Validator) -> int:
    return sum(not validator.is_valid(orjson.loads(line)) for line in lines)


def _timed(function: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000, help="number of JSONL lines to build and judge (default: 200000)")
    args = parser.parse_args(argv)
    if args.lines < 100:
        parser.error("--lines must be at least 100 (1% of them are invalid)")
    if not fastpath.AVAILABLE:
        print("jsonschema-rs is not importable: the engine would run on jsonschema alone", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="b4a-bench-") as tmp:
        path = Path(tmp) / "payloads.jsonl"
        planted = build_jsonl(path, args.lines)
        with path.open(encoding="utf-8") as stream:  # text lines, as the CLI reads them
            lines = stream.readlines()
    contract = load_contract()
    batch = fastpath.BatchValidator()
    union = jsonschema.Draft202012Validator(
        contract.schemas["notification.json"], registry=contract.registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    sample = lines[:UNION_SAMPLE]
    run_engine(lines[:2_000], batch)  # warm-up: compile the validators before timing

    best = {"orjson": float("inf"), "engine": float("inf"), "union": float("inf")}
    found: dict[str, int] = {}
    for _ in range(ROUNDS):
        for name, function in (
            ("orjson", lambda: run_orjson(lines)),
            ("engine", lambda: run_engine(lines, batch)),
            ("union", lambda: run_union(sample, union)),
        ):
            elapsed, found[name] = _timed(function)
            best[name] = min(best[name], elapsed)

    # The engine really judged: it found exactly the planted invalid lines, as jsonschema does.
    union_invalid = found["union"]
    sample_planted = sum(bool(validate(json.loads(line))) for line in sample)
    if found["engine"] != planted or union_invalid != sample_planted:
        print(f"verdicts disagree: engine found {found['engine']} invalid of {planted} planted; union {union_invalid} of {sample_planted}", file=sys.stderr)
        return 1

    rate = {name: (len(sample) if name == "union" else len(lines)) / seconds for name, seconds in best.items()}
    print(f"{len(lines):,} lines ({planted:,} invalid), best of {ROUNDS} interleaved rounds")
    print(f"orjson.loads only                : {rate['orjson']:>12,.0f} lines/s")
    print(f"engine (orjson + jsonschema-rs)  : {rate['engine']:>12,.0f} lines/s")
    print(f"jsonschema over oneOf union      : {rate['union']:>12,.0f} lines/s  (sample of {len(sample):,} lines)")
    print(f"ratio engine/orjson.loads = {rate['engine'] / rate['orjson']:.2f}  (target >= 0.5)")
    print(f"ratio union/orjson.loads  = {rate['union'] / rate['orjson']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
