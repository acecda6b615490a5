"""The load run's report as one JSON-ready value: counts, latencies, series, budgets, verdict.

Built from the results file the Locust controller writes (every process's ledger snapshot, merged,
and Locust's request stats); rendered as report.json (for CI), report.html (`harness.load.html`)
and a terminal summary. Exit codes follow the kit: 0 every delivery checked and within budget,
1 a lost, duplicated, leaked, unexpected, invalid or late copy, a failed action or a budget
exceeded, 2 the run could not check (no worker, nobody joined, nothing expected, interrupted).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from harness.load.ledger import CHANNELS, PROBLEMS, merge

#: a process whose CPU is at least this busy (90th percentile of its 1 s samples) saturates:
#: its timestamps lag, so latencies it measures are inflated (Locust warns at the same level)
SATURATED_CPU_PERCENT = 90.0
#: profile `load` keys -> (channel, percentile)
BUDGET_KEYS = {"p50_ms": ("websocket", 50), "p95_ms": ("websocket", 95), "p99_ms": ("websocket", 99),
               "max_ms": ("websocket", 100), "push_p95_ms": ("fcm", 95), "push_p99_ms": ("fcm", 99)}


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (pct 100 is the max); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return round(ordered[min(rank, len(ordered)) - 1], 1)


def latency_summary(values: list[float]) -> dict[str, Any]:
    return {"count": len(values), "p50_ms": percentile(values, 50), "p95_ms": percentile(values, 95),
            "p99_ms": percentile(values, 99), "max_ms": percentile(values, 100)}


def build(results: Mapping[str, Any], run: Mapping[str, Any], budgets: Mapping[str, float],
          deadlines: Mapping[str, float]) -> dict[str, Any]:
    snapshots = results.get("snapshots") or []
    ledger = merge([s["ledger"] for s in snapshots])
    config = results["config"]
    started, stopped = config["started_at"], results.get("stopped_at") or config["started_at"]
    seconds = max(1, math.ceil((results.get("ended_at") or stopped) - started))

    by_channel = {c: [x for values in ledger["latency_by_second"][c].values() for x in values] for c in CHANNELS}
    latency = {c: latency_summary(by_channel[c]) for c in CHANNELS}
    by_variant: dict[str, dict[str, Any]] = {}
    for key, values in sorted(ledger["latency_by_variant"].items()):
        variant, _, channel = key.partition(" ")
        by_variant.setdefault(variant, {})[channel] = latency_summary(values)

    actions_total = sum(sum(row.values()) for row in ledger["actions"].values())
    failed_actions = sum(row["error"] for row in ledger["actions"].values())
    http = results.get("locust") or {"entries": [], "total": {}, "errors": []}
    failed_requests = sum(e["failures"] for e in http["entries"] if e["type"] == "HTTP")
    ramp_s = config["users"] / max(config["spawn_rate"], 1e-9)
    steady = [ledger["actions_by_second"].get(str(s), 0) for s in range(int(ramp_s) + 1, int(stopped - started))]
    active_s = max(stopped - started, 1e-9)

    series = _series(ledger, seconds)
    generator = _generator(snapshots, int(ramp_s) + 1)
    budget_rows: list[dict[str, Any]] = []
    for key, limit in budgets.items():
        channel, pct = BUDGET_KEYS[key]
        value = percentile(by_channel[channel], pct)
        budget_rows.append({"key": key, "channel": channel, "percentile": pct, "limit_ms": limit, "value_ms": value,
                            "ok": value is None or value <= limit})

    population = {"users": sum(s["users"] for s in snapshots), "connections": sum(s["connections"] for s in snapshots),
                  "devices": sum(s["devices"] for s in snapshots),
                  "connections_closed_by_server": sum(s["connections_closed_by_server"] for s in snapshots),
                  "setup_errors": sum(s["setup_errors"] for s in snapshots),
                  "setup_examples": [e for s in snapshots for e in s["setup_examples"]][:5],
                  "processes": [s["process"] for s in snapshots]}
    expected_total = sum(ledger["expected"].values())
    reasons_fail = [f"{ledger['counts'][p]} {p}" for p in PROBLEMS if ledger["counts"][p]]
    if failed_requests:
        reasons_fail.append(f"{failed_requests} HTTP request(s) failed or were refused under load")
    reasons_fail += [f"{row['channel']} p{row['percentile'] if row['percentile'] < 100 else 'max'} "
                     f"{row['value_ms']} ms > budget {row['limit_ms']:g} ms (profile load.{row['key']})"
                     for row in budget_rows if not row["ok"]]
    reasons_error = []
    if results.get("error"):
        reasons_error.append(results["error"])
    if results.get("interrupted"):
        reasons_error.append("interrupted before --duration ended: the counts cover what ran")
    if snapshots and population["users"] == 0:
        reasons_error.append("no simulated user could join: " + "; ".join(population["setup_examples"][:2]))
    elif snapshots and expected_total == 0:
        reasons_error.append("nothing was checked: no action expected a delivery (too few users, or the profile lacks the actions)")
    if results.get("generator_errors"):
        reasons_error.append(f"the load generator hit {sum(e['count'] for e in results['generator_errors'])} error(s) in its flows")
    code = 1 if reasons_fail else 2 if reasons_error else 0
    return {
        "run": dict(run),
        "verdict": {0: "PASS", 1: "FAIL", 2: "ERROR"}[code],
        "exit_code": code,
        "reasons": reasons_fail + reasons_error,
        "interrupted": bool(results.get("interrupted")),
        "load": {"users": config["users"], "spawn_rate": config["spawn_rate"], "duration_s": config["duration_s"],
                 "ran_s": round(stopped - started, 1), "workers": results.get("workers", 0), "seed": config["seed"],
                 "think_s": config["think"], "deadlines_s": dict(deadlines),
                 "pushes_checked": bool(config.get("emulator_url") and config.get("project_id"))},
        "population": population,
        "actions": {"total": actions_total, "failed": failed_actions, "per_s": round(actions_total / active_s, 1),
                    "steady_per_s": round(sum(steady) / len(steady), 1) if steady else None,
                    "by_action": ledger["actions"]},
        "deliveries": {"expected": ledger["expected"], "delivered": ledger["delivered"],
                       "before_response": ledger["before_response"], "refused_pushes": ledger["refused_pushes"]},
        "problems": ledger["counts"],
        "problems_by_channel": ledger["counts_by_channel"],
        "examples": ledger["examples"],
        "latency": latency,
        "latency_by_variant": by_variant,
        "budgets": budget_rows,
        "series": series,
        "generator": generator,
        "http": http,
        "generator_errors": results.get("generator_errors") or [],
    }


def _series(ledger: Mapping[str, Any], seconds: int) -> dict[str, Any]:
    xs = list(range(seconds))
    out: dict[str, Any] = {"seconds": xs, "actions": [ledger["actions_by_second"].get(str(s), 0) for s in xs],
                           "deliveries": {}, "p50_ms": {}, "p99_ms": {}}
    for channel in CHANNELS:
        per = ledger["latency_by_second"][channel]
        out["deliveries"][channel] = [len(per.get(str(s), ())) for s in xs]
        out["p50_ms"][channel] = [percentile(per.get(str(s), []), 50) for s in xs]
        out["p99_ms"][channel] = [percentile(per.get(str(s), []), 99) for s in xs]
    return out


def _generator(snapshots: list[Mapping[str, Any]], steady_from: int) -> dict[str, Any]:
    processes = []
    for snap in snapshots:
        samples = [pct for second, pct in snap["cpu"]]
        steady = [pct for second, pct in snap["cpu"] if second >= steady_from] or samples
        p90 = percentile(steady, 90) or 0.0
        processes.append({"process": snap["process"], "mean_cpu": round(sum(steady) / len(steady), 1) if steady else None,
                          "p90_cpu": p90, "max_cpu": percentile(samples, 100), "saturated": p90 >= SATURATED_CPU_PERCENT,
                          "cpu_by_second": snap["cpu"]})
    saturated = [p["process"] for p in processes if p["saturated"]]
    note = (f"the load generator saturated its CPU ({', '.join(saturated)}: 90th percentile >= {SATURATED_CPU_PERCENT:g}%): "
            "latencies include its own queueing; add --workers or machines" if saturated else
            "the load generator kept up (every process below %g%% CPU at the 90th percentile)" % SATURATED_CPU_PERCENT)
    return {"processes": processes, "saturated": bool(saturated), "note": note}


def run_info(**fields: Any) -> dict[str, Any]:
    """The kit's RunInfo (harness.report.model) as the report's `run` member."""
    from harness.report.model import RunInfo

    return dataclasses.asdict(RunInfo(**fields))


def terminal(report: Mapping[str, Any]) -> str:
    """The few lines a person reads at the end of `b4a load`."""
    load, actions, lat = report["load"], report["actions"], report["latency"]
    lines = [f"b4a load: {report['verdict']}: {report['population']['users']} users "
             f"({report['population']['connections']} connections, {report['population']['devices']} devices) "
             f"for {load['ran_s']} s, {actions['total']} actions ({actions['steady_per_s'] or actions['per_s']}/s sustained)"]
    for channel in CHANNELS:
        row = lat[channel]
        if row["count"]:
            lines.append(f"  {channel:<9} {row['count']:>7} copies  p50 {row['p50_ms']} ms  p95 {row['p95_ms']} ms  "
                         f"p99 {row['p99_ms']} ms  max {row['max_ms']} ms")
    lines.append("  " + "  ".join(f"{p} {n}" for p, n in report["problems"].items()))
    lines.append(f"  {report['generator']['note']}")
    lines += [f"  - {reason}" for reason in report["reasons"]]
    return "\n".join(lines)
