"""Where a check's time goes: setup, actions, waiting for copies, quiet proofs, judging, teardown.

Each phase counts its own time only: a phase entered inside another (validating a payload while
waiting for copies) pauses the outer one, so the totals add up to the time measured.
"""
from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

#: The phases, in the order reports show them.
PHASES = ("setup", "actions", "waiting", "quiet", "judging", "teardown", "reporting")

F = TypeVar("F", bound=Callable[..., Any])


class PhaseClock:
    """Seconds spent per phase by one check (one thread)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self._stack: list[list[Any]] = []  # [phase, running since]

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        now = time.perf_counter()
        if self._stack:
            outer = self._stack[-1]
            self._add(outer[0], now - outer[1])
        self._stack.append([name, now])
        try:
            yield
        finally:
            now = time.perf_counter()
            _, since = self._stack.pop()
            self._add(name, now - since)
            if self._stack:
                self._stack[-1][1] = now

    def _add(self, name: str, seconds: float) -> None:
        self.totals[name] = self.totals.get(name, 0.0) + seconds

    def rounded(self) -> dict[str, float]:
        return {name: round(self.totals[name], 4) for name in PHASES if name in self.totals}


def timed(phase: str) -> Callable[[F], F]:
    """Count a method's time (of an object with a `clock: PhaseClock`) under `phase`."""
    def wrap(method: F) -> F:
        @functools.wraps(method)
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            with self.clock.phase(phase):
                return method(self, *args, **kwargs)
        return run  # type: ignore[return-value]
    return wrap
