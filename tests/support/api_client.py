"""Shorthands for the availability API suites' Flask test clients (tests/api)."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient

from support.availability import STAFF_TOKEN

HOLDS = "/api/v1/holds"
SALES = "/api/v1/sales"
PROBLEM = "application/problem+json"


def place_hold(client: FlaskClient, slug: str = "unique-piece", key: str | None = None, **extra):
    """POST a hold with a fresh Idempotency-Key (or ``key``); ``extra`` joins the body."""
    return client.post(
        HOLDS,
        json={"sculpture": slug, **extra},
        headers={"Idempotency-Key": key or str(uuid.uuid4())},
    )


def staff(token: str = STAFF_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response, status: int, kind: str | None = None) -> dict:
    """The response is an RFC 9457 problem with this status (and type, when given)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status
    if kind is not None:
        assert body["type"].endswith(f":{kind}")
    assert "Traceback" not in response.get_data(as_text=True)
    return body
