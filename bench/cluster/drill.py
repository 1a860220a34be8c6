"""The cluster drill's command: every scenario on each store, a table, an exit status.

Usage (from the repository root, with the project's virtualenv):

    python -m bench.cluster.drill                  # full: the Terraform's own times (minutes)
    python -m bench.cluster.drill --profile short  # what `make cluster-drill` runs (< 90 s)
    python -m bench.cluster.drill --store sqlite --keep   # one store; keep logs and records

Exit status 1 when any scenario missed its target or broke an invariant.

``short`` multiplies every time the Terraform gives (health-check interval,
deregistration delay, alarm periods, the hook's pause) by 1/60, so a 60 s alarm
period lasts 1 s and the 5 x 60 s evaluation window 5 s: the alarm logic, the
thresholds and the numbers of periods stay the real ones; only the clock runs
faster. Health-check timeouts are not scaled below 1 s (see ``controller``).
It runs both stores' clusters at the same time; ``full`` runs them one after
the other, so each store's figures are its own.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from bench.cluster import children, terraform_values
from bench.cluster.balancer import Balancer
from bench.cluster.controller import AlarmWatch, Cluster, Timing
from bench.cluster.load import STAFF_TOKEN, Mix
from bench.cluster.nodes import STORES, open_store
from bench.cluster.report import table
from bench.cluster.scenarios import NODES, SCENARIOS, Drill, Result


@dataclass(frozen=True)
class Profile:
    scale: float
    warmup: float  # seconds of load before each scenario's event
    settle: float  # and after it
    hold_ttl: int  # API_HOLD_TTL_SECONDS: holds expire during the drill too
    pieces: int  # enough units that sales (which stay) leave some to hold to the end
    mix: Mix
    #: Virtual users per store. DynamoDB is one single-threaded emulator, several times
    #: slower per call than DynamoDB (a read of 12 pieces: ~30 ms): with as many users as
    #: SQLite it queues, and the p99 the alarms see would be the emulator's, not the API's.
    users: dict[str, int]
    together: bool  # both stores' clusters at once (short) or one after the other (figures)


PROFILES = {
    "short": Profile(
        1 / 30,
        warmup=1,
        settle=1,
        hold_ttl=20,
        pieces=40,
        mix=Mix(),
        users={"sqlite": 12, "dynamodb": 8},
        together=True,
    ),
    "full": Profile(
        1.0,
        warmup=15,
        settle=15,
        hold_ttl=60,
        pieces=150,
        mix=Mix(sale_every_ms=4000),
        users={"sqlite": 24, "dynamodb": 12},
        together=False,
    ),
}


def catalog(pieces: int) -> dict[str, int]:
    """Mostly unique pieces and small editions, as a gallery lists them."""
    sizes = (1, 1, 2, 3, 1, 5, 2, 1, 10, 3)
    return {f"peca-{n:03d}": sizes[n % len(sizes)] for n in range(1, pieces + 1)}


def run_store(
    kind: str, index: int, profile: Profile, work: Path, only: set[int] | None = None
) -> list[Result]:
    target_group = terraform_values.target_group()
    alarms, _skipped = terraform_values.deployment_alarms()
    timing = Timing.scaled(target_group, alarms, profile.scale)
    pieces = catalog(profile.pieces)
    store = open_store(kind, work, pieces)
    balancer = Balancer.start(work, timing.health_check)
    settings = {
        "API_STAFF_TOKEN": STAFF_TOKEN,
        "API_SERVICE_NAME": terraform_values.api_service_dimension(),
        "API_HOLD_TTL_SECONDS": str(profile.hold_ttl),
        "GUNICORN_GRACEFUL_TIMEOUT": str(timing.graceful_timeout),
        "GUNICORN_DRAIN_SECONDS": f"{timing.drain:g}",
    }
    cluster = Cluster(store, balancer, timing, work, settings)
    results: list[Result] = []
    try:
        slots = cluster.start("blue", "good", NODES)
        if not cluster.wait_healthy("blue", slots, timing.healthy_within + 30):
            raise RuntimeError("the first (blue) nodes never turned healthy")
        drill = Drill(
            cluster=cluster,
            deployment=terraform_values.deployment(),
            watch=AlarmWatch(cluster, timing.alarms),
            catalog=pieces,
            mix=replace(profile.mix, users=profile.users[kind]),
            warmup=profile.warmup,
            settle=profile.settle,
            store_index=index,
            namespace=terraform_values.api_namespace(),
        )
        for number, scenario in enumerate(SCENARIOS, 1):
            if only and number not in only:
                continue
            result = scenario(drill)
            results.append(result)
            verdict = "ok" if not (result.problems or result.violations) else "FAILED"
            print(
                f"  [{kind}] {result.number}. {result.title}: {verdict} ({result.seconds:.0f} s)",
                flush=True,
            )
    finally:
        cluster.stop_all()
        balancer.stop()
        store.close()
    return results


def describe(profile_name: str, profile: Profile) -> str:
    target_group = terraform_values.target_group()
    deployment = terraform_values.deployment()
    alarms, skipped = terraform_values.deployment_alarms()
    check = target_group.health_check
    lines = [
        f"profile {profile_name}: Terraform times x {profile.scale:g}; {NODES} nodes per task"
        f" set; virtual visitors {profile.users} + {profile.mix.staff} staff;"
        f" holds last {profile.hold_ttl} s",
        f"target group: GET {check.path} -> {check.status} every {check.interval:g} s"
        f" (timeout {check.timeout:g} s), healthy after {check.healthy_threshold},"
        f" unhealthy after {check.unhealthy_threshold}; deregistration delay"
        f" {target_group.deregistration_delay:g} s, connection termination"
        f" {'on' if target_group.connection_termination else 'off'}; a stopping node drains"
        f" for interval x (unhealthy threshold + 1) ="
        f" {check.interval * (check.unhealthy_threshold + 1):g} s",
        f"deployment: {deployment.config_name}; hook probes {deployment.probe_attempts} x"
        f" {deployment.probe_timeout_seconds:g} s; rollback on alarm:"
        f" {'yes' if deployment.rollback_on_alarm else 'no'}",
    ]
    for alarm in alarms:
        lines.append(
            f"alarm {alarm.name}: {alarm.comparison} {alarm.threshold:g},"
            f" {alarm.datapoints_to_alarm} of {alarm.evaluation_periods} periods of"
            f" {alarm.period:g} s"
        )
    lines += [f"alarm {name}: not evaluated, {why}" for name, why in skipped.items()]
    return "\n".join(lines)


def _interrupted(signum: int, _frame: object) -> None:
    """Stopped from outside: no process of the drill may outlive it."""
    children.stop_all()
    print(f"cluster drill: interrupted by signal {signum}", flush=True)
    os._exit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument("--store", choices=[*STORES, "both"], default="both")
    parser.add_argument(
        "--work", type=Path, help="folder for logs and records (default: temporary)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--scenarios", help="run only these, e.g. 1,2 (the others are left out, not skipped)"
    )
    args = parser.parse_args(argv)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _interrupted)
    profile = PROFILES[args.profile]
    only = {int(n) for n in args.scenarios.split(",")} if args.scenarios else None
    stores = STORES if args.store == "both" else (args.store,)
    work = args.work or Path(tempfile.mkdtemp(prefix="cluster-drill-"))
    work.mkdir(parents=True, exist_ok=True)
    if any(work.iterdir()):
        parser.error(f"--work {work}: not empty (logs and records of another run)")
    started = time.monotonic()
    print(describe(args.profile, profile))
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start")
    folders = [work / kind for kind in stores]
    for folder in folders:
        folder.mkdir(exist_ok=True)
    try:
        with ThreadPoolExecutor(len(stores) if profile.together else 1) as pool:
            runs = [
                pool.submit(run_store, kind, index, profile, folder, only)
                for index, (kind, folder) in enumerate(zip(stores, folders, strict=True))
            ]
            outcomes = [run.result() for run in runs]
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    tables = [table(kind, results) for kind, results in zip(stores, outcomes, strict=True)]
    failed = any(r.problems or r.violations for results in outcomes for r in results)
    print()
    print("\n\n".join(tables))
    print()
    print(
        f"{time.monotonic() - started:.0f} s in all;"
        f" load average {os.getloadavg()[0]:.2f} at the end"
        + (f"; logs in {work}" if args.keep or args.work else "")
    )
    print("cluster drill: " + ("FAILED" if failed else "every target met, every invariant held"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
