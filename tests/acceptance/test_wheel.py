"""The package works from an installed wheel, outside the checkout (importlib.resources, not paths)."""
from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    [built] = out.glob("buddy4all_conformance-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with only the wheel installed. Its dependencies are borrowed from the project's
    venv through a path entry (not its .pth files, so the editable checkout stays invisible), which
    keeps this test offline and fast."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet", "--no-deps", str(wheel)],
                   check=True, timeout=300)
    return venv


def test_the_wheel_carries_schemas_fixtures_and_the_suite(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("harness/_data/schemas/rules.json", "harness/_data/schemas/friendship.json", "harness/_data/fixtures/payloads/chat.json",
                     "harness/_data/fixtures/case-schema.json", "conformance_tests/test_friendship.py", "harness/py.typed"):
        assert expected in names, expected
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "b4a = harness.cli:main" in text and "harness.pytest_plugin" in text


def test_b4a_validate_runs_from_the_wheel_in_another_directory(fresh_venv: Path, tmp_path: Path):
    payload = tmp_path / "chat.json"
    payload.write_text(json.dumps({"message_type": "api_chat_message", "message": "hi", "thread": {"id": "7"}}))
    result = subprocess.run([str(fresh_venv / "bin" / "b4a"), "validate", str(payload)], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 1, result.stderr
    assert '/thread/id: "7" is not of type integer (PAY-004' in result.stdout
    where = subprocess.run([str(fresh_venv / "bin" / "python"), "-c", "from harness.contract import data_dir; import harness; print(data_dir('schemas')); print(harness.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=60, check=True).stdout
    assert str(fresh_venv) in where and str(ROOT) not in where, where
