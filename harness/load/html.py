"""report.html for a load run: one offline file, charts as inline SVG, the problems' evidence first."""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from harness.load.ledger import CHANNELS, PROBLEMS

COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
PROBLEM_TEXT = {
    "lost": "expected, never arrived",
    "duplicated": "a second copy on the same connection or device",
    "leaked": "reached a user who took no part in the action",
    "unexpected": "reached a party, but no action explains it (an echo, after a refusal...)",
    "invalid": "broke its schema or carried wrong flow fields",
    "late": "arrived after the profile's deadline",
}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#111827;background:#f9fafb}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px}
.meta{color:#4b5563;font-size:13px}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:600}
.PASS{background:#16a34a}.FAIL{background:#dc2626}.ERROR{background:#d97706}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:10px 14px;min-width:120px}
.card b{display:block;font-size:20px}.card span{color:#4b5563;font-size:12px}
.bad b{color:#dc2626}
table{border-collapse:collapse;background:#fff;width:100%;font-size:13px}
th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:right} th{background:#f3f4f6}
td:first-child,th:first-child{text-align:left}
.chart{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:8px;margin:8px 0}
.reasons li{color:#991b1b} .note{color:#374151}
details{background:#fff;border:1px solid #e5e7eb;border-radius:6px;margin:6px 0;padding:6px 10px}
pre{white-space:pre-wrap;word-break:break-word;font-size:12px;background:#f3f4f6;padding:6px;border-radius:4px}
@media print{details{break-inside:avoid}}
"""


def _fmt(value: Any) -> str:
    return "–" if value is None else escape(f"{value:g}" if isinstance(value, float) else str(value))


def line_chart(title: str, xs: Sequence[int], series: Sequence[tuple[str, Sequence[float | None]]], unit: str,
               width: int = 1040, height: int = 230) -> str:
    """An SVG line chart: x in seconds, one polyline per series (gaps where a value is None)."""
    left, right, top, bottom = 56, 12, 26, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, ys in series for v in ys if v is not None]
    top_value = max(values) if values else 1.0
    top_value = _nice(top_value if top_value > 0 else 1.0)
    span = max(len(xs) - 1, 1)

    def x(i: int) -> float:
        return left + plot_w * i / span

    def y(v: float) -> float:
        return top + plot_h * (1 - v / top_value)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<text x="{left}" y="16" font-size="13" font-weight="600">{escape(title)}</text>']
    for step in range(5):
        v = top_value * step / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e5e7eb"/>'
                     f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end" fill="#4b5563">{v:g}</text>')
    tick = max(1, _nice(len(xs) / 10))
    for i in range(0, len(xs), int(tick)):
        parts.append(f'<text x="{x(i):.1f}" y="{height - 12}" font-size="11" text-anchor="middle" fill="#4b5563">{xs[i]}</text>')
    parts.append(f'<text x="{width - right}" y="{height - 1}" font-size="11" text-anchor="end" fill="#4b5563">seconds · {escape(unit)}</text>')
    legend_x = left + 8 + len(title) * 7.5
    for index, (label, ys) in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        runs: list[list[str]] = [[]]
        for i, value in enumerate(ys):
            if value is None:
                runs.append([])
            else:
                runs[-1].append(f"{x(i):.1f},{y(value):.1f}")
        for run in runs:
            if len(run) == 1:
                cx, cy = run[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="{colour}"/>')
            elif run:
                parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.8" points="{" ".join(run)}"/>')
        parts.append(f'<rect x="{legend_x:.0f}" y="7" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{legend_x + 14:.0f}" y="16" font-size="12">{escape(label)}</text>')
        legend_x += 24 + len(label) * 6.8
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#9ca3af"/>'
                 f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#9ca3af"/></svg>')
    return '<div class="chart">' + "".join(parts) + "</div>"


def _nice(value: float) -> float:
    """1, 2, 2.5 or 5 times a power of ten, at least `value`."""
    power = 10 ** len(str(int(value))) / 10 if value >= 1 else 0.1
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * power:
            return factor * power
    return 10 * power


def _card(label: str, value: Any, bad: bool = False) -> str:
    return f'<div class="card{" bad" if bad else ""}"><b>{_fmt(value)}</b><span>{escape(label)}</span></div>'


def render(report: Mapping[str, Any]) -> str:
    run, load, pop, actions = report["run"], report["load"], report["population"], report["actions"]
    series = report["series"]
    xs = series["seconds"]
    out = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>b4a load: {escape(report['verdict'])} "
           f"{escape(run['target'])}</title><style>{CSS}</style></head><body><main>",
           f"<h1>Load: delivery under load <span class=\"verdict {report['verdict']}\">{report['verdict']}</span></h1>",
           f"<div class=meta>{escape(run['target'])} at {escape(run['base_url'])} · started {escape(run['started_at'])} · "
           f"contract {escape(run['contract_version'])} · <code>{escape(run['command'])}</code></div>"]
    if report["reasons"]:
        out.append("<ul class=reasons>" + "".join(f"<li>{escape(r)}</li>" for r in report["reasons"]) + "</ul>")
    out.append('<div class="cards">' + _card("simulated users", pop["users"]) + _card("WebSocket connections", pop["connections"])
               + _card("devices", pop["devices"]) + _card("seconds", load["ran_s"])
               + _card("actions / s (sustained)", actions["steady_per_s"] if actions["steady_per_s"] is not None else actions["per_s"])
               + _card("actions", actions["total"])
               + "".join(_card(f"{c} p99 ms", report["latency"][c]["p99_ms"]) for c in CHANNELS if report["latency"][c]["count"])
               + "</div>")
    out.append('<div class="cards">' + "".join(_card(p, report["problems"][p], bad=report["problems"][p] > 0) for p in PROBLEMS) + "</div>")
    out.append(f"<p class=note>{escape(report['generator']['note'])}.</p>")

    out.append("<h2>Throughput and latency, second by second</h2>")
    out.append(line_chart("Per second", xs, [("actions", series["actions"]),
                                             ("WebSocket copies", series["deliveries"]["websocket"]),
                                             ("pushes", series["deliveries"]["fcm"])], "count / s"))
    lat_series = []
    for channel in CHANNELS:
        if report["latency"][channel]["count"]:
            lat_series += [(f"{channel} p50", series["p50_ms"][channel]), (f"{channel} p99", series["p99_ms"][channel])]
    out.append(line_chart("Delivery latency after the action's HTTP response", xs, lat_series, "ms"))
    cpu = [(p["process"], _cpu_series(p["cpu_by_second"], len(xs))) for p in report["generator"]["processes"]]
    out.append(line_chart("Load generator CPU per process", xs, cpu, "% of one core"))

    if any(report["problems"].values()):
        out.append("<h2>Evidence: the first copies of each problem</h2>")
        for problem in PROBLEMS:
            for example in report["examples"][problem]:
                summary = (f"{problem}: {example.get('variant') or 'unreadable'} on {example.get('channel')} "
                           f"{example.get('endpoint')} (user {example.get('recipient')}) at {example.get('at_s')} s")
                out.append(f"<details><summary>{escape(summary)}</summary><p>{escape(PROBLEM_TEXT[problem])}</p>"
                           f"<pre>{escape(json.dumps(example, indent=2, default=str))}</pre></details>")

    out.append("<h2>Delivery latency per channel and variant</h2><table><tr><th>variant</th><th>channel</th><th>copies</th>"
               "<th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr>")
    for channel in CHANNELS:
        row = report["latency"][channel]
        if row["count"]:
            out.append(_latency_row("<b>all</b>", channel, row))
    for variant, channels in report["latency_by_variant"].items():
        for channel, row in channels.items():
            out.append(_latency_row(escape(variant), channel, row))
    out.append("</table>")
    if report["budgets"]:
        out.append("<h2>Budgets (profile <code>load</code>)</h2><table><tr><th>key</th><th>channel</th><th>limit ms</th>"
                   "<th>measured ms</th><th>within</th></tr>")
        for row in report["budgets"]:
            out.append(f"<tr><td>{escape(row['key'])}</td><td>{row['channel']}</td><td>{_fmt(row['limit_ms'])}</td>"
                       f"<td>{_fmt(row['value_ms'])}</td><td>{'yes' if row['ok'] else '<b>NO</b>'}</td></tr>")
        out.append("</table>")
    out.append("<h2>Problems per channel</h2><table><tr><th>problem</th>" + "".join(f"<th>{c}</th>" for c in CHANNELS)
               + "<th>meaning</th></tr>")
    for problem in PROBLEMS:
        out.append(f"<tr><td>{problem}</td>" + "".join(f"<td>{report['problems_by_channel'][problem][c]}</td>" for c in CHANNELS)
                   + f"<td style='text-align:left'>{escape(PROBLEM_TEXT[problem])}</td></tr>")
    deliveries = report["deliveries"]
    out.append("</table><p class=note>" + escape(
        f"Expected copies: {deliveries['expected']['websocket']} WebSocket, {deliveries['expected']['fcm']} push; delivered "
        f"{deliveries['delivered']['websocket']} and {deliveries['delivered']['fcm']}; {deliveries['before_response']} arrived "
        f"before their action's HTTP response (timed 0 ms); {deliveries['refused_pushes']} push attempts FCM refused."
        + ("" if load["pushes_checked"] else " Pushes were not checked (no FCM emulator, or fcm.mode none).")) + "</p>")

    http = report["http"]
    out.append("<h2>HTTP side (Locust request stats)</h2><table><tr><th>action</th><th>type</th><th>requests</th><th>failures</th>"
               "<th>median ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th><th>req/s</th></tr>")
    for row in [*http["entries"], *([http["total"]] if http.get("total") else [])]:
        out.append(f"<tr><td>{escape(str(row['name']))}</td><td>{escape(str(row['type']))}</td><td>{row['requests']}</td>"
                   f"<td>{row['failures']}</td><td>{_fmt(row['median_ms'])}</td><td>{_fmt(row['p95_ms'])}</td>"
                   f"<td>{_fmt(row['p99_ms'])}</td><td>{_fmt(row['max_ms'])}</td><td>{_fmt(row['rps'])}</td></tr>")
    out.append("</table>")
    if http["errors"]:
        out.append("<ul>" + "".join(f"<li>{escape(e['name'])}: {escape(e['error'])} × {e['occurrences']}</li>" for e in http["errors"][:20]) + "</ul>")
    out.append("<h2>Load generator</h2><table><tr><th>process</th><th>mean CPU %</th><th>p90 CPU %</th><th>max CPU %</th>"
               "<th>saturated</th></tr>")
    for p in report["generator"]["processes"]:
        out.append(f"<tr><td>{escape(p['process'])}</td><td>{_fmt(p['mean_cpu'])}</td><td>{_fmt(p['p90_cpu'])}</td>"
                   f"<td>{_fmt(p['max_cpu'])}</td><td>{'yes' if p['saturated'] else 'no'}</td></tr>")
    out.append("</table>")
    out.append(f"<p class=meta>{pop['setup_errors']} user(s) could not join; {pop['connections_closed_by_server']} connection(s) "
               f"closed by the server. Seed {escape(str(load['seed']))}, think {escape(str(load['think_s']))} s, deadlines "
               f"{escape(json.dumps(load['deadlines_s']))}.</p></main></body></html>")
    return "\n".join(out)


def _latency_row(label: str, channel: str, row: Mapping[str, Any]) -> str:
    return (f"<tr><td>{label}</td><td>{channel}</td><td>{row['count']}</td><td>{_fmt(row['p50_ms'])}</td>"
            f"<td>{_fmt(row['p95_ms'])}</td><td>{_fmt(row['p99_ms'])}</td><td>{_fmt(row['max_ms'])}</td></tr>")


def _cpu_series(samples: Sequence[Sequence[float]], length: int) -> list[float | None]:
    values: list[float | None] = [None] * length
    for second, pct in samples:
        if 0 <= int(second) < length:
            values[int(second)] = pct
    return values
