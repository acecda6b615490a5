"""The terminal summary: grouping, problems with evidence, slowest checks, last line, colour rules."""
from __future__ import annotations

import dataclasses
import io

import pytest

from harness.report import Report, render_terminal
from harness.violations import Outcome

from .conftest import make_checks, make_report


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _render(report: Report, stream: io.StringIO | None = None, verbose: bool = False) -> str:
    stream = stream or io.StringIO()
    render_terminal(report, stream, verbose=verbose)
    return stream.getvalue()


def test_final_line_counts_every_outcome(report: Report) -> None:
    last = _render(report).rstrip("\n").splitlines()[-1]
    assert last == "b4a: 5 checks: 1 passed, 1 failed, 1 non-strict, 1 skipped, 1 error in 12.3s"


def test_summary_is_grouped_by_family_then_rule(report: Report) -> None:
    lines = _render(report).splitlines()
    friendship = lines.index(next(l for l in lines if l.startswith("friendship ")))
    assert lines[friendship] == "friendship  3 checks: 1 passed, 1 failed, 1 non-strict"
    frnd = next(l for l in lines[friendship:] if l.strip().startswith("FRND-001"))
    assert "MUST" in frnd and frnd.endswith("1 passed, 1 failed")
    assert any(l.startswith("call  1 check: 1 skipped") for l in lines)


def test_problems_show_violations_and_the_reproduce_block(report: Report) -> None:
    out = _render(report)
    block = out[out.index("FAIL test_friendship.py::test_new_request"):]
    assert 'FRND-001 MUST /friend_id: "1" is not of type integer  [B#1 (ws)]' in block
    assert "DLV-002 MUST: no push reached B device 1 within 5.0 s" in block
    assert "expected 1, seen 0" in block
    assert "Reproduce with:\n    curl -X POST 'http://127.0.0.1:8000/friendships'" in block
    assert "NON_STRICT test_delivery.py::test_actor_gets_no_copy" in out
    assert "DLV-005 SHOULD: A received 1 copy of its own action" in out
    assert "ERROR test_chat.py::test_new_message" in out and "target unreachable" in out
    assert "PASS test_friendship.py::test_accept" not in out  # passing checks are not problems


def test_only_the_five_slowest_checks_are_listed() -> None:
    base = make_checks()[0]
    checks = tuple(dataclasses.replace(base, id=f"t.py::c{i}", duration_s=float(i)) for i in range(8))
    out = _render(make_report(checks))
    slowest = out[out.index("Slowest 5 checks"):].splitlines()[1:6]
    assert [l.split()[-1] for l in slowest] == ["t.py::c7", "t.py::c6", "t.py::c5", "t.py::c4", "t.py::c3"]
    assert "t.py::c2" not in out[out.index("Slowest"):]


def test_verbose_lists_every_check_and_transcripts(report: Report) -> None:
    out = _render(report, verbose=True)
    assert "(the target lacks the call_schedule action)" in out
    assert "POST /friendships -> 201 (12.5 ms)" in out
    assert "POST /friendships -> 201" not in _render(report)


def test_colour_only_on_a_tty_without_no_color(report: Report, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\033[" not in _render(report)
    coloured = _render(report, _Tty())
    assert "\033[31m" in coloured  # FAIL in red
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\033[" not in _render(report, _Tty())


def test_control_characters_from_the_target_do_not_reach_the_terminal(report: Report) -> None:
    out = _render(report, verbose=True)
    assert "\x1b" not in out and "\x00" not in out and "\x07" not in out


def test_an_empty_run_still_ends_with_the_last_line() -> None:
    out = _render(make_report(()))
    assert out.rstrip().endswith("b4a: 0 checks: 0 passed, 0 failed, 0 non-strict, 0 skipped, 0 errors in 12.3s")
    assert make_report(()).outcome is Outcome.PASS
