"""The HTML report as a person sees it, in headless Chromium: a real failing run's report, and a 1,000-check one.

The failing run is real: `b4a run` against the embedded reference backend with three faults
switched on, on one check (a wrong friend_id, a second connection that receives nothing, an echo
to the acting user). Screenshots and the printed PDF are kept under the test's tmp dir and copied
to test-artifacts/ at the repository root (ignored by git) for a person to look at.
"""
from __future__ import annotations

import dataclasses
import html.parser
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.contract import load_contract
from harness.report import CheckResult, Report, RunInfo, build_rule_summaries, write_reports
from harness.report.html import anchors
from harness.violations import Outcome

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
CHECK = "test_friendship.py::test_new_request_reaches_every_connection_and_device_of_the_invitee"
FAULTS = ("wrong-friend-id", "drop-second-connection", "echo-to-actor")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (./dev test installs it)")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}", *args],
                          capture_output=True, text=True, timeout=120)


def _keep(path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(path, ARTIFACTS / path.name)


@dataclasses.dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None
    text: str = ""

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class Dom(html.parser.HTMLParser):
    """The dumped DOM as nodes with their attributes, parents and text (their own and their descendants')."""

    VOID = {"meta", "br", "input", "img", "link", "hr", "wbr", "col", "source"}

    def __init__(self, text: str) -> None:
        super().__init__()
        self.nodes: list[Node] = []
        self._open: list[Node] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self._open[-1] if self._open else None)
        self.nodes.append(node)
        if tag not in self.VOID:
            self._open.append(node)

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                return

    def handle_data(self, data):
        for node in self._open:
            node.text += data

    def find(self, tag: str | None = None, **attrs: str) -> list[Node]:
        return [n for n in self.nodes if (tag is None or n.tag == tag)
                and all(n.attrs.get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items())]

    def by_id(self, element_id: str) -> Node:
        (node,) = self.find(id=element_id)
        return node


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("failing-run")
    command = [sys.executable, "-m", "harness", "run", "--only", CHECK, "-j", "1", "--report-dir", str(out)]
    for fault in FAULTS:
        command += ["--fault", fault]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert done.returncode == 1, done.stdout + done.stderr
    return out


@pytest.fixture(scope="module")
def failing_dom(failing_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Dom:
    tmp = tmp_path_factory.mktemp("chromium")
    done = _chromium(tmp, "--virtual-time-budget=5000", "--dump-dom", (failing_run / "report.html").as_uri())
    assert "data-render-ms" in done.stdout, done.stderr[-2000:]
    return Dom(done.stdout)


def _violation(failing_run: Path, rule_id: str) -> dict:
    report = json.loads((failing_run / "report.json").read_text())
    (check,) = report["checks"]
    return next(v for v in check["violations"] if v["rule_id"] == rule_id)


def _evidence_of(dom: Dom, rule_id: str) -> Node:
    """The evidence the 'What failed' entry of a rule links to."""
    (entry,) = dom.find("li", data_rule=rule_id)
    links = [n for n in dom.find("a") if entry in n.ancestors() and "evidence-link" in n.attrs.get("class", "")]
    assert len(links) == 1, f"{rule_id} should link to the one failing check"
    return dom.by_id(links[0].attrs["href"].lstrip("#"))


def test_the_failed_rule_links_to_the_diff_that_shows_the_wrong_field(failing_run: Path, failing_dom: Dom) -> None:
    got, want = re.fullmatch(r"friend_id is (\d+), the flow expects (\d+)", _violation(failing_run, "FRND-001")["message"]).groups()
    evidence = _evidence_of(failing_dom, "FRND-001")
    check = next(a for a in evidence.ancestors() if a.tag == "details" and "check" in a.attrs.get("class", "").split())
    assert check.attrs["id"].startswith("check-test_friendship") and "open" in check.attrs
    assert evidence.attrs["class"] == "evidence wrong" and evidence.attrs["data-endpoint"] in ("B#1", "B#2")
    rows = [n for n in failing_dom.find("tr", data_pointer="/friend_id") if evidence in n.ancestors()]
    (row,) = rows
    cells = [n.text.strip() for n in failing_dom.nodes if n.tag == "td" and n.parent is row]
    assert row.attrs["class"] == "differs" and cells[:3] == ["/friend_id", want, got]
    assert "FRND-001" in cells[3]


def test_the_missing_delivery_is_a_missing_cell_and_its_evidence(failing_run: Path, failing_dom: Dom) -> None:
    dropped = _violation(failing_run, "DLV-001")["source"]  # whichever of B's connections opened second
    kept = ({"B#1", "B#2"} - {dropped}).pop()
    matrix = failing_dom.by_id("matrix-tables")
    cells = {n.attrs["data-endpoint"]: n.attrs["data-state"] for n in failing_dom.find("td") if matrix in n.ancestors() and "data-state" in n.attrs}
    assert cells[dropped] == "missing"
    assert cells["A#1"] == "unexpected"  # the echo to the acting user
    assert cells["C#1"] == "quiet" and cells[kept] == "wrong"
    missing = _evidence_of(failing_dom, "DLV-001")
    assert missing.attrs["class"] == "evidence missing" and missing.attrs["data-endpoint"] == dropped
    assert "nothing arrived" in missing.text
    # The transcript around it starts with the action's request.
    excerpt = [n for n in failing_dom.find("table") if "steps" in n.attrs.get("class", "") and missing in n.ancestors()]
    assert excerpt and "POST /friendships -> 201" in excerpt[0].text


def test_the_check_draws_its_timeline_and_rule_verdicts(failing_dom: Dom) -> None:
    (lazy,) = failing_dom.find("div", data_done="1")
    svg = [n for n in failing_dom.find("svg") if lazy in n.ancestors()]
    assert svg, "the open failing check draws its timeline at once"
    marks = [n for n in failing_dom.nodes if svg[0] in n.ancestors() and "data-i" in n.attrs]
    kinds = {n.attrs.get("class", "").split()[0] for n in marks}
    assert {"http", "frame", "push", "marker"} <= kinds
    assert "B device 1" in svg[0].text and "B#2" in svg[0].text  # a lane per connection and device
    verdicts = [n.text for n in failing_dom.find("span", **{"class": "FAIL"}) if lazy in n.ancestors()]
    assert "FRND-001 FAIL" in verdicts


def test_screenshot_and_print_of_the_failing_report(failing_run: Path, tmp_path: Path) -> None:
    html = failing_run / "report.html"
    shot = tmp_path / "report-failing.png"
    _chromium(tmp_path, "--virtual-time-budget=5000", f"--screenshot={shot}", "--window-size=1400,2600", html.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (1400, 2600)
    assert len(data) > 100_000  # a blank page compresses to a few kB; a laid-out report does not
    _keep(shot)
    pdf = tmp_path / "report-failing.pdf"
    _chromium(tmp_path, "--virtual-time-budget=5000", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.as_uri())
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    _keep(pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-" and 1 <= pages <= 30, pages


def _passing_copy(check: CheckResult, n: int) -> CheckResult:
    """The failing check as a correct backend would have made it: every delivery as expected."""
    arrived = next(r.received for r in check.delivery if r.received is not None and r.expected)
    rows = tuple(
        dataclasses.replace(row, seen=row.expected, late=False,
                            latency_ms=row.latency_ms or 9.0 if row.expected else None,
                            received={**(row.received or arrived), **(row.expected_fields or {})} if row.expected else None)
        for row in check.delivery)
    return dataclasses.replace(check, id=f"{check.id}[{n}]", name=f"{check.name}[{n}]", outcome=Outcome.PASS, violations=(),
                               message="", delivery=rows, rules={r: (Outcome.PASS, "judged") for r in check.rules})


def thousand_checks(real: CheckResult) -> tuple[CheckResult, ...]:
    """1,000 checks shaped like the real one (its transcript, its deliveries): one in 20 failing."""
    return tuple(dataclasses.replace(real, id=f"{real.id}[{n}]", name=f"{real.name}[{n}]") if n % 20 == 0 else _passing_copy(real, n)
                 for n in range(1000))


def test_a_1000_check_report_opens_quickly(failing_run: Path, tmp_path: Path, record_property) -> None:
    data = json.loads((failing_run / "report.json").read_text())
    checks = thousand_checks(CheckResult.from_json(data["checks"][0]))
    run = RunInfo(**data["run"])
    report = Report(run, checks, build_rule_summaries(checks, load_contract()))
    started = time.perf_counter()
    html = write_reports(report, tmp_path, ("html",))["html"]
    written = time.perf_counter() - started
    size = html.stat().st_size
    started = time.perf_counter()
    done = _chromium(tmp_path, "--dump-dom", html.as_uri())
    browser = time.perf_counter() - started
    render_ms = int(re.search(r'data-render-ms="(\d+)"', done.stdout).group(1))
    dom = Dom(done.stdout[:done.stdout.index('id="checks"')])  # the summary: verdict, failed rules, matrix
    matrix_cells = [n for n in dom.find("td") if "data-state" in n.attrs]
    assert 0 < len(matrix_cells) <= 50 * 8  # only the 50 failing checks' differing rows are drawn at first
    assert render_ms < 10_000, f"the summary took {render_ms} ms to render"  # ~1.5 s on an idle 2-core machine
    assert size < 40_000_000
    record_property("b4a_summary", f"1,000-check report: {size / 1e6:.1f} MB, written in {written:.1f} s; Chromium rendered its "
                                   f"summary {render_ms} ms after navigation started ({browser:.1f} s with browser start-up)")
    shot = tmp_path / "report-1000-checks.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,1400", html.as_uri())
    _keep(shot)


def test_a_passing_check_draws_its_evidence_when_opened(failing_run: Path, tmp_path: Path) -> None:
    """Closed checks carry no DOM for their transcript; opening one (here through its link) draws it."""
    data = json.loads((failing_run / "report.json").read_text())
    checks = thousand_checks(CheckResult.from_json(data["checks"][0]))[:40]
    report = Report(RunInfo(**data["run"]), checks, build_rule_summaries(checks, load_contract()))
    html = write_reports(report, tmp_path, ("html",))["html"]
    anchor = anchors(checks)[checks[7].id]
    closed = Dom(_chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom", html.as_uri()).stdout)
    (lazy,) = [n for n in closed.find("div", data_check="7")]
    assert "data-done" not in lazy.attrs and "open" not in closed.by_id(anchor).attrs
    opened = Dom(_chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom", f"{html.as_uri()}#{anchor}").stdout)
    assert "open" in opened.by_id(anchor).attrs
    (lazy,) = [n for n in opened.find("div", data_check="7")]
    assert lazy.attrs.get("data-done") == "1"
    assert [n for n in opened.find("svg") if lazy in n.ancestors()]
    rows = [n for n in opened.find("tr") if lazy in n.ancestors() and "data-i" in n.attrs]
    assert len(rows) == len(checks[7].transcript)
    cells = [n.attrs["data-state"] for n in opened.find("td") if lazy in n.ancestors() and "data-state" in n.attrs]
    assert cells and set(cells) <= {"arrived", "quiet"}  # the check's own deliveries, all as expected
