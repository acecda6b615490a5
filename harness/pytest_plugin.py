"""pytest plugin (entry point `pytest11`): the `rule` marker, the harness fixtures, result capture.

Fixtures for checks (the suite's and a team's own): `target` (the `Target` of the profile),
`fcm_inbox` (the FCM emulator's inbox, None when the target sends no pushes), `check` (one
`Check`: users, connections, devices, expectations), `make_user` and `listener` (shortcuts on
the check). Each test's verdict becomes a `CheckResult` (with transcript and delivery rows) that
travels in `report.user_properties` (so it survives pytest-xdist) and is written as JSON Lines to
`--b4a-results` by the controlling process, for `b4a run` to turn into reports.
"""
from __future__ import annotations

import dataclasses
import inspect
import json
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.violations import Outcome

RESULT_PROPERTY = "b4a_check"
#: Every CheckResult (as JSON) this process collected; the controller's list is the run's.
RESULTS = pytest.StashKey[list[dict[str, Any]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("buddy4all", "Buddy4all conformance")
    group.addoption("--b4a-profile", help="target profile YAML (see fixtures/profiles/)")
    group.addoption("--b4a-base-url", help="override the profile's base_url")
    group.addoption("--b4a-emulator", help="base URL of the FCM emulator the target pushes to")
    group.addoption("--b4a-project", default=None, help="FCM project id at the emulator (default: the emulator's)")
    group.addoption("--b4a-strict", action="store_true", help="SHOULD violations fail; unknown payload keys are reported")
    group.addoption("--b4a-only", action="append", default=[], help="run only checks of a family (friendship, game-session, chat, call, delivery, push, auth), carrying a rule id or prefix (FRND-001, FRND), or with a check id prefix (test_call.py::test_a_declined_call)")
    group.addoption("--b4a-results", help="write one JSON CheckResult per line to this file")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rule(*ids): the contract rule ids (e.g. FRND-001) this check proves")
    config.addinivalue_line("markers", "waits(why): the check waits on purpose (a ring timeout): run it first, so its "
                                       "wait overlaps the other checks")
    config.stash[RESULTS] = []



# ---------------------------------------------------------------------------- selection
def _rules_of(item: pytest.Item) -> tuple[str, ...]:
    return tuple(rule for mark in item.iter_markers("rule") for rule in mark.args)


def _family_of(item: pytest.Item) -> str | None:
    module = getattr(item, "module", None)
    return getattr(module, "FAMILY", None)


def _selected(item: pytest.Item, selectors: list[str]) -> bool:
    rules = _rules_of(item)
    family = _family_of(item)
    for selector in selectors:
        wanted = selector.strip()
        if ".py" in wanted and _check_id(item.nodeid).startswith(wanted):
            return True  # a check id (or its file), as reports show it: test_call.py::test_a_declined_call
        if wanted.lower() == (family or "").lower():
            return True
        if any(rule == wanted.upper() or rule.startswith(wanted.upper() + "-") for rule in rules):
            return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    known = {rule for item in items for rule in _rules_of(item)}
    from harness.contract import load_contract

    unknown = sorted(known - set(load_contract().rules))
    if unknown:
        raise pytest.UsageError(f"@pytest.mark.rule names unknown rule ids: {', '.join(unknown)}")
    # Checks that wait on purpose start first, each beside a check that does not: xdist hands out
    # the first tests two per worker (b4a run passes --maxschedchunk 1), so the waits land on
    # different workers and overlap the rest instead of queueing on one.
    waiting = [item for item in items if item.get_closest_marker("waits") is not None]
    others = [item for item in items if item.get_closest_marker("waits") is None]
    paired = [item for pair in zip(waiting, others) for item in pair]
    items[:] = paired + waiting[len(others):] + others[len(waiting):]
    selectors = config.getoption("--b4a-only")
    if not selectors:
        return
    keep = [item for item in items if _selected(item, selectors)]
    dropped = [item for item in items if item not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def b4a_profile(pytestconfig: pytest.Config) -> Any:
    from harness.profile import ProfileError, load_profile

    path = pytestconfig.getoption("--b4a-profile")
    if not path:
        pytest.skip("no target profile: pass --b4a-profile PROFILE.yaml (or use `b4a run`)")
    overrides = {}
    if pytestconfig.getoption("--b4a-base-url"):
        overrides["base_url"] = pytestconfig.getoption("--b4a-base-url")
    try:
        return load_profile(Path(path), overrides=overrides)
    except ProfileError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.fixture(scope="session")
def target(b4a_profile: Any) -> Any:
    from harness.target import Target

    return Target(b4a_profile)


@pytest.fixture(scope="session")
def fcm_inbox(pytestconfig: pytest.Config, b4a_profile: Any) -> Iterator[Any]:
    url = pytestconfig.getoption("--b4a-emulator")
    if not url or b4a_profile.fcm_mode == "none":
        yield None
        return
    from harness.emulator.fcm import FcmInbox

    inbox = FcmInbox.of(url, pytestconfig.getoption("--b4a-project"))  # FcmInboxError, one line, if it does not answer
    yield inbox
    inbox.close()


@pytest.fixture
def check(request: pytest.FixtureRequest, target: Any, fcm_inbox: Any) -> Iterator[Any]:
    from harness.check import Check
    from harness.contract import load_contract
    from harness.transcript import Transcript

    transcript = Transcript()
    the_check = Check(
        name=_check_id(request.node.nodeid), target=target.with_transcript(transcript), contract=load_contract(),
        inbox=fcm_inbox, transcript=transcript, strict=request.config.getoption("--b4a-strict"),
    )
    request.node._b4a_check = the_check
    yield the_check
    the_check.close()


@pytest.fixture
def make_user(check: Any) -> Callable[..., Any]:
    """`make_user("A", connections=2, devices=2)`: a fresh user with listeners and device tokens."""
    return check.user


@pytest.fixture
def listener(check: Any) -> Callable[[Any], Any]:
    """`listener(user)`: one more connected WebSocket listener for a user of the check."""

    def open_listener(sim: Any) -> Any:
        new = check.add_connection(sim)
        new.connect()
        return new

    return open_listener


# ---------------------------------------------------------------------------- verdicts
class CheckFailed(AssertionError):
    """The check found violations that fail it (MUST, or SHOULD in strict mode)."""


def _check_id(nodeid: str) -> str:
    return nodeid.split("conformance_tests/")[-1]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    the_check = getattr(item, "_b4a_check", None)
    try:
        result = yield
    except (pytest.skip.Exception, Exception):
        # A flow that stopped half-way (the target lacks a later action, or refused a step) keeps
        # what it found: settle and judge the part that ran; the verdict keeps the violations.
        if the_check is not None and the_check.events:
            try:
                the_check.finish()
            except Exception as exc:  # noqa: BLE001 - the first error is the one to report
                the_check.could_not_judge(f"settling after the error failed: {type(exc).__name__}: {exc}")
        raise
    if the_check is not None:
        the_check.finish()
        the_check.close()  # here, not at fixture teardown: its time belongs to the check's result
        failing = the_check.failing()
        if failing:
            raise CheckFailed("\n".join(str(v) for v in failing))
        if the_check.problems:
            from harness.check import CouldNotCheck

            raise CouldNotCheck("; ".join(the_check.problems))
    return result


def _reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    text = str(report.longrepr or "").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    # pytest's own long form ends with "E   SomeError: message": that last E line says it best
    errors = [line.removeprefix("E").strip() for line in lines if line.startswith("E ")]
    return (errors[-1] if errors else lines[-1] if lines else "failed")[:500]


def _outcome(item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[None]) -> tuple[Outcome, str]:
    from harness.check import CouldNotCheck

    the_check = getattr(item, "_b4a_check", None)
    strict = item.config.getoption("--b4a-strict")
    violations = the_check.violations if the_check else []
    problems = "; ".join(the_check.problems) if the_check and the_check.problems else ""
    if report.skipped:
        reason = _reason(report)
        if violations:  # found before the skip: the check fails with them, and says what it skipped
            outcome = Outcome.for_violations(violations, strict=strict)
            return outcome, f"{len(violations)} violation(s); then skipped: {reason}"
        return Outcome.SKIP, reason
    if call.excinfo is None or isinstance(call.excinfo.value, CheckFailed):
        if the_check is not None:
            outcome = the_check.outcome()
            message = f"{len(the_check.failing())} violation(s)" if outcome is Outcome.FAIL else ""
            if problems:
                message = "; ".join(filter(None, [message, problems]))
            if outcome is Outcome.SKIP and not message:
                message = "nothing was judged"
            return outcome, message
        return Outcome.PASS, ""
    exc = call.excinfo.value
    first_line = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, AssertionError) and not isinstance(exc, CheckFailed):
        return Outcome.FAIL, first_line or "assertion failed"
    error = f"could not check: {first_line}" if isinstance(exc, CouldNotCheck) else f"{type(exc).__name__}: {first_line}"
    if the_check is not None and the_check.failing():  # what was found before the error stands
        return Outcome.FAIL, f"{len(the_check.failing())} violation(s); then {error}"
    return Outcome.ERROR, error


def _result(item: pytest.Item, outcome: Outcome, message: str, duration: float) -> Any:
    from harness.contract import load_contract
    from harness.report.model import CheckResult

    the_check = getattr(item, "_b4a_check", None)
    declared = _rules_of(item)
    rules = list(declared)
    for violation in the_check.violations if the_check else []:
        if violation.rule_id not in rules:
            rules.append(violation.rule_id)
    if the_check is not None and (outcome is not Outcome.FAIL or the_check.violations):
        verdicts = the_check.rule_verdicts(declared)
    elif the_check is not None:  # an assertion of the check itself failed: it counts against every rule it declares
        verdicts = {r: (Outcome.FAIL, message) for r in declared}
    else:  # a team's own test without the check fixture: its assertions judged its rules
        verdicts = {r: (outcome if outcome in (Outcome.PASS, Outcome.FAIL) else Outcome.SKIP, "the test's own assertions")
                    for r in declared}
    contract = load_contract()
    function = getattr(item, "function", None)
    doc = (inspect.getdoc(function) if function else None) or item.name
    return CheckResult(
        id=_check_id(item.nodeid), name=item.name, family=_family_of(item), description=doc.split("\n\n")[0].replace("\n", " "),
        expectation="; ".join(f"{r} {contract.rule(r).level.value}: {contract.rule(r).title}" for r in declared),
        rule_ids=tuple(rules), outcome=outcome, violations=tuple(the_check.violations if the_check else ()),
        duration_s=duration, transcript=tuple(the_check.transcript.to_json()) if the_check else (),
        delivery=tuple(the_check.delivery) if the_check else (), message=message,
        reproduce=the_check.reproduce() if the_check else "", rules=verdicts,
        timings=the_check.clock.rounded() if the_check else {},
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if not isinstance(item, pytest.Function):
        return report
    # One result per test: from the call phase, or from setup when setup skipped or failed; a
    # teardown that fails adds an ERROR result for the same id (b4a run keeps the worse one).
    if call.when == "call" or (call.when == "setup" and report.outcome != "passed"):
        outcome, message = _outcome(item, report, call)
        if call.when == "setup" and report.failed:
            outcome, message = Outcome.ERROR, f"setup failed: {_reason(report)}"
    elif call.when == "teardown" and report.failed:
        outcome, message = Outcome.ERROR, f"teardown failed: {_reason(report)}"
    else:
        return report
    the_check = getattr(item, "_b4a_check", None)
    if the_check is not None:
        with the_check.clock.phase("reporting"):
            result = _result(item, outcome, message, report.duration if call.when == "call" else 0.0)
        result = dataclasses.replace(result, timings=the_check.clock.rounded())
    else:
        result = _result(item, outcome, message, report.duration if call.when == "call" else 0.0)
    report.user_properties.append((RESULT_PROPERTY, json.dumps(result.to_json(), default=str)))
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    config = getattr(report, "config", None) or _CONFIG.get("config")
    if config is None:
        return
    carried = [json.loads(str(value)) for name, value in report.user_properties if name == RESULT_PROPERTY]
    config.stash[RESULTS].extend(carried)
    if report.failed and not carried:
        # A failure no check turned into a result (an xdist worker that crashed mid-test, a
        # hook that broke): it still becomes one, so a run can never pass over it.
        phase = f"{report.when} failed: " if report.when in ("setup", "call", "teardown") else ""
        config.stash[RESULTS].append(_orphan(report.nodeid, phase + _reason(report)))


def pytest_collectreport(report: pytest.CollectReport) -> None:
    config = _CONFIG.get("config")
    if config is not None and report.failed and not hasattr(config, "workerinput"):
        config.stash[RESULTS].append(_orphan(report.nodeid or "(collection)", f"could not collect: {_reason(report)}"))  # type: ignore[arg-type]


def _orphan(nodeid: str, message: str) -> dict[str, Any]:
    """An ERROR result for a test id that produced no result of its own."""
    from harness.report.model import CheckResult

    return CheckResult(
        id=_check_id(nodeid), name=nodeid.rsplit("::", 1)[-1], family=None, description="", expectation="",
        rule_ids=(), outcome=Outcome.ERROR, violations=(), duration_s=0.0, transcript=(), delivery=(),
        message=message,
    ).to_json()


_CONFIG: dict[str, pytest.Config] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIG["config"] = session.config
    # At -qq (what `b4a run` passes) only the progress line is wanted: xdist's "bringing up
    # nodes..." status line would be printed between b4a's own lines (before xdist starts nodes).
    manager = session.config.pluginmanager
    if session.config.get_verbosity() < -1 and manager.has_plugin("terminaldistreporter"):
        manager.unregister(name="terminaldistreporter")
        dsession = manager.getplugin("dsession")
        if dsession is not None and hasattr(dsession, "terminal"):
            dsession.terminal = None  # it also writes the status line directly after collection


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("--b4a-results")
    if not path or hasattr(session.config, "workerinput"):
        return  # xdist workers send their results to the controller, which writes the file
    with open(path, "w", encoding="utf-8") as out:
        for result in session.config.stash[RESULTS]:
            out.write(json.dumps(result) + "\n")
