"""The in-process availability cache: what it may serve, and what always bypasses it.

Writes made straight on the store (not through this app) stand for another
process or node: only the TTL or ``Cache-Control: no-cache`` makes them visible.
"""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support.api_client import place_hold, staff
from support.availability import CATALOG, START, FakeClock

from api import create_app
from api.availability_cache import AvailabilityCache

LIST = "/api/v1/availability?ids=unique-piece,edition-of-three"


def held(client: FlaskClient, slug: str = "unique-piece", **headers: str) -> int:
    items = client.get(LIST, headers=headers).get_json()["items"]
    return next(item["held"] for item in items if item["sculpture"] == slug)


def hold_elsewhere(app: Flask, slug: str = "unique-piece") -> str:
    """Hold a unit as another process would: on the shared store, not through this app."""
    receipt = app.extensions["availability_store"].create_hold(
        slug,
        email=None,
        idempotency_key=str(uuid.uuid4()),
        fingerprint=str(uuid.uuid4()),
        now=START,
        ttl_seconds=1800,
    )
    return receipt.hold.id


def test_a_repeated_list_is_served_from_the_cache_until_the_ttl_passes(
    app: Flask, client: FlaskClient, clock: FakeClock
) -> None:
    assert held(client) == 0
    hold_elsewhere(app)
    clock.advance(0.9)
    assert held(client) == 0  # still within the default 1 s
    clock.advance(0.1)
    assert held(client) == 1


def test_a_cached_answer_is_byte_identical_and_keeps_its_headers(
    app: Flask, client: FlaskClient
) -> None:
    first, second = client.get(LIST), client.get(LIST)
    assert second.data == first.data
    assert second.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert second.headers["X-Request-Id"] != first.headers["X-Request-Id"]


def test_this_processs_hold_is_seen_by_its_client_at_once(app: Flask, client: FlaskClient) -> None:
    assert held(client) == 0
    assert place_hold(client).status_code == 201
    assert held(client) == 1


def test_a_release_and_a_sale_through_this_process_are_seen_at_once(
    app: Flask, client: FlaskClient
) -> None:
    hold = place_hold(client).get_json()
    assert held(client) == 1
    released = client.delete(
        f"/api/v1/holds/{hold['id']}",
        headers={"Authorization": f"Bearer {hold['release_token']}"},
    )
    assert released.status_code == 204
    assert held(client) == 0
    sale = client.post("/api/v1/sales", json={"sculpture": "unique-piece"}, headers=staff())
    assert sale.status_code == 201
    [item] = client.get("/api/v1/availability?ids=unique-piece").get_json()["items"]
    assert item["status"] == "sold_out"


def test_a_refused_write_still_drops_the_cache(app: Flask, client: FlaskClient) -> None:
    """The outcome of a failed write may be unknown (a timeout), so it invalidates too."""
    assert held(client) == 0
    hold_elsewhere(app)
    assert place_hold(client).status_code == 409  # refused: the unit is held elsewhere
    assert held(client) == 1


@pytest.mark.parametrize("directives", ["no-cache", "max-age=0", "No-Cache, no-store"])
def test_no_cache_from_the_client_reads_the_store(
    app: Flask, client: FlaskClient, directives: str
) -> None:
    """The site reloads with ``cache: "no-cache"`` after a hold, on whichever process."""
    assert held(client) == 0
    hold_elsewhere(app)
    assert held(client, **{"Cache-Control": directives}) == 1
    assert held(client) == 1  # the fresh answer replaced the cached one


def test_other_cache_directives_may_be_served_from_the_cache(
    app: Flask, client: FlaskClient
) -> None:
    assert held(client) == 0
    hold_elsewhere(app)
    for directives in ("max-age=60", "max-age=05", "no-transform"):
        assert held(client, **{"Cache-Control": directives}) == 0


def test_holds_never_read_the_cache(app: Flask, client: FlaskClient) -> None:
    assert held(client) == 0
    hold_elsewhere(app)
    assert held(client) == 0  # the list may lag for up to the TTL ...
    assert place_hold(client).status_code == 409  # ... the store's guard never does


def test_a_zero_ttl_turns_the_cache_off(store_url: str, clock: FakeClock) -> None:
    app = create_app({"STORE_URL": store_url, "CLOCK": clock, "AVAILABILITY_CACHE_SECONDS": 0})
    app.extensions["availability_store"].sync_inventory(CATALOG, now=START)
    client = app.test_client()
    assert held(client) == 0
    hold_elsewhere(app)
    assert held(client) == 1
    assert len(app.extensions["availability_cache"]) == 0


def test_refusals_are_not_cached(app: Flask, client: FlaskClient) -> None:
    for _ in range(2):
        assert client.get("/api/v1/availability?ids=Bad").status_code == 400
    assert len(app.extensions["availability_cache"]) == 0


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_every_view_that_can_write_drops_the_cache(app: Flask, method: str) -> None:
    """A guard for future endpoints: a write view without the marker fails here."""
    for rule in app.url_map.iter_rules():
        if method in rule.methods:
            view = app.view_functions[rule.endpoint]
            assert getattr(view, "invalidates_availability", False), rule.rule


@pytest.mark.parametrize("seconds", [-1, 6, "soon", True, float("nan")])
def test_a_nonsense_cache_ttl_stops_the_app_from_starting(tmp_path, seconds) -> None:
    with pytest.raises(ValueError, match="AVAILABILITY_CACHE_SECONDS"):
        create_app({"STORE_URL": f"sqlite:///{tmp_path}/db", "AVAILABILITY_CACHE_SECONDS": seconds})


def test_the_cache_ttl_comes_from_the_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("API_AVAILABILITY_CACHE_SECONDS", "0.5")
    app = create_app({"STORE_URL": f"sqlite:///{tmp_path}/db"})
    assert app.extensions["availability_cache"].ttl_seconds == 0.5


# --------------------------------------------------------------------------- the cache itself


def test_a_put_that_raced_an_invalidation_is_dropped() -> None:
    """A read that began before a write must not store its older answer after it."""
    clock = FakeClock()
    cache = AvailabilityCache(1, clock)
    generation = cache.generation  # a read starts, asks the store ...
    cache.invalidate()  # ... a write commits and invalidates ...
    cache.put(b"ids=a", b"old", generation)  # ... the read finishes
    assert cache.get(b"ids=a") is None
    cache.put(b"ids=a", b"new", cache.generation)
    assert cache.get(b"ids=a") == b"new"


def test_the_cache_holds_a_bounded_number_of_entries() -> None:
    clock = FakeClock()
    cache = AvailabilityCache(1, clock, max_entries=3)
    for n in range(3):
        cache.put(f"ids={n}".encode(), b"x", cache.generation)
    clock.advance(0.5)
    cache.put(b"ids=3", b"x", cache.generation)  # full, nothing expired: starts over
    assert len(cache) == 1
    cache.put(b"ids=4", b"x", cache.generation)
    clock.advance(1)  # ids=3 and ids=4 expire
    cache.put(b"ids=5", b"x", cache.generation)
    cache.put(b"ids=6", b"x", cache.generation)
    cache.put(b"ids=7", b"x", cache.generation)  # full: the expired ones make room
    assert len(cache) == 3
    assert cache.get(b"ids=5") == cache.get(b"ids=7") == b"x"
