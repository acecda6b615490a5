"""One fuzzing run: load the target's OpenAPI document, build the pool, fuzz, prove quiet, judge.

Every failure to set up is a `FuzzSetupError` (one line; the command exits 2). Fuzzing is for
loopback targets unless the caller allows others: generated requests create, change and refuse
real data, which nobody wants on a shared server.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.contract import load_contract
from harness.fuzz.engine import Budget, Fuzzer
from harness.fuzz.observer import Observer, Verdict
from harness.fuzz.pool import Pool
from harness.profile import Profile
from harness.target import Target, TargetError
from harness.transcript import Transcript

__all__ = ["FuzzRun", "FuzzSetupError", "is_loopback", "load_openapi", "run_fuzz"]


class FuzzSetupError(Exception):
    """The run cannot start: no OpenAPI document, a target that is not on loopback, a pool the
    target refused. One line."""


@dataclasses.dataclass
class FuzzRun:
    fuzzer: Fuzzer
    verdicts: list[Verdict]
    caused: dict[str, tuple[int, int]]  # operation -> (notifications caused, pushes among them)
    problems: list[str]  # what could not be proven (markers that never came)
    pool_setup: list[str]
    started: float  # monotonic


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_openapi(source: str) -> Any:
    """A Schemathesis schema from a URL or a file; FuzzSetupError naming what went wrong."""
    import schemathesis

    try:
        if source.startswith(("http://", "https://")):
            return schemathesis.openapi.from_url(source, timeout=10)
        path = Path(source)
        if not path.is_file():
            raise FuzzSetupError(f"--openapi {source}: no such file")
        return schemathesis.openapi.from_path(str(path))
    except FuzzSetupError:
        raise
    except Exception as exc:  # noqa: BLE001 - any loader error is one line naming the source
        first = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise FuzzSetupError(f"cannot load the OpenAPI document {source}: {first}") from None


def run_fuzz(profile: Profile, schema: Any, inbox: Any, budget: Budget,
             progress: Callable[[str], None] = lambda line: None) -> FuzzRun:
    contract = load_contract()
    target = Target(profile)
    transcript = Transcript()
    started = time.monotonic()
    try:
        pool = Pool.build(target, transcript, with_devices=inbox is not None)
    except TargetError as exc:
        raise FuzzSetupError(f"the pool of users could not be made through the profile: {exc}") from None
    problems: list[str] = []
    try:
        progress(f"pool: {len(pool.users)} users, {len(pool.ledger.parties)} resources "
                 f"({', '.join(sorted({k for k, _ in pool.ledger.parties}))})")
        pool.settle(inbox, profile.websocket_seconds, profile.push_seconds,
                    lambda problem: problems.append(f"before fuzzing: {problem}"))
        observer = Observer(pool, inbox, contract, started=started, deadline=profile.websocket_seconds)
        fuzzer = Fuzzer(schema, pool, budget, profile.base_url)
        for skipped in fuzzer.skipped:
            progress(f"left out: {skipped}")
        progress(f"fuzzing {len(fuzzer.operations)} operations, seed {budget.seed}, "
                 f"at most {budget.max_examples} examples each, {budget.time_limit:g} s at most")
        fuzzer.run()
        pool.settle(inbox, profile.websocket_seconds, profile.push_seconds,
                    lambda problem: problems.append(f"after fuzzing: {problem}"))
        seen = observer.collect()
        verdicts = list(observer.judge(seen, fuzzer.exchanges))
        caused: dict[str, tuple[int, int]] = {}
        for copy in seen:
            cause, _ = observer.cause_of(copy.t, copy.notification, copy.user, fuzzer.exchanges)
            if cause is not None:
                count, pushes = caused.get(cause.operation, (0, 0))
                caused[cause.operation] = (count + 1, pushes + (copy.channel == "fcm"))
        return FuzzRun(fuzzer, verdicts, caused, problems, pool.setup, started)
    finally:
        pool.close()
