"""The Locust side of `b4a load`: the virtual user, and the local, master and worker processes.

Importing this module imports Locust, which monkey-patches the process for gevent: only the
processes `b4a load` starts for the load itself import it (the command's own process, which runs
the emulator's threads, never does).

- local: one process runs every user (`--workers 0`, the default);
- master: spawns no user; waits for `--expect-workers` workers, hands them the run's
  `LoadConfig`, starts and stops them, and collects each worker's delivery counts;
- worker: connects to a master (`b4a load --worker --master-host H`), runs its share of users.

Each process checks the deliveries of its own users: a flow pairs users of one process, so the
copies an action causes are received where the action was sent. At the end every process drains
(`LoadSession.drain`) and the master merges what they counted.
"""
from __future__ import annotations

import json
import random
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import locust  # noqa: F401 - first: gevent's monkey-patching before sockets are made
import gevent
from gevent.event import Event
from locust import User, task
from locust.env import Environment
from locust.exception import StopUser
from locust.log import setup_logging

from harness.load.config import LoadConfig
from harness.load.flows import FLOWS, befriend
from harness.load.ledger import LOST_AFTER_DEADLINES
from harness.load.population import Member
from harness.load.session import LoadSession
from harness.profile import Profile, load_profile

#: Locust's custom messages between master and workers
CONFIG_MESSAGE = "b4a_config"
DELIVERIES_MESSAGE = "b4a_deliveries"
#: seconds a worker may take to connect, and to report its counts after the drain could end
WORKERS_TIMEOUT = 60.0
REPORT_GRACE_SECONDS = 30.0


class _Process:
    """This process's session, set once the config is known (at once locally, by message on a worker)."""

    session: LoadSession | None = None
    ready = Event()
    drained = Event()
    users = 0


class BuddyUser(User):
    """One simulated Buddy4all user: its own account, connections and devices; runs random flows."""

    member: Member
    rng: random.Random

    def wait_time(self) -> float:
        session = _Process.session
        if session is None:
            return 1.0
        low, high = session.config.think
        return self.rng.uniform(low, high)

    def on_start(self) -> None:
        if not _Process.ready.wait(timeout=WORKERS_TIMEOUT) or _Process.session is None:
            raise StopUser()
        session = _Process.session
        _Process.users += 1
        self.rng = random.Random(f"{session.config.seed}/{session.process}/{_Process.users}")
        member = session.join(self.rng)
        if member is None:
            raise StopUser()
        self.member = member
        # a population where friendships exist: everyone starts with one friend
        other = session.population.partner(member, self.rng)
        if other is not None and session.supports("friendship.request"):
            lock = session.population.lock_pair(member, other)
            if lock is not None:
                try:
                    befriend(session, member, other, self.rng, settle="accept")
                finally:
                    lock.release()

    @task
    def run_a_flow(self) -> None:
        session = _Process.session
        if session is None or session.population.stopping:
            return
        flows = [(flow, weight) for flow, weight, needs in FLOWS.values() if session.supports(needs)]
        if not flows:
            return
        flow = self.rng.choices([f for f, _ in flows], weights=[w for _, w in flows])[0]
        flow(session, self.member, self.rng)


def _hook(environment: Environment, send: Any | None) -> None:
    """Stop new actions as soon as the run stops; drain and count once the users are gone."""

    def stopping(**_: Any) -> None:
        if _Process.session is not None:
            _Process.session.population.stop()

    def stopped(**_: Any) -> None:
        session = _Process.session
        if session is None or _Process.drained.is_set():
            return

        def drain() -> None:
            snapshot = session.drain()
            if send is not None:
                send(snapshot)
            _Process.drained.set()

        gevent.spawn(drain)

    environment.events.test_stopping.add_listener(stopping)
    environment.events.test_stop.add_listener(stopped)


def _stop_on_signals(stop: Event) -> None:
    for number in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(number, stop.set)


def _locust_stats(environment: Environment) -> dict[str, Any]:
    stats = environment.stats

    def row(entry: Any) -> dict[str, Any]:
        return {"name": entry.name, "type": entry.method, "requests": entry.num_requests, "failures": entry.num_failures,
                "median_ms": entry.median_response_time, "avg_ms": round(entry.avg_response_time, 1),
                "p95_ms": entry.get_response_time_percentile(0.95), "p99_ms": entry.get_response_time_percentile(0.99),
                "max_ms": round(entry.max_response_time or 0, 1), "rps": round(entry.total_rps, 2)}

    return {"entries": [row(e) for _, e in sorted(stats.entries.items())], "total": row(stats.total),
            "errors": [{"name": e.name, "error": str(e.error), "occurrences": e.occurrences} for e in stats.errors.values()]}


def run_controller(config_path: Path, results_path: Path, *, expect_workers: int, bind_host: str, bind_port: int) -> int:
    """The local runner (expect_workers 0) or the master; writes the results file, returns 0, or 2
    when the run could not happen (the results file then says why)."""
    setup_logging("WARNING")
    config = LoadConfig.from_json(json.loads(config_path.read_text(encoding="utf-8")))
    profile = load_profile(config.profile_text, overrides={"base_url": config.base_url})
    environment = Environment(user_classes=[BuddyUser], stop_timeout=_stop_timeout(profile))
    stop = Event()
    _stop_on_signals(stop)
    snapshots: dict[str, dict[str, Any]] = {}
    results: dict[str, Any] = {"config": config.to_json(), "interrupted": False, "error": None, "workers": expect_workers}
    if expect_workers:
        runner: Any = environment.create_master_runner(master_bind_host=bind_host, master_bind_port=bind_port)
        runner.register_message(DELIVERIES_MESSAGE, lambda environment, msg, **_: snapshots.__setitem__(msg.node_id, msg.data))
        waited = time.monotonic() + WORKERS_TIMEOUT
        while runner.worker_count < expect_workers:
            if stop.is_set() or time.monotonic() > waited:
                results["error"] = (f"only {runner.worker_count} of {expect_workers} workers connected to "
                                    f"{bind_host}:{bind_port} within {WORKERS_TIMEOUT:g} s")
                results["interrupted"] = stop.is_set()
                runner.quit()
                _write(results_path, results)
                return 2
            gevent.sleep(0.1)
    else:
        runner = environment.create_local_runner()
    _hook(environment, None)
    config = replace(config, started_at=time.time())
    results["config"] = config.to_json()
    if expect_workers:
        runner.send_message(CONFIG_MESSAGE, config.to_json())
    else:
        _Process.session = LoadSession(config, "local", environment.events)
        _Process.session.start()
        _Process.ready.set()
    runner.start(config.users, config.spawn_rate)  # a master's start returns once every user is dispatched
    results["interrupted"] = stop.wait(timeout=max(0.0, config.started_at + config.duration_s - time.time()))
    stopping_at = time.time()
    runner.stop()
    if expect_workers:
        # each worker drains on its own; give them what the slowest drain may need
        deadline = time.monotonic() + _drain_bound(profile) + REPORT_GRACE_SECONDS
        while len(snapshots) < expect_workers and time.monotonic() < deadline:
            gevent.sleep(0.1)
        if len(snapshots) < expect_workers:
            results["error"] = f"only {len(snapshots)} of {expect_workers} workers reported their delivery counts"
    else:
        _Process.drained.wait()
        assert _Process.session is not None and _Process.session.snapshot is not None
        snapshots["local"] = _Process.session.snapshot
    results.update(stopped_at=stopping_at, ended_at=time.time(), snapshots=list(snapshots.values()),
                   locust=_locust_stats(environment), generator_errors=_exceptions(runner))
    runner.quit()
    _write(results_path, results)
    return 0


def run_worker(master_host: str, master_port: int) -> int:
    """A worker: connects to the master, gets the run's config from it, runs users until told to quit."""
    setup_logging("WARNING")
    environment = Environment(user_classes=[BuddyUser])
    try:
        runner: Any = environment.create_worker_runner(master_host, master_port)
    except Exception as exc:  # noqa: BLE001 - Locust raises its own connection errors
        print(f"b4a load: cannot reach the master at {master_host}:{master_port}: {exc}", file=sys.stderr)
        return 2

    def configured(environment: Environment, msg: Any, **_: Any) -> None:
        config = LoadConfig.from_json(msg.data)
        _Process.session = LoadSession(config, f"worker{runner.worker_index}", environment.events)
        _Process.session.start()
        _Process.ready.set()

    def send(snapshot: dict[str, Any]) -> None:
        runner._send_stats()  # noqa: SLF001 - the request stats reach the master before the counts
        runner.send_message(DELIVERIES_MESSAGE, snapshot)

    runner.register_message(CONFIG_MESSAGE, configured)
    _hook(environment, send)
    runner.greenlet.join()
    return 0


def _stop_timeout(profile: Profile) -> float:
    # users finish the action they are in (flows send nothing new once stopping): its HTTP steps
    steps = max((len(steps) for steps in profile.actions.values()), default=1)
    return steps * profile.http_seconds + 1.0


def _drain_bound(profile: Profile) -> float:
    # the longest a drain waits: until the last action's copies count as lost, then a quiet window
    return (LOST_AFTER_DEADLINES * max(profile.websocket_seconds, profile.push_seconds) + profile.ring_timeout_seconds
            + profile.quiet_window_seconds + 1.0)


def _exceptions(runner: Any) -> list[dict[str, Any]]:
    return [{"count": row["count"], "message": str(row["msg"]).splitlines()[0] if row["msg"] else "",
             "traceback": row["traceback"][-2000:]} for row in runner.exceptions.values()]


def _write(path: Path, results: dict[str, Any]) -> None:
    path.write_text(json.dumps(results), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """`python -m harness.load.locust_side controller CONFIG RESULTS EXPECT BIND_HOST BIND_PORT`
    (what `b4a load` starts; workers run through `b4a load --worker`)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 6 and args[0] == "controller":
        return run_controller(Path(args[1]), Path(args[2]), expect_workers=int(args[3]), bind_host=args[4],
                              bind_port=int(args[5]))
    print("usage: python -m harness.load.locust_side controller CONFIG RESULTS EXPECT_WORKERS BIND_HOST BIND_PORT",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
