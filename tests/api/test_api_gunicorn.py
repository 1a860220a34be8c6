"""Against real gunicorn (2 workers each): races across processes and nodes, expiry, SIGTERM.

The race tests send at least 50 simultaneous hold requests from several
client processes, split over two gunicorn "nodes" sharing one store: SQLite
(one file, as on one host) and DynamoDB (the single-threaded moto server, which
serialises writes per request like DynamoDB does per item).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from unittest import mock

import pytest
from support.api_client import new_visitor
from support.availability import STAFF_TOKEN, launch_node, new_table
from support.burst import RequestSpec, burst
from support.moto_server import aws_environment
from support.servers import ServerProcess, request

from api.stores import open_store

RACERS = 60


@dataclass
class Cluster:
    """Two API nodes sharing one store."""

    store_url: str
    env: Mapping[str, str]
    nodes: list[ServerProcess]
    pieces: dict[str, int] = field(default_factory=dict)

    def add_piece(self, edition: int) -> str:
        """Sync a fresh piece into the shared store, so tests do not see each other's holds.

        The inventory lists every piece added so far: one left out would go off sale.
        """
        slug = f"piece-{uuid.uuid4().hex[:8]}"
        self.pieces[slug] = edition
        with mock.patch.dict(os.environ, self.env):
            store = open_store(self.store_url)
            store.sync_inventory(self.pieces, now=int(time.time()))
            store.close()
        return slug


@pytest.fixture(scope="module", params=["sqlite", "dynamodb"])
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """Started once per store for this module: booting gunicorn is the slow part."""
    log_dir = tmp_path_factory.mktemp(f"cluster-{request.param}")
    env: dict[str, str] = {}
    if request.param == "sqlite":
        url = f"sqlite:///{log_dir / 'shared.sqlite3'}"
    else:
        env = aws_environment(request.getfixturevalue("moto_atomic").endpoint_url)
        with mock.patch.dict(os.environ, env):
            url = f"dynamodb://{new_table()}"
    with mock.patch.dict(os.environ, env):
        open_store(url).initialize()
    nodes = [launch_node(url, log_dir, **env) for _ in range(2)]
    try:
        yield Cluster(url, env, [node.wait_ready() for node in nodes])
    finally:
        for node in nodes:
            node.stop()


def hold_spec(node, slug: str, key: str | None = None, visitor: str | None = None) -> RequestSpec:
    """A hold request from ``visitor`` (as CloudFront would forward it; a new one by default)."""
    return RequestSpec(
        "POST",
        node.url("/api/v1/holds"),
        {"sculpture": slug},
        {"Idempotency-Key": key or str(uuid.uuid4()), "X-Forwarded-For": visitor or new_visitor()},
    )


def availability(node, slug: str) -> dict:
    return request("GET", node.url(f"/api/v1/sculptures/{slug}/availability")).json()


@pytest.mark.parametrize("edition", [1, 3])
def test_simultaneous_holds_from_many_processes_never_oversell(cluster: Cluster, edition: int):
    nodes, slug = cluster.nodes, cluster.add_piece(edition)
    specs = [hold_spec(nodes[index % 2], slug) for index in range(RACERS)]
    statuses = [status for status, _body in burst(specs, processes=6)]
    assert statuses.count(201) == edition, Counter(statuses)
    assert statuses.count(409) == RACERS - edition, Counter(statuses)
    counts = availability(nodes[0], slug)
    assert (counts["held"], counts["available"], counts["status"]) == (edition, 0, "reserved")


@pytest.mark.parametrize("edition", [1, 3])
def test_simultaneous_replays_of_one_request_create_one_hold(cluster: Cluster, edition: int):
    """Even for the last unit: a retry in flight gets the hold, never a 409."""
    nodes, slug = cluster.nodes, cluster.add_piece(edition)
    key, visitor = str(uuid.uuid4()), new_visitor()
    specs = [hold_spec(nodes[index % 2], slug, key, visitor) for index in range(20)]
    results = burst(specs, processes=4)
    ids = {json.loads(body)["id"] for status, body in results if status == 201}
    assert [status for status, _ in results] == [201] * 20
    assert len(ids) == 1
    assert availability(nodes[1], slug)["held"] == 1


def test_one_visitor_racing_for_many_pieces_gets_the_policys_three(cluster: Cluster):
    """The hold policy is judged in the same atomic step as the hold, across nodes."""
    nodes = cluster.nodes
    slugs = [cluster.add_piece(2) for _ in range(12)]
    flooder = new_visitor()
    specs = [hold_spec(nodes[index % 2], slug, visitor=flooder) for index, slug in enumerate(slugs)]
    specs += [hold_spec(nodes[index % 2], slug) for index, slug in enumerate(slugs)]  # others
    statuses = [status for status, _body in burst(specs, processes=6)]
    flooders, others = statuses[: len(slugs)], statuses[len(slugs) :]
    assert sorted(flooders) == [201] * 3 + [429] * (len(slugs) - 3), flooders
    assert others == [201] * len(slugs), others


def test_the_full_flow_over_http(cluster: Cluster, openapi):
    """Hold on one node, see it on the other, release it, sell directly."""
    a, b = cluster.nodes
    slug = cluster.add_piece(1)
    created = hold_spec(a, slug).send()
    assert created.status == 201
    openapi.check("POST", "/api/v1/holds", created.status, created.headers, created.body)
    assert availability(b, slug)["status"] == "reserved"
    hold = created.json()
    released = request(
        "DELETE",
        b.url(created.headers["Location"]),
        headers={"Authorization": f"Bearer {hold['release_token']}"},
    )
    assert released.status == 204
    sold = request(
        "POST",
        a.url("/api/v1/sales"),
        json_body={"sculpture": slug},
        headers={"Authorization": f"Bearer {STAFF_TOKEN}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert sold.status == 201
    assert availability(b, slug)["status"] == "sold_out"


def test_holds_expire_in_real_time_without_any_sweeper(tmp_path, start_gunicorn):
    url = f"sqlite:///{tmp_path / 'expiry.sqlite3'}"
    store = open_store(url)
    store.sync_inventory({"unique-piece": 1}, now=int(time.time()))
    node = start_gunicorn(url, API_HOLD_TTL_SECONDS="1")
    assert hold_spec(node, "unique-piece").send().status == 201
    assert hold_spec(node, "unique-piece").send().status == 409
    time.sleep(2.1)  # the hold's expiry passes; nothing runs in the background
    assert hold_spec(node, "unique-piece").send().status == 201


def test_sigterm_fails_readiness_first_then_finishes_in_flight_requests(tmp_path, start_gunicorn):
    node = start_gunicorn(f"sqlite:///{tmp_path / 'db.sqlite3'}", app="api_slow_app:app")
    assert request("GET", node.url("/readyz")).status == 200
    outcome: dict = {}

    def slow_request() -> None:
        outcome["response"] = request("GET", node.url("/_test/slow?seconds=2"))

    in_flight = threading.Thread(target=slow_request)
    in_flight.start()
    time.sleep(0.5)  # the request is being handled
    started = time.monotonic()
    node.signal(signal.SIGTERM)
    in_flight.join(timeout=30)
    exit_code = node.process.wait(timeout=35)
    response = outcome["response"]
    assert response.status == 200  # the in-flight request finished normally
    assert response.json() == {"shutting_down": True}  # readiness had already failed
    assert exit_code == 0
    assert time.monotonic() - started < 10


def test_sigterm_with_a_drain_fails_readiness_but_keeps_serving_new_connections(
    tmp_path, start_gunicorn
):
    # The load balancer keeps sending new connections until its health checks see
    # the failing /readyz; a node that stopped listening at once would reset them.
    node = start_gunicorn(f"sqlite:///{tmp_path / 'db.sqlite3'}", GUNICORN_DRAIN_SECONDS="2")
    assert request("GET", node.url("/readyz")).status == 200
    started = time.monotonic()
    node.signal(signal.SIGTERM)
    time.sleep(0.3)
    answers = []
    while time.monotonic() - started < 1.5:  # well inside the drain
        answers.append(
            (
                request("GET", node.url("/readyz")).status,
                request("GET", node.url("/healthz")).status,
            )
        )
        time.sleep(0.1)
    assert answers and set(answers) == {(503, 200)}  # every worker unready, none refusing
    exit_code = node.process.wait(timeout=35)
    assert exit_code == 0
    assert 2 <= time.monotonic() - started < 10
    log = node.log()
    assert "readiness now fails; serving for 2 s more" in log


def test_the_drain_is_cut_short_by_sigquit(tmp_path, start_gunicorn):
    node = start_gunicorn(f"sqlite:///{tmp_path / 'db.sqlite3'}", GUNICORN_DRAIN_SECONDS="60")
    started = time.monotonic()
    node.signal(signal.SIGTERM)
    time.sleep(0.5)
    node.signal(signal.SIGQUIT)  # the operator's "now"
    node.process.wait(timeout=20)
    assert time.monotonic() - started < 15


def test_gunicorn_in_production_mode_refuses_to_start_without_a_store(tmp_path) -> None:
    """The container's CMD: with API_ENV=production and no API_STORE_URL, gunicorn exits."""
    env = {"API_ENV": "production", "API_SERVICE_NAME": "x", "API_TRUSTED_PROXY_HOPS": "1"}
    node = launch_node("", tmp_path, **env)  # API_STORE_URL empty: as good as unset
    node.process.wait(timeout=60)
    assert node.process.returncode != 0
    assert "API_STORE_URL" in node.log()
