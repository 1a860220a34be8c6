"""The drill's five scenarios, run one after another on one cluster and one store.

Each runs a fresh load generator on the production listener, does its event
once the load has warmed up, lets it settle, stops the load (every operation
in flight finishes, retries included), then checks the store against
everything clients were told so far (``invariants``) and that every 5xx a
client received was counted in the nodes' metrics (the alarms' only source).

1. ``kill -9`` of one node (master and workers, as a task's container dies):
   the health checks find it, ECS puts a new node in its slot.
2. SIGTERM of one node: readiness fails first, the balancer takes it out of
   rotation, the requests in flight finish, the process exits; ECS replaces it.
3. Blue/green of the same release: green probed through the test listener,
   traffic shifted all at once, blue drained and stopped.
4. Two green sets that must never get traffic: one whose targets fail their
   health checks (its store setting names no store), one healthy whose reads
   fail, so the test-traffic hook fails it. Traffic stays on blue.
5. A green set that is healthy and passes the hook but answers 5xx under load:
   the deployment's alarms fire and the controller rolls back.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.cluster.controller import AlarmWatch, Cluster, DeploymentResult, deploy, other
from bench.cluster.invariants import snapshot, violations
from bench.cluster.load import LoadRun, Mix, Records
from bench.cluster.terraform_values import Deployment

NODES = 3


@dataclass
class Result:
    """What one scenario printed and whether it met its target."""

    number: str
    title: str
    records: Records
    logged_5xx: int
    violations: list[str]
    notes: list[str]
    problems: list[str]  # targets missed (the drill fails on any)
    seconds: float = 0.0
    deployments: list[DeploymentResult] = field(default_factory=list)


@dataclass
class Drill:
    """Everything a scenario needs: the cluster, the load, the ledger so far."""

    cluster: Cluster
    deployment: Deployment
    watch: AlarmWatch
    catalog: dict[str, int]
    mix: Mix
    warmup: float
    settle: float
    store_index: int
    namespace: str
    history: list[Records] = field(default_factory=list)

    def run(self, number: str, title: str, event: Callable[[list[str]], list[str]]) -> Result:
        """Run ``event`` under load; ``event`` appends notes and returns missed targets."""
        started = time.time()
        # What an alarm could still look at: its window before this scenario, and since.
        self.watch.refresh()
        self.watch.samples.forget_before(started - 2 * self.cluster.timing.alarm_window)
        net = (10, self.store_index * 16 + int(number[0]))
        load = LoadRun.start(
            self.cluster.balancer.url("production"),
            self.cluster.work,
            f"{self.store_index}-{number}",
            self.catalog,
            self.mix,
            net,
        )
        notes: list[str] = []
        try:
            time.sleep(self.warmup)
            problems = event(notes)
            time.sleep(self.settle)
        finally:
            records = load.stop()
        ended = time.time()
        self.history.append(records)
        ledger = Records.merged(self.history)
        with self.cluster.store.reachable():
            broken = violations(
                snapshot(self.cluster.store, int(time.time())), ledger, self.catalog
            )
        self.watch.refresh()
        logged = int(self.watch.samples.total(self.namespace, "Status5xx", started, ended + 5))
        served = records.served_5xx(started, ended + 5)
        if served > logged:
            broken.append(f"clients got {served} 5xx answers, the metrics counted {logged}")
        if not records.complete:
            problems.append("the load generator did not finish")
        result = Result(number, title, records, logged, broken, notes, problems)
        result.seconds = ended - started
        return result


# --------------------------------------------------------------------------- the scenarios


def _handled(log: Path) -> Iterator[tuple[float, float, int]]:
    """(began, ended, status) of every request a node's access lines (EMF) record."""
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if "_aws" in entry:
            ended = entry["_aws"]["Timestamp"] / 1000
            yield ended - entry["Latency"] / 1000, ended, entry["status"]


def _served_in_flight(log: Path, at: float) -> tuple[int, list[int]]:
    """Requests of one node whose handling spanned ``at``: (count, statuses)."""
    statuses = [status for began, ended, status in _handled(log) if began < at <= ended]
    return len(statuses), statuses


def _begun_after(log: Path, at: float) -> int:
    """Requests a node began handling after ``at`` (its drain serves new connections)."""
    return sum(1 for began, _ended, _status in _handled(log) if began > at)


def _first_line(log: Path, needle: str) -> float | None:
    """When a node first logged ``needle`` (epoch seconds), if it did."""
    for line in log.read_text(errors="replace").splitlines():
        if needle in line:
            stamp = json.loads(line)["time"].replace("Z", "+00:00")
            return datetime.fromisoformat(stamp).timestamp()
    return None


def node_killed(drill: Drill) -> Result:
    cluster = drill.cluster
    group = cluster.live

    def event(notes: list[str]) -> list[str]:
        slot = min(cluster.targets[group])
        node = cluster.targets[group][slot]
        node.kill_all()
        notes.append(f"{node.name} killed (SIGKILL, master and workers)")
        down = cluster.wait_status(group, slot, "DOWN", 120)
        notes.append(
            f"balancer marked it unhealthy after {down:.1f} s" if down else "never marked down"
        )
        cluster.forget(group, slot)
        began = time.monotonic()
        [new] = cluster.start(group, "good", 1)
        healthy = cluster.wait_healthy(group, [new], cluster.timing.healthy_within + 30)
        notes.append(
            f"replacement registered, healthy after {time.monotonic() - began:.1f} s"
            if healthy
            else "replacement never healthy"
        )
        return [] if healthy else ["the replacement node never turned healthy"]

    result = drill.run("1", "kill -9 of one node", event)
    return _expect_no_client_failures(result)


def node_terminated(drill: Drill) -> Result:
    cluster = drill.cluster
    group = cluster.live

    def event(notes: list[str]) -> list[str]:
        slot = min(cluster.targets[group])
        node = cluster.targets[group][slot]
        at = time.time()
        node.signal(signal.SIGTERM)
        down = cluster.wait_status(group, slot, "DOWN", 120)
        code = node.wait_exit(cluster.timing.drain + cluster.timing.graceful_timeout + 10)
        unready = _first_line(node.log_path, "readiness now fails")
        count, statuses = _served_in_flight(node.log_path, at)
        notes.append(
            f"{node.name} SIGTERM; readiness failing after "
            + (f"{(unready - at) * 1000:.0f} ms" if unready else "?")
            + (f", unhealthy in the balancer after {down:.1f} s" if down else ", never marked down")
            + f", exit code {code}"
        )
        notes.append(f"{count} requests in flight at SIGTERM, answered {sorted(set(statuses))}")
        notes.append(
            f"{_begun_after(node.log_path, at)} requests received and answered while it"
            f" drained ({cluster.timing.drain:g} s, until the balancer let it go)"
        )
        problems = []
        if code != 0:
            problems.append(f"the node exited with {code}, not 0 (graceful)")
        if any(status >= 500 for status in statuses):
            problems.append("a request in flight at SIGTERM failed")
        cluster.forget(group, slot)
        [new] = cluster.start(group, "good", 1)
        if not cluster.wait_healthy(group, [new], cluster.timing.healthy_within + 30):
            problems.append("the replacement node never turned healthy")
        notes.append("replacement registered and healthy")
        return problems

    result = drill.run("2", "SIGTERM of one node", event)
    return _expect_no_client_failures(result)


def _deploy(drill: Drill, notes: list[str], release: str, **kwargs: object) -> DeploymentResult:
    began = time.time()
    result = deploy(
        drill.cluster,
        release,
        count=NODES,
        settings=drill.deployment,
        watch=drill.watch,
        **kwargs,  # type: ignore[arg-type]
    )
    notes += [f"+{at - began:5.1f} s  {text}" for at, text in result.timeline]
    return result


def blue_green(drill: Drill) -> Result:
    outcomes: list[DeploymentResult] = []

    def event(notes: list[str]) -> list[str]:
        before = drill.cluster.live
        outcome = _deploy(drill, notes, "good")
        outcomes.append(outcome)
        if outcome.outcome != "succeeded":
            return [f"the deployment {outcome.outcome}: {outcome.reason}"]
        if drill.cluster.balancer.routes()["production"] != other(before):
            return ["production traffic is not on the new task set"]
        return []

    result = drill.run("3", "blue/green deployment", event)
    result.deployments = outcomes
    return _expect_no_client_failures(result)


def failing_green(drill: Drill) -> Result:
    outcomes: list[DeploymentResult] = []

    def event(notes: list[str]) -> list[str]:
        live = drill.cluster.live
        problems = []
        no_store = _missing_store(drill)
        for release, settings, label in (
            ("good", {"API_STORE_URL": no_store}, "a task set whose store setting names no store"),
            ("reads-fail", None, "a healthy task set whose reads fail"),
        ):
            notes.append(f"-- {label}:")
            outcome = _deploy(drill, notes, release, node_settings=settings)
            outcomes.append(outcome)
            if outcome.outcome != "failed":
                problems.append(f"{label}: the deployment {outcome.outcome}")
            if drill.cluster.balancer.routes()["production"] != live or drill.cluster.live != live:
                problems.append(f"{label}: production traffic left {live}")
        return problems

    result = drill.run("4", "green fails health checks or the hook", event)
    result.deployments = outcomes
    return _expect_no_client_failures(result)


def _missing_store(drill: Drill) -> str:
    store = drill.cluster.store
    if store.kind == "sqlite":
        folder = drill.cluster.work / "not-a-database"
        folder.mkdir(exist_ok=True)
        return f"sqlite:///{folder}"
    return "dynamodb://no-such-table"


def rolled_back(drill: Drill) -> Result:
    outcomes: list[DeploymentResult] = []

    def event(notes: list[str]) -> list[str]:
        outcome = _deploy(drill, notes, "fails-under-load")
        outcomes.append(outcome)
        window = {alarm.name: alarm.window for alarm in drill.cluster.timing.alarms}
        if outcome.outcome != "rolled back" or outcome.alarm_after is None:
            return [f"the bad release was not rolled back ({outcome.outcome}: {outcome.reason})"]
        limit = window[outcome.alarm_name or ""]
        notes.append(
            f"alarm {outcome.alarm_name} fired {outcome.alarm_after:.1f} s after the shift;"
            f" its evaluation window is {limit:.1f} s;"
            f" datapoints {['-' if v is None else round(v, 1) for v in outcome.alarm.datapoints]}"  # type: ignore[union-attr]
        )
        return (
            [] if outcome.alarm_after <= limit else ["the alarm fired after its evaluation window"]
        )

    result = drill.run("5", "green answers 5xx under load", event)
    result.deployments = outcomes
    return result


def _expect_no_client_failures(result: Result) -> Result:
    failed = result.records.client_failures()
    if failed:
        kinds = sorted({f"{op['op']}: {op.get('outcome')} {op.get('status', '')}" for op in failed})
        result.problems.append(f"{len(failed)} client-visible failures ({'; '.join(kinds)})")
    return result


SCENARIOS = (node_killed, node_terminated, blue_green, failing_green, rolled_back)
