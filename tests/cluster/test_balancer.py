"""HAProxy behaves as the NLB the Terraform declares: layer 4, health checks, no retries.

Real haproxy (Debian's, mk/cluster.mk) in front of small HTTP servers that say
who they are and answer their readiness path as told.
"""

from __future__ import annotations

import http.client
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.cluster.balancer import Balancer, BalancerConfig, render
from bench.cluster.terraform_values import HealthCheck

CHECK = HealthCheck(
    path="/ready", status=200, interval=0.1, timeout=1.0, healthy_threshold=2, unhealthy_threshold=2
)


def config(tmp_path: Path, check: HealthCheck = CHECK) -> BalancerConfig:
    routes = {"production": "blue", "test": "green"}
    return BalancerConfig(1001, 1002, tmp_path / "s.sock", tmp_path / "l.map", check, routes)


def test_the_configuration_is_layer_4_with_the_terraform_health_check(tmp_path: Path) -> None:
    check = HealthCheck(
        "/readyz", 204, interval=7, timeout=3, healthy_threshold=5, unhealthy_threshold=4
    )
    text = render(config(tmp_path, check))
    lines = {line.strip() for line in text.splitlines()}
    assert {"mode tcp", "retries 0", "balance random(1)", "option httpchk GET /readyz"} <= lines
    assert {"http-check expect status 204", "timeout check 3000ms"} <= lines
    assert "default-server inter 7000ms fall 4 rise 5" in lines
    # Nothing that reads or replays requests, nothing that moves a connection elsewhere.
    for forbidden in ("mode http", "retry-on", "redispatch", "http-request", "http-buffer-request"):
        assert forbidden not in text
    (tmp_path / "haproxy.cfg").write_text(text)
    (tmp_path / "l.map").write_text("production blue\ntest green\n")
    checked = subprocess.run(
        ["haproxy", "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


class Target(ThreadingHTTPServer):
    """An HTTP server that answers its name, and its readiness path with ``ready_status``."""

    daemon_threads = True

    def __init__(self, name: str, ready_status: int = 200) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.name = name
        self.ready_status = ready_status
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Target

    def do_GET(self) -> None:
        status = self.server.ready_status if self.path == CHECK.path else 200
        body = self.server.name.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def balancer(tmp_path: Path) -> Iterator[Balancer]:
    running = Balancer.start(tmp_path, CHECK)
    try:
        yield running
    finally:
        running.stop()


def wait_for(condition, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def served_by(url: str) -> str:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request("GET", "/")
        return connection.getresponse().read().decode()
    finally:
        connection.close()


def test_only_targets_that_pass_the_health_check_get_connections(balancer: Balancer) -> None:
    ready, unready = Target("ready"), Target("unready", ready_status=503)
    balancer.register("blue", 1, ready.port)
    balancer.register("blue", 2, unready.port)
    assert balancer.statuses()[("blue", 1)] == "DOWN"  # a new target starts unhealthy
    wait_for(lambda: balancer.healthy("blue", 1))
    assert {served_by(balancer.url()) for _ in range(20)} == {"ready"}
    assert balancer.statuses()[("blue", 2)] == "DOWN"


def test_a_listener_switch_moves_new_connections_only(balancer: Balancer) -> None:
    blue, green = Target("blue"), Target("green")
    balancer.register("blue", 1, blue.port)
    balancer.register("green", 1, green.port)
    wait_for(lambda: balancer.healthy("blue", 1) and balancer.healthy("green", 1))
    port = balancer.config.production_port
    kept = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    kept.request("GET", "/")
    assert kept.getresponse().read() == b"blue"
    balancer.route("production", "green")
    assert served_by(balancer.url()) == "green"
    kept.request("GET", "/")  # the open connection stays where it was, as on an NLB
    assert kept.getresponse().read() == b"blue"
    kept.close()


def test_a_refused_connection_is_the_clients_failure_not_retried_elsewhere(
    balancer: Balancer,
) -> None:
    alive, dead = Target("alive"), Target("dead")
    balancer.register("blue", 1, alive.port)
    balancer.register("blue", 2, dead.port)
    wait_for(lambda: balancer.healthy("blue", 1) and balancer.healthy("blue", 2))
    dead.shutdown()
    dead.server_close()  # refuses connections now; the checks have not noticed yet
    outcomes = set()
    for _ in range(30):
        try:
            outcomes.add(served_by(balancer.url()))
        except (http.client.HTTPException, ConnectionError):
            outcomes.add("no answer")
    assert outcomes == {"alive", "no answer"}
    wait_for(lambda: balancer.statuses()[("blue", 2)] == "DOWN")
    assert {served_by(balancer.url()) for _ in range(10)} == {"alive"}


def test_a_drained_target_keeps_its_connections_until_it_is_removed(balancer: Balancer) -> None:
    old, new = Target("old"), Target("new")
    balancer.register("blue", 1, old.port)
    wait_for(lambda: balancer.healthy("blue", 1))
    port = balancer.config.production_port
    kept = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    kept.request("GET", "/")
    assert kept.getresponse().read() == b"old"
    balancer.register("blue", 2, new.port)
    wait_for(lambda: balancer.healthy("blue", 2))
    balancer.drain("blue", 1)
    assert {served_by(balancer.url()) for _ in range(10)} == {"new"}
    kept.request("GET", "/")
    assert kept.getresponse().read() == b"old"
    balancer.remove("blue", 1, terminate=True)  # the deregistration delay is over
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        kept.request("GET", "/")
        kept.getresponse().read()
