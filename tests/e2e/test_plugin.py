"""The pytest plugin from a team's own repo: fixtures, the rule marker, failing checks fail."""
from __future__ import annotations

from harness.contract import data_dir

PROFILE = str(data_dir("fixtures") / "profiles" / "reference.yaml")

TEAM_CHECK = '''
import pytest

@pytest.mark.rule("FRND-001")
def test_our_own_friendship_check(check, make_user):
    """Our app also relies on friend_id in new_request."""
    a = make_user("A", devices=0)
    b = make_user("B")
    check.connect()
    request = check.require_ok(check.act("friendship.request", a, b))
    check.expect("friendship/new_request", request, actor=a, recipients={b: {"friend_id": EXPECTED, "open_requests": 1}})
'''


def _run(pytester, backend, emulator, expected: str):
    pytester.makepyfile(test_team=TEAM_CHECK.replace("EXPECTED", expected))
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--b4a-profile", PROFILE, "--b4a-base-url", backend.base_url,
                                         "--b4a-emulator", emulator.base_url, timeout=120)


def test_a_teams_own_check_passes_against_a_conforming_backend(pytester, backend, emulator):
    result = _run(pytester, backend, emulator, "a.id")
    result.assert_outcomes(passed=1)


def test_a_teams_own_check_fails_with_the_rule_id_when_the_flow_disagrees(pytester, backend, emulator):
    result = _run(pytester, backend, emulator, "b.id")  # wrong on purpose: the check must fail
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*friend_id is *, the flow expects *FRND-001 MUST*"])


def test_an_unknown_rule_id_in_a_marker_is_a_usage_error(pytester, backend, emulator):
    pytester.makepyfile(test_bad='import pytest\n@pytest.mark.rule("FRND-999")\ndef test_x():\n    pass\n')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=60)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*unknown rule ids: FRND-999*"])
