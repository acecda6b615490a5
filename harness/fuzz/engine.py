"""Requests generated from the target's OpenAPI document by Schemathesis, sent as pool users.

Two phases, both seeded: every operation on its own (schema-conforming and schema-violating
input, path and body ids often swapped for the pool's real ids), then stateful scenarios that
follow the document's links (a created friendship's id feeds its accept). Each request is
authenticated as a pool user (the profile's `auth`), recorded (curl line, parties, resources) and
its answer judged: a 5xx or no answer (SEC-010) and a contradiction of the document (the
response checks of Schemathesis). Budgets: examples per operation, scenarios, and a time limit.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, given, reject, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException

from harness.fuzz.observer import Exchange
from harness.fuzz.pool import Pool, PoolUser
from harness.fuzz.resources import id_value, path_kind, user_refs
from harness.templating import render_text

__all__ = ["Budget", "Fuzzer", "OutOfTime", "ResponseFinding", "SIGN_OUT"]

#: operations left out: they would end the pool users' sessions (every later request a 401)
SIGN_OUT = ("logout", "log_out", "sign_out", "signout", "sessions/current", "session/current")
#: steps per stateful scenario, and how many scenarios per example budget
STEPS_PER_SCENARIO = 6
SCENARIO_SHARE = 4  # max_examples // SCENARIO_SHARE scenarios (at least 1)
#: how often a drawn id is swapped for a real one of the pool (3 in 4)
REAL_ID_ODDS = 4
#: integers at the edges of the usual machine widths: where unchecked conversions overflow. A
#: body's other integers (levels, counts) become one of them 1 time in EDGE_ODDS, as Hypothesis
#: alone reaches them rarely within a small budget
EDGE_INTS = (0, 1, 2**15, 2**31 - 1, 2**31, 2**32, 2**53 + 1, 2**63 - 1)
EDGE_ODDS = 2


class OutOfTime(BaseException):
    """The time budget is spent: stops the running Hypothesis loop at once (no shrinking)."""


@dataclasses.dataclass(frozen=True)
class Budget:
    max_examples: int  # per operation (split between conforming and violating input)
    seed: int
    time_limit: float  # seconds for the whole fuzzing
    started: float  # monotonic

    def over(self) -> bool:
        return time.monotonic() - self.started >= self.time_limit


@dataclasses.dataclass(frozen=True)
class ResponseFinding:
    """A broken expectation on an answer: a server error (SEC-010) or the document contradicted."""

    kind: str  # "server-error" | "openapi"
    rule_id: str
    message: str
    exchange: Exchange


@dataclasses.dataclass
class OperationStats:
    requests: int = 0
    statuses: dict[str, int] = dataclasses.field(default_factory=dict)


class Fuzzer:
    def __init__(self, schema: Any, pool: Pool, budget: Budget, base_url: str, *,
                 on_exchange: Callable[[Exchange], None] | None = None) -> None:
        self.schema = schema
        self.pool = pool
        self.budget = budget
        self.base_url = base_url
        self.on_exchange = on_exchange
        self.exchanges: list[Exchange] = []
        self.findings: list[ResponseFinding] = []
        self.stats: dict[str, OperationStats] = {}
        self.skipped: list[str] = []  # operations left out, with why
        self.ran_out = False  # the time budget ended the run early
        self._scenario = 0
        self._session = _session()
        self.operations = []
        for result in schema.get_all_operations():
            try:
                operation = result.ok()
            except Exception as exc:  # noqa: BLE001 - a broken operation is reported, not fatal
                self.skipped.append(f"an operation the document cannot describe: {str(exc).splitlines()[0]}")
                continue
            if any(word in operation.path.lower() for word in SIGN_OUT):
                self.skipped.append(f"{operation.label}: it would end the pool users' sessions")
                continue
            self.operations.append(operation)
            self.stats[operation.label] = OperationStats()

    # -- phases ----------------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._stateless()
            self._stateful()
        except OutOfTime:
            self.ran_out = True

    def _stateless(self) -> None:
        from schemathesis import GenerationMode

        half = max(1, self.budget.max_examples // 2)
        for operation in self.operations:
            for mode, examples in ((GenerationMode.POSITIVE, self.budget.max_examples - half or 1),
                                   (GenerationMode.NEGATIVE, half)):
                try:
                    strategy = operation.as_strategy(generation_mode=mode)
                except Exception:  # noqa: BLE001 - nothing to negate (no parameters): skip that mode
                    continue
                self._scenario += 1
                self._given(strategy, operation, examples)

    def _given(self, strategy: Any, operation: Any, examples: int) -> None:
        @seed(self.budget.seed)
        @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck), derandomize=False)
        @given(case=strategy, data=st.data())
        def one(case: Any, data: st.DataObject) -> None:
            actor = self._real_ids(case, data)
            self.execute(case, actor)

        try:
            one()
        except HypothesisException:
            pass  # nothing to generate (an unsatisfiable schema): that operation and mode are done

    def _stateful(self) -> None:
        from hypothesis.stateful import get_state_machine_test

        try:
            machine = self.schema.as_state_machine()
        except Exception:  # noqa: BLE001 - no links to follow: the stateless phase is all there is
            return
        fuzzer = self

        class Workflow(machine):  # type: ignore[misc, valid-type]
            def setup(self) -> None:
                fuzzer._scenario += 1

            def call(self, case: Any, **kwargs: Any) -> Any:
                if any(word in case.operation.path.lower() for word in SIGN_OUT):
                    reject()
                return fuzzer.execute(case, fuzzer._actor_for(case, None), stateful=True)

            def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
                pass  # judged in execute(), recorded instead of raised

        scenarios = max(1, self.budget.max_examples // SCENARIO_SHARE)
        test = get_state_machine_test(Workflow, settings=settings(
            max_examples=scenarios, stateful_step_count=STEPS_PER_SCENARIO, database=None, deadline=None,
            phases=[Phase.generate], suppress_health_check=list(HealthCheck)), _min_steps=2,
            _flaky_state={"selecting_rule": False})
        test._hypothesis_internal_use_seed = self.budget.seed  # type: ignore[attr-defined]  # what @seed does
        try:
            test()
        except HypothesisException:
            pass

    # -- one request -------------------------------------------------------------------------------

    def _real_ids(self, case: Any, data: st.DataObject) -> PoolUser:
        """Swap generated ids for the pool's real ones (often, not always: unknown ids are input too),
        then pick the acting user: mostly a party of the resource the path names."""
        ledger = self.pool.ledger
        users = [u.id for u in self.pool.users]
        for name, value in list((case.path_parameters or {}).items()):
            kind = path_kind(case.operation.path, name)
            known: list[int] = users if kind == "user" else ledger.ids(kind) if kind else []
            if known and data.draw(st.integers(0, REAL_ID_ODDS - 1), label=f"real {name}") > 0:
                case.path_parameters[name] = data.draw(st.sampled_from(known), label=name)
        if isinstance(case.body, dict):
            for key in sorted(case.body):
                value = case.body[key]
                if user_refs({key: 1}):
                    if data.draw(st.integers(0, REAL_ID_ODDS - 1), label=f"real {key}"):
                        case.body[key] = data.draw(st.sampled_from(users), label=key)
                elif _integral(value) and not key.endswith("_id") \
                        and not data.draw(st.integers(0, EDGE_ODDS - 1), label=f"edge {key}"):
                    case.body[key] = data.draw(st.sampled_from(EDGE_INTS), label=key)
        return self._actor_for(case, data)

    def _actor_for(self, case: Any, data: st.DataObject | None) -> PoolUser:
        parties = set()
        for name, value in (case.path_parameters or {}).items():
            kind, ident = path_kind(case.operation.path, name), id_value(value)
            if kind and ident is not None:
                parties |= self.pool.ledger.of((kind, ident))
        by_id = self.pool.by_id
        candidates = [by_id[p] for p in sorted(parties) if p in by_id] or self.pool.users
        if data is not None:
            return data.draw(st.sampled_from(candidates), label="actor")
        return candidates[(len(self.exchanges) * 7 + self.budget.seed) % len(candidates)]

    def _auth(self, actor: PoolUser) -> tuple[dict[str, str], dict[str, str]]:
        auth = self.pool.target.profile.auth
        variables = {"token": actor.user.token, "actor": actor.user, "user": actor.user, "name": actor.user.name}
        if auth.header:
            return {auth.header: render_text(auth.format, variables)}, {}
        return {}, {str(auth.query): str(actor.user.token)}

    def execute(self, case: Any, actor: PoolUser, stateful: bool = False) -> Any:
        """Send one case as `actor`; record and judge it. Returns the Schemathesis response."""
        if self.budget.over():
            raise OutOfTime
        operation = case.operation
        headers, params = self._auth(actor)
        if params:
            case.query = {**(case.query or {}), **params}
        seq = len(self.exchanges) + 1
        sent = time.monotonic()
        response, error = None, None
        try:
            response = case.call(base_url=self.base_url, session=self._session, headers=headers,
                                 timeout=self.pool.target.profile.http_seconds)
        except Exception as exc:  # noqa: BLE001 - no answer at all: a finding, whatever the cause
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        done = time.monotonic()
        status = response.status_code if response is not None else None
        body = _json(response)
        exchange = Exchange(
            seq=seq, operation=operation.label, method=operation.method.upper(),
            url=self._redact(case.formatted_path), actor=actor.label, status=status, t_sent=sent, t_done=done,
            parties=set(), resources=set(), curl=self._curl(case, headers), scenario=self._scenario, stateful=stateful,
            request_body=_plain(case.body), response_body=body, error=error)
        self._touch(exchange, case, actor, body)
        self.exchanges.append(exchange)
        stats = self.stats.setdefault(operation.label, OperationStats())
        stats.requests += 1
        key = str(status) if status is not None else "no answer"
        stats.statuses[key] = stats.statuses.get(key, 0) + 1
        self._judge_answer(case, response, exchange, headers)
        if self.on_exchange is not None:
            self.on_exchange(exchange)
        if response is None:
            reject()  # nothing to follow in a scenario; the finding is recorded
        return response

    def _touch(self, exchange: Exchange, case: Any, actor: PoolUser, body: Any) -> None:
        """The request's parties and resources; what a 2xx created joins the ledger."""
        ledger = self.pool.ledger
        path = case.operation.path
        exchange.parties = {actor.id} | user_refs(case.body)
        named = False
        for name, value in (case.path_parameters or {}).items():
            kind, ident = path_kind(path, name), id_value(value)
            if kind and ident is not None:
                named = True
                exchange.resources.add((kind, ident))
                exchange.parties |= ledger.of((kind, ident))
                if kind == "user":
                    exchange.parties.add(ident)
        kind = path_kind(path)
        if not named and kind:
            exchange.resources.add((kind, 0))  # the collection (a creation, a listing)
        if exchange.status is None or not 200 <= exchange.status < 300:
            return
        data = body.get("data", body) if isinstance(body, dict) else body
        exchange.parties |= user_refs(data) & set(self.pool.by_id) if isinstance(data, dict) else set()
        created = id_value(data.get("id")) if isinstance(data, dict) else None
        if kind and created is not None and kind != "user":
            exchange.resources.add((kind, created))
            ledger.add(kind, created, exchange.parties)
        if "device" in path.lower() and isinstance(case.body, dict):
            for value in case.body.values():
                if isinstance(value, str):
                    ledger.device_owner[value] = actor.id

    def _judge_answer(self, case: Any, response: Any, exchange: Exchange, headers: dict[str, str]) -> None:
        if response is None or response.status_code >= 500:
            what = f"HTTP {response.status_code}" if response is not None else f"no answer ({exchange.error})"
            self.findings.append(ResponseFinding("server-error", "SEC-010",
                                                 f"{exchange.operation} answered {what}", exchange))
            return
        from schemathesis.checks import (content_type_conformance, response_headers_conformance,
                                         response_schema_conformance, status_code_conformance)
        from schemathesis.core.failures import FailureGroup

        try:
            case.validate_response(response, checks=[status_code_conformance, content_type_conformance,
                                                     response_headers_conformance, response_schema_conformance],
                                   headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                title = getattr(failure, "title", type(failure).__name__)
                detail = " ".join(str(getattr(failure, "message", "") or "").split())[:300]
                self.findings.append(ResponseFinding(
                    "openapi", "OAS-001", f"{exchange.operation} answered HTTP {response.status_code} against its "
                    f"OpenAPI document: {title}{': ' + detail if detail else ''}", exchange))
        except AssertionError as failure:  # a single failure, raised as itself
            self.findings.append(ResponseFinding(
                "openapi", "OAS-001", f"{exchange.operation} answered HTTP {response.status_code} against its "
                f"OpenAPI document: {' '.join(str(failure).split())[:300]}", exchange))

    def _curl(self, case: Any, headers: dict[str, str]) -> str:
        try:
            text = case.as_curl_command(headers=headers, base_url=self.base_url)
        except Exception as exc:  # noqa: BLE001 - a body curl cannot carry: say so instead
            text = f"# {case.operation.label}: not expressible as curl ({type(exc).__name__})"
        return self._redact(text)

    def _redact(self, text: str) -> str:
        """Pool tokens as placeholders (<P1's token>): the line reproduces with that user's token."""
        for pooled in self.pool.users:
            text = text.replace(str(pooled.user.token), f"<{pooled.label}'s token>")
        return text


def _integral(value: Any) -> bool:
    """An integer, or a float with an integral value (JSON Schema counts 3.0 as an integer)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or isinstance(value, float) and value.is_integer()


def _session() -> Any:
    import requests

    session = requests.Session()
    session.trust_env = False  # loopback targets: no proxy from the environment
    return session


def _json(response: Any) -> Any:
    if response is None:
        return None
    try:
        return response.json()
    except Exception:  # noqa: BLE001 - not JSON: keep the start of the text
        text = getattr(response, "text", "") or ""
        return text[:500] or None


def _plain(value: Any) -> Any:
    """A case's body as JSON-able data (NotSet and bytes become descriptions)."""
    if value is None or isinstance(value, (str, int, float, bool, list, dict)):
        return value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return None
