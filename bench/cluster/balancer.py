"""HAProxy as the NLB: TCP listeners, two target groups, health checks on the targets' /readyz.

What it copies from the NLB the Terraform declares (``terraform_values.TargetGroup``):

* layer 4: ``mode tcp``; HAProxy never reads a request, so it cannot retry one,
  and ``retries 0`` without ``redispatch``: a connection a target refuses is
  the client's failure, as through an NLB (clients must retry);
* flow-hash balancing: ``balance random(1)`` (one random target per connection);
* two listeners (production, test) each forwarding to a target group (blue or
  green), switched at run time as CodeDeploy switches the NLB's listeners:
  ``use_backend`` reads the group from a map the runtime API rewrites. A
  switch moves new connections only; open ones stay with their targets, as the
  NLB documents for a listener update;
* the health check: HTTP GET of the path, the expected status, interval,
  timeout, healthy and unhealthy thresholds; a newly registered target starts
  unhealthy and must pass ``healthy_threshold`` checks;
* deregistration: no new connections (``drain``), open ones keep going for the
  deregistration delay, then are closed when ``connection_termination`` is on.

Targets are slots declared in the configuration (``server g3 ... disabled``),
given an address when registered. An NLB's idle timeout (350 s, fixed by AWS)
bounds idle connections.
"""

from __future__ import annotations

import csv
import io
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from support.processes import stop_process
from support.servers import free_port

from bench.cluster.children import started
from bench.cluster.terraform_values import HealthCheck, first_routes

GROUPS = ("blue", "green")
NLB_IDLE_TIMEOUT_SECONDS = 350


@dataclass(frozen=True)
class BalancerConfig:
    production_port: int
    test_port: int
    socket_path: Path
    map_path: Path
    health_check: HealthCheck  # already scaled to the drill's time
    first_routes: dict[str, str]  # listener -> target group, as the Terraform starts them
    slots: int = 6


def _ms(seconds: float) -> str:
    return f"{max(round(seconds * 1000), 1)}ms"


def render(config: BalancerConfig) -> str:
    """The haproxy.cfg text (pure)."""
    check = config.health_check
    lines = [
        "global",
        f"    stats socket {config.socket_path} mode 600 level admin",
        "    maxconn 4000",
        "defaults",
        "    mode tcp",
        "    retries 0",
        "    timeout connect 5s",
        f"    timeout client {NLB_IDLE_TIMEOUT_SECONDS}s",
        f"    timeout server {NLB_IDLE_TIMEOUT_SECONDS}s",
        f"    timeout check {_ms(check.timeout)}",
        f"    default-server inter {_ms(check.interval)} fall {check.unhealthy_threshold}"
        f" rise {check.healthy_threshold}",
    ]
    for listener, port in (("production", config.production_port), ("test", config.test_port)):
        lines += [
            f"frontend {listener}",
            f"    bind 127.0.0.1:{port}",
            f"    use_backend %[str({listener}),map({config.map_path})]",
        ]
    for group in GROUPS:
        lines += [
            f"backend {group}",
            "    balance random(1)",
            f"    option httpchk GET {check.path}",
            f"    http-check expect status {check.status}",
        ]
        lines += [f"    server s{n} 127.0.0.1:9 check disabled" for n in range(1, config.slots + 1)]
    return "\n".join(lines) + "\n"


@dataclass
class Balancer:
    """A running HAProxy, driven through its runtime API (admin socket)."""

    config: BalancerConfig
    process: subprocess.Popen[bytes]
    #: (time, group, slot, status) of every target status change
    events: list[tuple[float, str, str, str]] = field(default_factory=list)
    _watching: threading.Event = field(default_factory=threading.Event)
    _watcher: threading.Thread | None = None

    @classmethod
    def start(cls, work: Path, health_check: HealthCheck) -> Balancer:
        config = BalancerConfig(
            production_port=free_port(),
            test_port=free_port(),
            socket_path=work / "haproxy.sock",
            map_path=work / "listeners.map",
            health_check=health_check,
            first_routes=first_routes(),
        )
        config.map_path.write_text("".join(f"{k} {v}\n" for k, v in config.first_routes.items()))
        cfg = work / "haproxy.cfg"
        cfg.write_text(render(config))
        log = (work / "haproxy.log").open("wb")
        process = started(
            subprocess.Popen(
                ["haproxy", "-f", str(cfg), "-db"], stdout=log, stderr=subprocess.STDOUT
            )
        )
        log.close()
        balancer = cls(config, process)
        deadline = time.monotonic() + 10
        while not config.socket_path.exists() or balancer._try("show info") is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"haproxy did not start: {(work / 'haproxy.log').read_text()}")
            time.sleep(0.05)
        balancer._watcher = threading.Thread(target=balancer._watch, daemon=True)
        balancer._watcher.start()
        return balancer

    def url(self, listener: str = "production") -> str:
        port = self.config.production_port if listener == "production" else self.config.test_port
        return f"http://127.0.0.1:{port}"

    # -- runtime API ----------------------------------------------------------

    def _try(self, command: str) -> str | None:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(5)
                sock.connect(str(self.config.socket_path))
                sock.sendall(command.encode() + b"\n")
                chunks = []
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
        except OSError:
            return None
        return b"".join(chunks).decode()

    def command(self, command: str) -> str:
        answer = self._try(command)
        if answer is None:
            raise RuntimeError(f"haproxy runtime API: {command!r} failed")
        return answer

    def route(self, listener: str, group: str) -> None:
        """Point a listener at a target group (new connections only)."""
        self.command(f"set map {self.config.map_path} {listener} {group}")

    def routes(self) -> dict[str, str]:
        answer = self.command(f"show map {self.config.map_path}")
        return {
            parts[1]: parts[2]
            for parts in (line.split() for line in answer.splitlines())
            if len(parts) == 3
        }

    def register(self, group: str, slot: int, port: int) -> None:
        """Register a target: it starts unhealthy and must pass the health checks."""
        server = f"{group}/s{slot}"
        self.command(f"set server {server} state maint")
        self.command(f"set server {server} addr 127.0.0.1 port {port}")
        self.command(f"set server {server} health down")
        self.command(f"set server {server} state ready")
        self.command(f"set server {server} health down")

    def drain(self, group: str, slot: int) -> None:
        """Stop sending new connections to a target; open ones continue."""
        self.command(f"set server {group}/s{slot} state drain")

    def remove(self, group: str, slot: int, *, terminate: bool) -> None:
        """End of deregistration: close its connections if the target group says so."""
        if terminate:
            self.command(f"shutdown sessions server {group}/s{slot}")
        self.command(f"set server {group}/s{slot} state maint")

    def statuses(self) -> dict[tuple[str, int], str]:
        """(group, slot) -> UP, DOWN, MAINT, DRAIN... of every target slot."""
        text = self.command("show stat").lstrip("# ")
        found = {}
        for row in csv.DictReader(io.StringIO(text)):
            if row["pxname"] in GROUPS and row["svname"].startswith("s"):
                found[(row["pxname"], int(row["svname"][1:]))] = row["status"].split()[0]
        return found

    def healthy(self, group: str, slot: int) -> bool:
        return self.statuses().get((group, slot)) == "UP"

    def _watch(self) -> None:
        """Record every target's status change with its time (for the timelines)."""
        last: dict[tuple[str, int], str] = {}
        while not self._watching.is_set():
            answer = self._try("show stat")
            if answer is not None:
                for row in csv.DictReader(io.StringIO(answer.lstrip("# "))):
                    if row["pxname"] in GROUPS and row["svname"].startswith("s"):
                        key = (row["pxname"], int(row["svname"][1:]))
                        status = row["status"].split()[0]
                        if last.get(key) != status:
                            last[key] = status
                            self.events.append((time.time(), key[0], str(key[1]), status))
            time.sleep(0.05)

    def stop(self) -> None:
        self._watching.set()
        if self._watcher is not None:
            self._watcher.join(timeout=2)
        stop_process(self.process, 5)
