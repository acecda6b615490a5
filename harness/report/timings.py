"""`b4a run --profile-time`: where the checks' time went, per phase and per check."""
from __future__ import annotations

from typing import TextIO

from harness.phases import PHASES
from harness.report.model import Report

#: Checks listed with their own split, slowest first.
SLOWEST = 10


def phase_totals(report: Report) -> dict[str, float]:
    """Seconds per phase, summed over the checks (harness.phases.PHASES order)."""
    totals = {phase: 0.0 for phase in PHASES}
    for check in report.checks:
        for phase, seconds in check.timings.items():
            totals[phase] = totals.get(phase, 0.0) + seconds
    return totals


def render_timings(report: Report, stream: TextIO) -> None:
    totals = phase_totals(report)
    spent = sum(totals.values()) or 1.0
    lines = ["", f"Where the time went: {spent:.2f} s in {len(report.checks)} checks "
                 f"(run: {report.run.duration_s:.2f} s wall, checks in parallel)"]
    lines += [f"  {phase:<10} {seconds:7.2f} s  {100 * seconds / spent:5.1f}%" for phase, seconds in totals.items()]
    slowest = sorted(report.checks, key=lambda c: sum(c.timings.values()), reverse=True)[:SLOWEST]
    if slowest:
        lines += ["", f"  {'check':<72} " + " ".join(f"{p[:7]:>7}" for p in PHASES)]
        for check in slowest:
            name = check.id if len(check.id) <= 72 else check.id[:71] + "…"
            lines.append(f"  {name:<72} " + " ".join(f"{check.timings.get(p, 0.0):7.2f}" for p in PHASES))
    stream.write("\n".join(lines) + "\n")
