"""What ECS and CodeDeploy do around the nodes: register, replace, deploy blue/green, roll back.

``Cluster`` is the ECS service: target slots in the balancer's two target
groups, a node per slot, a replacement for a node that died. ``deploy`` is a
CodeDeploy ECS blue/green deployment as the Terraform configures it
(``CodeDeployDefault.ECSAllAtOnce``, rollback on failure and on alarm):

1. start the replacement (green) task set and register it in the other target
   group, which the test listener forwards to; wait for its health checks;
2. AfterAllowTestTraffic: run the hook's own code (terraform/modules/deployment/
   hook/after_allow_test_traffic.py) against the test listener, with the probe
   settings of the Lambda's environment; ``Failed`` stops the deployment;
3. move the production listener to green, all at once;
4. watch the deployment's alarms (``alarms``, evaluated over the nodes' EMF
   metrics as CloudWatch would) while the original tasks are kept; an alarm
   rolls back: the production listener returns to blue, green is deregistered;
5. otherwise deregister the original (blue) targets: no new connections, the
   deregistration delay, then their connections closed (connection
   termination), then SIGTERM to the tasks.

Times come from the Terraform, multiplied by ``Timing.scale``; CodeDeploy's
termination wait (an hour) is the one value not kept: blue is kept for one
evaluation window of the alarms (N periods), the longest an alarm needs to see
a bad release.
"""

from __future__ import annotations

import importlib.util
import io
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stdout
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from unittest import mock

from bench.cluster.alarms import AlarmDefinition, Evaluation, first_alarm
from bench.cluster.balancer import Balancer
from bench.cluster.emf import LogTail, Samples
from bench.cluster.nodes import Node, Store, launch_node, wait_alive
from bench.cluster.terraform_values import (
    HOOK_SOURCE,
    Deployment,
    HealthCheck,
    TargetGroup,
)

#: Health-check timeouts are not scaled below this: a busy machine answers slower, not faster.
MIN_CHECK_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class Timing:
    """The Terraform's times, scaled for the drill (``scale`` 1: as in AWS)."""

    scale: float
    health_check: HealthCheck
    deregistration_delay: float
    connection_termination: bool
    graceful_timeout: int  # gunicorn's, matched to the deregistration delay as in production
    #: GUNICORN_DRAIN_SECONDS: after SIGTERM a node fails /readyz but serves this long, the
    #: load balancer module's unready_drain_seconds (interval x (unhealthy threshold + 1)).
    drain: float
    alarms: tuple[AlarmDefinition, ...]

    @classmethod
    def scaled(
        cls, target_group: TargetGroup, alarms: Sequence[AlarmDefinition], scale: float
    ) -> Timing:
        check = target_group.health_check
        delay = target_group.deregistration_delay * scale
        return cls(
            scale=scale,
            health_check=replace(
                check,
                interval=check.interval * scale,
                timeout=max(check.timeout * scale, min(check.timeout, MIN_CHECK_TIMEOUT_SECONDS)),
            ),
            deregistration_delay=delay,
            connection_termination=target_group.connection_termination,
            graceful_timeout=max(math.ceil(delay), 1),
            drain=check.interval * (check.unhealthy_threshold + 1) * scale,
            alarms=tuple(alarm.scaled(scale) for alarm in alarms),
        )

    @property
    def alarm_window(self) -> float:
        """The longest evaluation window of the deployment's alarms (N periods)."""
        return max((alarm.window for alarm in self.alarms), default=0.0)

    @property
    def healthy_within(self) -> float:
        """How long a new target may take to pass its checks: its threshold, plus slack."""
        check = self.health_check
        return (check.healthy_threshold + 2) * check.interval + 2 * check.timeout + 1


def other(group: str) -> str:
    return "green" if group == "blue" else "blue"


@dataclass
class Cluster:
    """The ECS service: nodes in target slots of the balancer's target groups."""

    store: Store
    balancer: Balancer
    timing: Timing
    work: Path
    node_settings: dict[str, str]
    live: str = "blue"
    targets: dict[str, dict[int, Node]] = field(default_factory=lambda: {"blue": {}, "green": {}})
    retired: list[Node] = field(default_factory=list)
    serial: int = 0

    # -- nodes ------------------------------------------------------------------

    def log_paths(self) -> list[Path]:
        nodes = [*self.retired, *(n for group in self.targets.values() for n in group.values())]
        return [node.log_path for node in nodes]

    def start(
        self, group: str, release: str, count: int, settings: Mapping[str, str] | None = None
    ) -> list[int]:
        """Start ``count`` nodes of ``release`` and register them in ``group``; their slots."""
        slots = [
            s for s in range(1, self.balancer.config.slots + 1) if s not in self.targets[group]
        ]
        slots = slots[:count]
        nodes = []
        for slot in slots:
            self.serial += 1
            name = f"{group}{slot}-{release}-{self.serial}"
            env = {**self.node_settings, **(settings or {})}
            nodes.append(launch_node(name, release, self.store, log_dir=self.work, settings=env))
        with ThreadPoolExecutor(len(nodes)) as pool:
            list(pool.map(wait_alive, nodes))
        for slot, node in zip(slots, nodes, strict=True):
            self.targets[group][slot] = node
            self.balancer.register(group, slot, node.port)
        return slots

    def wait_healthy(self, group: str, slots: Sequence[int], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            statuses = self.balancer.statuses()
            if all(statuses.get((group, slot)) == "UP" for slot in slots):
                return True
            time.sleep(0.05)
        return False

    def wait_status(self, group: str, slot: int, status: str, timeout: float) -> float | None:
        """Seconds until the balancer shows ``status`` for the target, or None."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.balancer.statuses().get((group, slot)) == status:
                return time.monotonic() - started
            time.sleep(0.02)
        return None

    def deregister(self, group: str, slots: Sequence[int], stop: bool = True) -> None:
        """Drain the targets for the deregistration delay, close what is left, SIGTERM the tasks.

        As ECS does: the tasks still drain after SIGTERM (they cannot know the
        load balancer already let them go), so a stop lasts the drain too.
        """
        for slot in slots:
            self.balancer.drain(group, slot)
        time.sleep(self.timing.deregistration_delay)
        for slot in slots:
            self.balancer.remove(group, slot, terminate=self.timing.connection_termination)
        nodes = [self.targets[group].pop(slot) for slot in slots]
        self.retired += nodes
        if stop:
            for node in nodes:
                node.signal(signal.SIGTERM)
            for node in nodes:
                node.stop(timeout=self.timing.drain + self.timing.graceful_timeout + 10)

    def forget(self, group: str, slot: int) -> Node:
        """A target whose task is gone: out of the target group at once."""
        self.balancer.remove(group, slot, terminate=False)
        node = self.targets[group].pop(slot)
        self.retired.append(node)
        return node

    def stop_all(self) -> None:
        for group in self.targets.values():
            for node in group.values():
                node.stop(timeout=5)
        for node in self.retired:
            if node.alive():
                node.stop(timeout=5)


# --------------------------------------------------------------------------- deployments


@dataclass
class DeploymentResult:
    release: str
    outcome: str  # succeeded, failed (traffic never moved), rolled back
    reason: str
    shifted_at: float | None = None
    alarm: Evaluation | None = None
    alarm_name: str | None = None
    timeline: list[tuple[float, str]] = field(default_factory=list)

    @property
    def alarm_after(self) -> float | None:
        """Seconds from the traffic shift to the evaluation that found the alarm firing."""
        if self.alarm is None or self.shifted_at is None:
            return None
        return self.alarm.at - self.shifted_at


class HookReport:
    """Stands in for the CodeDeploy client the hook reports to: keeps its verdict."""

    def __init__(self) -> None:
        self.status: str | None = None

    def put_lifecycle_event_hook_execution_status(self, **kwargs: Any) -> None:
        self.status = kwargs["status"]


def _hook_module() -> Any:
    spec = importlib.util.spec_from_file_location("after_allow_test_traffic", HOOK_SOURCE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_hook(test_url: str, settings: Deployment, scale: float) -> tuple[str, list[str]]:
    """The AfterAllowTestTraffic Lambda's handler, run here against the test listener."""
    report = HookReport()
    environment = {
        "TEST_TRAFFIC_URL": test_url,
        "PROBE_ATTEMPTS": str(settings.probe_attempts),
        "PROBE_TIMEOUT_SECONDS": str(settings.probe_timeout_seconds),
        # The pause between tries is the hook's own default (1 s), scaled like every time.
        "PROBE_PAUSE_SECONDS": str(1.0 * scale),
    }
    event = {"DeploymentId": "d-DRILL", "LifecycleEventHookExecutionId": "drill"}
    with mock.patch.dict(os.environ, environment), redirect_stdout(io.StringIO()):
        answer = _hook_module().handler(event, None, client=report)  # its log line: dropped
    return str(report.status), list(answer["failures"])


class AlarmWatch:
    """The deployment's alarms over the nodes' metrics, read from their logs as they grow."""

    def __init__(self, cluster: Cluster, alarms: Sequence[AlarmDefinition]) -> None:
        self.cluster = cluster
        self.alarms = list(alarms)
        self.tail = LogTail()
        self.samples = Samples()

    def refresh(self) -> None:
        for line in self.tail.read(self.cluster.log_paths()):
            self.samples.add_line(line)

    def firing(self, since: float, until: float) -> tuple[str, Evaluation] | None:
        self.refresh()
        for alarm in self.alarms:
            evaluation = first_alarm(alarm, self.samples.by_key, since, until)
            if evaluation is not None:
                return alarm.name, evaluation
        return None


def deploy(
    cluster: Cluster,
    release: str,
    *,
    count: int,
    settings: Deployment,
    watch: AlarmWatch,
    node_settings: Mapping[str, str] | None = None,
    note: Callable[[str], None] = lambda _text: None,
) -> DeploymentResult:
    """One blue/green deployment of ``release``; returns how it ended."""
    if settings.config_name != "CodeDeployDefault.ECSAllAtOnce":
        raise NotImplementedError(
            f"the drill shifts traffic all at once, not {settings.config_name}"
        )
    timing = cluster.timing
    blue, green = cluster.live, other(cluster.live)
    result = DeploymentResult(release, "", "")

    def log(text: str) -> None:
        result.timeline.append((time.time(), text))
        note(text)

    cluster.balancer.route("test", green)
    slots = cluster.start(green, release, count, node_settings)
    log(f"replacement task set ({release}) started in target group {green}")
    if not cluster.wait_healthy(green, slots, timing.healthy_within):
        log("its targets never passed their health checks: deployment failed")
        cluster.deregister(green, slots)
        result.outcome, result.reason = "failed", "green unhealthy"
        return result
    log("its targets are healthy")
    status, failures = run_hook(cluster.balancer.url("test"), settings, timing.scale)
    log(f"test-traffic hook: {status}" + (f" ({'; '.join(failures)})" if failures else ""))
    if status != "Succeeded":
        cluster.deregister(green, slots)
        result.outcome, result.reason = "failed", "test-traffic hook failed"
        return result

    cluster.balancer.route("production", green)
    result.shifted_at = time.time()
    log(f"production listener moved to {green} (all at once)")
    period = min((alarm.period for alarm in watch.alarms), default=1.0)
    # One evaluation window, and the evaluation at its very end. CloudWatch evaluates as
    # each period ends; so does the watch (a moment later, for the last lines to land).
    ends = result.shifted_at + timing.alarm_window + period
    while time.time() < ends:
        now = time.time()
        time.sleep((math.floor(now / period) + 1) * period + min(0.1 * period, 0.5) - now)
        fired = watch.firing(result.shifted_at, time.time()) if settings.rollback_on_alarm else None
        if fired is not None:
            result.alarm_name, result.alarm = fired
            log(f"alarm {result.alarm_name} in ALARM ({result.alarm_after:.1f} s after the shift)")
            cluster.balancer.route("production", blue)
            log(f"rolled back: production listener back on {blue}")
            cluster.deregister(green, slots)
            log("replacement task set deregistered and stopped")
            result.outcome, result.reason = "rolled back", f"alarm {result.alarm_name}"
            return result
    log("no alarm in one evaluation window: the original task set is deregistered")
    cluster.deregister(blue, sorted(cluster.targets[blue]))
    cluster.live = green
    log(f"original task set stopped; {green} serves production")
    result.outcome, result.reason = "succeeded", "no alarm"
    return result


def in_thread(target: Callable[[], Any]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread
