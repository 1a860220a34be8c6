"""Staff sales are idempotent: a retried request never sells a second unit (both stores)."""

from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient
from support.api_client import SALES, assert_problem, place_hold, staff


def availability(client: FlaskClient, slug: str) -> dict:
    return client.get(f"/api/v1/sculptures/{slug}/availability").get_json()


@pytest.mark.parametrize("target", ["direct", "from-hold"])
def test_a_retried_sale_returns_the_first_and_sells_one_unit(
    client: FlaskClient, target: str
) -> None:
    body = {"sculpture": "edition-of-three"}
    if target == "from-hold":
        body = {"hold": place_hold(client, "edition-of-three").get_json()["id"]}
    headers = staff(key=str(uuid.uuid4()))
    first = client.post(SALES, json=body, headers=headers)
    again = client.post(SALES, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    counts = availability(client, "edition-of-three")
    assert (counts["held"], counts["sold"]) == (0, 1)


def test_a_sale_key_reused_with_another_body_is_422(client: FlaskClient) -> None:
    headers = staff(key=str(uuid.uuid4()))
    client.post(SALES, json={"sculpture": "edition-of-three"}, headers=headers)
    response = client.post(SALES, json={"sculpture": "large-edition"}, headers=headers)
    assert_problem(response, 422, "idempotency-key-reused")
    assert availability(client, "large-edition")["sold"] == 0


def test_a_hold_key_cannot_be_replayed_as_a_sale(client: FlaskClient) -> None:
    key = str(uuid.uuid4())
    place_hold(client, "edition-of-three", key=key)
    response = client.post(SALES, json={"sculpture": "edition-of-three"}, headers=staff(key=key))
    assert_problem(response, 422, "idempotency-key-reused")


@pytest.mark.parametrize(
    ("key", "kind"), [(None, "idempotency-key-missing"), ("short", "idempotency-key-invalid")]
)
def test_a_sale_needs_a_usable_idempotency_key(
    client: FlaskClient, key: str | None, kind: str
) -> None:
    headers = staff()
    if key is None:
        del headers["Idempotency-Key"]
    else:
        headers["Idempotency-Key"] = key
    response = client.post(SALES, json={"sculpture": "unique-piece"}, headers=headers)
    assert_problem(response, 400, kind)
    assert availability(client, "unique-piece")["sold"] == 0
