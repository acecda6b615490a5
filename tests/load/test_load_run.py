"""`b4a load` end to end, on loopback: real reference backends, the FCM emulator, Locust processes.

Small and short (a dozen users for a few seconds); the 1,000-user run is bench/load.py. The two
period faults are deterministic (the 1st, then every 1000th / 100th WebSocket copy), so the exact
count the run must report follows from the copies it expected.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from harness.commands.environment import profile_dir
from harness.contract import load_contract
from harness.emulator.fcm import FcmEmulator
from harness.reference import ReferenceBackend

SMALL = ("--users", "12", "--spawn-rate", "12", "--duration", "4", "--think", "0.2-0.6", "--seed", "7")


@pytest.fixture(scope="module")
def emulator() -> Iterator[FcmEmulator]:
    with FcmEmulator() as fcm:
        yield fcm


@pytest.fixture(scope="module")
def backend(emulator: FcmEmulator) -> Iterator[ReferenceBackend]:
    with ReferenceBackend(fcm_emulator_url=emulator.base_url, ring_timeout=0.5) as reference:
        yield reference


LOAD_REPORT_SCHEMA = jsonschema.Draft202012Validator(
    load_contract().schemas["load-report.schema.json"], format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def write_profile(path: Path, base_url: str, **extra: Any) -> Path:
    document = yaml.safe_load((profile_dir() / "reference.yaml").read_text(encoding="utf-8"))
    document.update(base_url=base_url, **extra)
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def b4a_load(report_dir: Path, *args: str, timeout: float = 120) -> tuple[int, dict[str, Any] | None, str]:
    result = subprocess.run([sys.executable, "-m", "harness", "load", "--report-dir", str(report_dir), *args],
                            capture_output=True, text=True, timeout=timeout)
    report_file = report_dir / "report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else None
    if report is not None:  # every report a test sees is valid under its published schema
        LOAD_REPORT_SCHEMA.validate(report)
    return result.returncode, report, result.stdout[-3000:] + result.stderr[-3000:]


def clean(report: dict[str, Any]) -> None:
    assert report["problems"] == {p: 0 for p in ("lost", "duplicated", "leaked", "unexpected", "invalid", "late")}


def test_a_correct_backend_passes_with_every_copy_checked(tmp_path: Path, backend: ReferenceBackend, emulator: FcmEmulator) -> None:
    profile = write_profile(tmp_path / "p.yaml", backend.api_url, load={"p99_ms": 5000, "push_p99_ms": 10000})
    code, report, output = b4a_load(tmp_path / "r", "--target", str(profile), "--emulator", emulator.base_url, *SMALL)
    assert code == 0, output
    assert report is not None
    clean(report)
    assert report["population"]["users"] == 12 and report["population"]["setup_errors"] == 0
    expected = report["deliveries"]["expected"]
    assert expected["websocket"] > 50 and expected["fcm"] > 5, expected
    assert report["deliveries"]["delivered"] == expected
    assert {"friendship/new_request", "chat/new_message", "game-session/requested", "call/requested"} <= set(report["latency_by_variant"])
    assert report["latency"]["websocket"]["p99_ms"] is not None and report["latency"]["fcm"]["count"] == expected["fcm"]
    assert [row["ok"] for row in report["budgets"]] == [True, True]
    assert report["http"]["entries"] and report["http"]["total"]["failures"] == 0
    assert report["generator"]["processes"][0]["process"] == "local"
    html = (tmp_path / "r" / "report.html").read_text()
    assert html.count("<svg") == 3 and "http://" not in html.split("<main>")[0]  # offline: nothing fetched


def test_a_tight_latency_budget_fails_the_run(tmp_path: Path, backend: ReferenceBackend, emulator: FcmEmulator) -> None:
    profile = write_profile(tmp_path / "p.yaml", backend.api_url, load={"max_ms": 0.001})
    code, report, output = b4a_load(tmp_path / "r", "--target", str(profile), "--emulator", emulator.base_url,
                                    "--users", "4", "--spawn-rate", "4", "--duration", "2", "--think", "0.2-0.4")
    assert code == 1, output
    assert report is not None and report["budgets"][0]["ok"] is False
    assert any("budget" in reason for reason in report["reasons"])


@pytest.mark.parametrize("fault, problem, period", [("drop-one-in-thousand", "lost", 1000), ("delay-one-in-hundred", "late", 100)])
def test_a_period_fault_is_counted_exactly(tmp_path: Path, fault: str, problem: str, period: int) -> None:
    code, report, output = b4a_load(tmp_path, "--fault", fault, *SMALL)
    assert code == 1, output
    assert report is not None
    copies = report["deliveries"]["expected"]["websocket"]
    hit = (copies + period - 1) // period  # the 1st, the period+1-th...: every copy the backend sent was expected
    assert report["problems"] == {**{p: 0 for p in report["problems"]}, problem: hit}, (copies, report["problems"])
    assert report["problems_by_channel"][problem] == {"websocket": hit, "fcm": 0}
    assert report["examples"][problem][0]["channel"] == "websocket"
    assert f"{hit} {problem}" in report["reasons"]


def test_workers_share_the_users_and_their_counts_are_merged(tmp_path: Path, backend: ReferenceBackend, emulator: FcmEmulator) -> None:
    profile = write_profile(tmp_path / "p.yaml", backend.api_url)
    code, report, output = b4a_load(tmp_path / "r", "--target", str(profile), "--emulator", emulator.base_url,
                                    "--workers", "2", *SMALL)
    assert code == 0, output
    assert report is not None
    clean(report)
    assert sorted(report["population"]["processes"]) == ["worker0", "worker1"]
    assert report["population"]["users"] == 12
    assert report["deliveries"]["delivered"] == report["deliveries"]["expected"]
    assert report["http"]["total"]["requests"] > 50  # the workers' request stats reached the master
    assert len(report["generator"]["processes"]) == 2


def test_ctrl_c_stops_the_run_and_still_writes_the_report(tmp_path: Path, backend: ReferenceBackend, emulator: FcmEmulator) -> None:
    profile = write_profile(tmp_path / "p.yaml", backend.api_url)
    process = subprocess.Popen([sys.executable, "-m", "harness", "load", "--report-dir", str(tmp_path / "r"),
                                "--target", str(profile), "--emulator", emulator.base_url, "--users", "6",
                                "--spawn-rate", "6", "--duration", "120", "--think", "0.2-0.5"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    began = time.monotonic()
    assert process.stderr is not None
    for line in process.stderr:  # the users start right after this line
        if " users on " in line:
            break
    time.sleep(3)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert time.monotonic() - began < 40
    assert process.returncode == 2, out + err
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["interrupted"] is True and report["population"]["users"] == 6
    clean(report)  # stopping mid-run cuts no flow off half-way: nothing left unexplained
    assert report["deliveries"]["delivered"]["websocket"] > 0
    assert (tmp_path / "r" / "report.html").exists()


@pytest.mark.parametrize("args, message", [
    (("--worker",), "--worker needs --master-host"),
    (("--worker", "--master-host", "127.0.0.1", "--users", "3"), "--worker takes its run from the master"),
    ((), "--users N is required"),
    (("--users", "3", "--workers", "2", "--expect-workers", "1"), "--expect-workers 1 is fewer"),
    (("--users", "3", "--master-host", "h"), "--master-host is for --worker"),
    (("--users", "0"), "must be at least 1"),
    (("--users", "3", "--duration", "soon"), "expected a duration"),
    (("--users", "3", "--think", "5-2"), "MIN must not exceed MAX"),
])
def test_bad_usage_is_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = subprocess.run([sys.executable, "-m", "harness", "load", *args], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_bad_load_budget_in_the_profile_names_its_key(tmp_path: Path, backend: ReferenceBackend, emulator: FcmEmulator) -> None:
    profile = write_profile(tmp_path / "p.yaml", backend.api_url, load={"p99_ms": -1})
    code, report, output = b4a_load(tmp_path / "r", "--target", str(profile), "--emulator", emulator.base_url, "--users", "2")
    assert code == 2 and report is None
    assert "load.p99_ms" in output and "Traceback" not in output
