"""The API's nodes (gunicorn, the production settings file) and the store they share.

A node is what an ECS task runs: gunicorn with ``api/gunicorn.conf.py`` (its
workers and threads), ``API_ENV=production`` (so every required setting must
be given), the store URL, the staff token, one trusted proxy hop (the visitor
is the last ``X-Forwarded-For`` entry, as behind CloudFront) and the metrics
``Service`` dimension the alarms watch. Each listens on its own free port of
127.0.0.1 and is stopped by its PID.

The store is DynamoDB on a single-threaded moto server (one request at a time,
as DynamoDB serialises writes to an item; see ``dynamodb_emulator``), or one
SQLite file every node opens.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from support.moto_server import MotoServer, aws_environment
from support.servers import ServerProcess, free_port, request

from bench.cluster import ROOT, dynamodb_emulator
from bench.cluster.children import kill, started
from bench.cluster.releases import RELEASES

GUNICORN_CONF = ROOT / "api" / "gunicorn.conf.py"
STORES = ("dynamodb", "sqlite")


@dataclass
class Store:
    """The store every node of one drill shares."""

    kind: str
    url: str
    env: dict[str, str] = field(default_factory=dict)  # what a process needs to reach it
    emulator: MotoServer | None = None

    @contextmanager
    def reachable(self) -> Iterator[None]:
        """This process talks to the store (the emulator's settings in the environment)."""
        with mock.patch.dict(os.environ, self.env):
            yield

    def close(self) -> None:
        if self.emulator is not None:
            self.emulator.stop()


def open_store(
    kind: str, work: Path, catalog: Mapping[str, int], env: Mapping[str, str] | None = None
) -> Store:
    """A fresh store of ``kind`` holding ``catalog`` (slug -> edition size).

    DynamoDB: a new table on the emulator ``env`` points at, or on one started here.
    """
    from api.stores import open_store as open_api_store

    if kind == "dynamodb":
        emulator = None if env else dynamodb_emulator.start(work)
        if emulator is not None:
            env = aws_environment(emulator.endpoint_url)
        table = f"availability-{uuid.uuid4().hex[:8]}"
        store = Store(kind, f"dynamodb://{table}", dict(env or {}), emulator)
    elif kind == "sqlite":
        store = Store(kind, f"sqlite:///{work / 'availability.sqlite3'}")
    else:
        raise ValueError(f"store must be one of {STORES}, not {kind!r}")
    with store.reachable():
        api_store = open_api_store(store.url)
        api_store.initialize()
        api_store.sync_inventory(dict(catalog), now=int(time.time()))
        api_store.close()
    return store


@dataclass
class Node:
    """One API node: a gunicorn master and its workers."""

    name: str
    release: str
    port: int
    server: ServerProcess
    started: float

    @property
    def pid(self) -> int:
        return self.server.pid

    @property
    def log_path(self) -> Path:
        assert self.server.log_path is not None
        return self.server.log_path

    def url(self, path: str) -> str:
        return self.server.url(path)

    def alive(self) -> bool:
        return self.server.process.poll() is None

    def signal(self, signum: int) -> None:
        """Signal the master (SIGKILL: the master alone; its workers die with their pipe)."""
        self.server.signal(signum)

    def kill_all(self) -> None:
        """SIGKILL the master and its workers, as a task's whole container dies."""
        kill(self.pid)
        self.server.process.wait(timeout=10)

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.server.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout: float = 30) -> int:
        return self.server.stop(timeout=timeout)


def launch_node(
    name: str,
    release: str,
    store: Store,
    *,
    log_dir: Path,
    settings: Mapping[str, str],
) -> Node:
    """Start a node (not yet ready: ``wait_alive``). ``settings``: extra API_/GUNICORN_ env."""
    port = free_port()
    env = {
        "API_ENV": "production",
        "API_STORE_URL": store.url,
        "API_TRUSTED_PROXY_HOPS": "1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "HOME": os.environ.get("HOME", "/tmp"),
        **store.env,
        **settings,
    }
    argv = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF)]
    argv += ["--chdir", str(ROOT), RELEASES[release]]
    server = ServerProcess.launch(
        argv, port=port, env=env, cwd=ROOT, log_path=log_dir / f"{name}-{port}.log"
    )
    started(server.process)
    return Node(name, release, port, server, time.time())


def wait_alive(node: Node, timeout: float = 60) -> Node:
    """Until the node answers /healthz (its process is up; readiness is the balancer's to see)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not node.alive():
            raise RuntimeError(f"{node.name} exited: {node.server.log()}")
        try:
            if request("GET", node.url("/healthz"), timeout=2).status == 200:
                return node
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{node.name} did not start in {timeout} s: {node.server.log()}")
