"""The hold policy: a visitor may hold a piece once (a day) and only a few pieces at once.

Past that the API answers 429 with ``Retry-After`` and a problem document. A
visitor is the address CloudFront saw (``api.visitors``). On both stores; the
race of one visitor's parallel requests is in test_api_gunicorn.
"""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support.api_client import HOLDS, assert_problem, place_hold, staff
from support.availability import CATALOG, START, FakeClock

from api import create_app
from api.stores.interface import (
    HoldLimitReached,
    HoldPolicy,
    VisitorHold,
    check_hold_policy,
)
from api.visitors import address_group, client_address

VISITOR = "203.0.113.9"
DAY = 24 * 3600


@pytest.fixture
def shop(store_url: str, clock: FakeClock) -> Flask:
    """Five pieces, so the limit on holds at once is reached before the shop runs out."""
    app = create_app({"STORE_URL": store_url, "CLOCK": clock, "STAFF_TOKEN": "staff-token-x"})
    pieces = {**CATALOG, **{f"piece-{n}": 2 for n in range(5)}}
    app.extensions["availability_store"].sync_inventory(pieces, now=START)
    return app


def held(client: FlaskClient, slug: str) -> int:
    return client.get(f"/api/v1/sculptures/{slug}/availability").get_json()["held"]


def test_a_visitor_holds_three_pieces_at_once_and_is_told_when_to_come_back(
    shop: Flask, clock: FakeClock
) -> None:
    client = shop.test_client()
    for n in range(3):
        assert place_hold(client, f"piece-{n}", visitor=VISITOR).status_code == 201
        clock.advance(60)
    refused = place_hold(client, "piece-3", visitor=VISITOR)
    body = assert_problem(refused, 429, "too-many-holds")
    assert "3 pieces" in body["detail"]
    # The first hold ends 30 minutes after it began, 3 minutes ago.
    assert refused.headers["Retry-After"] == str(1800 - 180)
    assert held(client, "piece-3") == 0
    # Someone else is not affected.
    assert place_hold(client, "piece-3").status_code == 201


def test_a_released_hold_no_longer_counts_against_the_visitor(shop: Flask) -> None:
    client = shop.test_client()
    holds = [place_hold(client, f"piece-{n}", visitor=VISITOR).get_json() for n in range(3)]
    released = client.delete(
        f"{HOLDS}/{holds[0]['id']}",
        headers={"Authorization": f"Bearer {holds[0]['release_token']}"},
    )
    assert released.status_code == 204
    assert place_hold(client, "piece-3", visitor=VISITOR).status_code == 201


def test_a_visitor_may_hold_a_piece_once_a_day_not_renew_it(shop: Flask, clock: FakeClock) -> None:
    client = shop.test_client()
    first = place_hold(client, "piece-0", visitor=VISITOR).get_json()
    clock.advance(1800)  # the hold expired: renewing it at once is what the policy stops
    again = place_hold(client, "piece-0", visitor=VISITOR)
    assert_problem(again, 429, "piece-held-recently")
    assert again.headers["Retry-After"] == str(DAY - 1800)
    client.delete(
        f"{HOLDS}/{first['id']}", headers={"Authorization": f"Bearer {first['release_token']}"}
    )
    assert (
        place_hold(client, "piece-0", visitor=VISITOR).status_code == 429
    )  # releasing does not reset it
    assert place_hold(client, "piece-0").status_code == 201  # others may hold it
    clock.advance(DAY - 1800 - 1)
    assert place_hold(client, "piece-0", visitor=VISITOR).status_code == 429
    clock.advance(1)  # a day after the first hold began
    assert place_hold(client, "piece-0", visitor=VISITOR).status_code == 201


def test_a_replay_is_answered_even_once_the_visitor_is_at_the_limit(shop: Flask) -> None:
    client = shop.test_client()
    key = str(uuid.uuid4())
    first = place_hold(client, "piece-0", key=key, visitor=VISITOR)
    for n in (1, 2):
        place_hold(client, f"piece-{n}", visitor=VISITOR)
    again = place_hold(client, "piece-0", key=key, visitor=VISITOR)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()


def test_the_limits_come_from_configuration(store_url: str, clock: FakeClock) -> None:
    app = create_app(
        {"STORE_URL": store_url, "CLOCK": clock, "HOLDS_PER_VISITOR": 1, "HOLD_REPEAT_SECONDS": 60}
    )
    app.extensions["availability_store"].sync_inventory(CATALOG, now=START)
    client = app.test_client()
    assert place_hold(client, "large-edition", visitor=VISITOR).status_code == 201
    body = assert_problem(place_hold(client, "edition-of-three", visitor=VISITOR), 429)
    assert "1 pieces" in body["detail"]
    clock.advance(1800)
    assert place_hold(client, "large-edition", visitor=VISITOR).status_code == 201


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("2001:db8:1:2::a", "2001:db8:1:2:ffff::b", True),  # one /64: one household
        ("2001:db8:1:2::a", "2001:db8:1:3::a", False),
        ("::ffff:198.51.100.4", "198.51.100.4", True),  # IPv4-mapped is the IPv4 address
        ("198.51.100.4", "198.51.100.5", False),
    ],
)
def test_visitors_are_told_apart_by_address_ipv6_by_its_64(
    shop: Flask, first: str, second: str, same: bool
) -> None:
    client = shop.test_client()
    assert place_hold(client, "piece-0", visitor=first).status_code == 201
    assert place_hold(client, "piece-0", visitor=second).status_code == (429 if same else 201)


def test_behind_cloudfront_the_address_it_appended_counts_not_what_the_client_wrote(
    store_url: str, clock: FakeClock
) -> None:
    """A flooding client that writes a new X-Forwarded-For each time is still one visitor."""
    app = create_app({"STORE_URL": store_url, "CLOCK": clock, "TRUSTED_PROXY_HOPS": 1})
    app.extensions["availability_store"].sync_inventory({"piece-a": 5, "piece-b": 5}, now=START)
    client = app.test_client()
    edge = {"REMOTE_ADDR": "10.0.3.7"}  # the NLB/CloudFront side of the connection

    def hold_as(forwarded: str, slug: str):
        return client.post(
            HOLDS,
            json={"sculpture": slug},
            headers={"Idempotency-Key": str(uuid.uuid4()), "X-Forwarded-For": forwarded},
            environ_base=edge,
        )

    assert hold_as("198.51.100.20", "piece-a").status_code == 201
    assert hold_as("192.0.2.1, 198.51.100.20", "piece-a").status_code == 429
    assert hold_as("192.0.2.2,198.51.100.20", "piece-a").status_code == 429
    assert hold_as("198.51.100.21", "piece-a").status_code == 201


# --------------------------------------------------------------------------- the parts


@pytest.mark.parametrize(
    ("forwarded", "peer", "hops", "expected"),
    [
        (None, "198.51.100.1", 0, "198.51.100.1"),
        ("192.0.2.9", "10.0.0.1", 0, "10.0.0.1"),  # no proxy trusted: the header is ignored
        ("192.0.2.9", "10.0.0.1", 1, "192.0.2.9"),
        ("6.6.6.6, 192.0.2.9", "10.0.0.1", 1, "192.0.2.9"),
        ("6.6.6.6, 192.0.2.9, 10.0.0.2", "10.0.0.1", 2, "192.0.2.9"),
        (None, "10.0.0.1", 1, "10.0.0.1"),  # did not come through the proxy
        ("", "10.0.0.1", 1, "10.0.0.1"),
    ],
)
def test_the_client_address_is_read_as_many_hops_from_the_right_as_proxies_are_trusted(
    forwarded: str | None, peer: str, hops: int, expected: str
) -> None:
    environ = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_address(environ, hops) == expected


@pytest.mark.parametrize(
    ("address", "group"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:aa:bb:1:2:3:4", "2001:db8:aa:bb::/64"),
        ("[2001:db8:aa:bb::9]", "2001:db8:aa:bb::/64"),
        ("::ffff:203.0.113.5", "203.0.113.5"),
        ("not an address", "unknown"),
        ("", "unknown"),
    ],
)
def test_addresses_are_grouped_as_one_household_holds_them(address: str, group: str) -> None:
    assert address_group(address) == group


def hold_at(sculpture: str, created_at: int, active: bool = True) -> VisitorHold:
    return VisitorHold(sculpture, created_at, created_at + 1800, active)


def test_the_policy_counts_running_holds_and_recent_holds_of_the_same_piece() -> None:
    policy = HoldPolicy(max_active=2, repeat_after_seconds=DAY)
    now = START + 100
    check_hold_policy(policy, [hold_at("a", START)], "b", now)
    with pytest.raises(HoldLimitReached) as refused:
        check_hold_policy(policy, [hold_at("a", START), hold_at("b", START + 50)], "c", now)
    assert (refused.value.reason, refused.value.retry_after) == ("too-many-holds", 1700)
    # Released, sold or expired holds are not running...
    check_hold_policy(policy, [hold_at("a", START, False), hold_at("b", START, False)], "c", now)
    # ... but still count for their own piece, until a day after they began.
    with pytest.raises(HoldLimitReached) as refused:
        check_hold_policy(policy, [hold_at("a", START, False)], "a", now)
    assert (refused.value.reason, refused.value.retry_after) == ("piece-held-recently", DAY - 100)
    check_hold_policy(policy, [hold_at("a", START, False)], "a", START + DAY)


def test_staff_sales_are_not_limited_by_the_hold_policy(shop: Flask) -> None:
    client = shop.test_client()
    for n in range(4):
        sale = client.post(
            "/api/v1/sales", json={"sculpture": f"piece-{n}"}, headers=staff("staff-token-x")
        )
        assert sale.status_code == 201
