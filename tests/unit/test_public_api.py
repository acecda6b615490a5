"""Every name of `harness.__all__` works, twice, whatever was imported first.

A lazily exported name must not be shadowed by a submodule of the same name once that submodule
is imported (`harness.validate` was: the second call raised "'module' object is not callable").
"""
from __future__ import annotations

import subprocess
import sys

import pytest

import harness

# Uses every public name once; run twice per interpreter, after a different first import each time.
USE_ALL = """
import harness
payload = {"message": "friendship status changed", "message_type": "api_friendship_status",
           "status": "new_request", "friend_id": 7, "open_requests": 1}
push = {"token": "t", "data": {"message": "friendship status changed", "type": "api_friendship_status",
        "status": "new_request", "friend_id": "7", "open_requests": "1"}}
assert harness.validate(payload) == [], "validate"
assert harness.is_valid(payload) is True, "is_valid"
assert harness.validate_push(push) == [], "validate_push"
variant = harness.variant_of(payload)
assert isinstance(variant, harness.Variant) and variant.key == "friendship/new_request", "variant_of"
contract = harness.load_contract()
assert isinstance(contract, harness.Contract), "load_contract"
assert isinstance(contract.family("friendship"), harness.Family), "Family"
assert isinstance(contract.rule("FRND-001"), harness.Rule), "Rule"
assert harness.Level("MUST") is harness.Level.MUST, "Level"
assert harness.Outcome("PASS") is harness.Outcome.PASS, "Outcome"
bad = harness.validate({**payload, "friend_id": "7"})
assert bad and isinstance(bad[0], harness.Violation) and bad[0].rule_id == "PAY-004", "Violation"
"""

FIRST_IMPORTS = [f"harness.{name}" for name in harness.__all__] + [
    "import harness.validation", "import harness.contract", "import harness.violations",
    "from harness.validation import validate", "import harness.check",
]


# One interpreter; before each order every harness module is dropped, so each order starts from a
# fresh `import harness` (third-party modules stay loaded: they are not what can shadow a name).
RUNNER = """
import sys
failed = []
for first in FIRSTS:
    for module in [m for m in sys.modules if m == "harness" or m.startswith("harness.")]:
        del sys.modules[module]
    prelude = first if first.startswith(("import", "from")) else "import harness; " + first
    try:
        exec(prelude + "\\n" + USE_ALL + "\\n" + USE_ALL, {})
    except Exception as exc:
        failed.append(f"{first}: {type(exc).__name__}: {exc}")
print("\\n".join(failed) or "ok")
"""


def test_every_public_name_works_twice_after_any_first_import():
    script = f"FIRSTS = {FIRST_IMPORTS!r}\nUSE_ALL = {USE_ALL!r}\n{RUNNER}"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stdout[-3000:] + result.stderr[-2000:]


def test_all_lists_exactly_the_lazy_exports():
    assert sorted(harness.__all__) == harness.__all__
    for name in harness.__all__:
        assert getattr(harness, name) is getattr(harness, name)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        harness.nope  # noqa: B018
