"""Shorthands for the availability API suites' Flask test clients (tests/api)."""

from __future__ import annotations

import random
import uuid

from flask.testing import FlaskClient

from support.availability import STAFF_TOKEN

HOLDS = "/api/v1/holds"
SALES = "/api/v1/sales"
PROBLEM = "application/problem+json"


def new_visitor() -> str:
    """A fresh visitor's address (TEST-NET-2 and documentation IPv6 ranges are never routed)."""
    if random.random() < 0.5:
        return f"198.51.{random.randrange(256)}.{random.randrange(1, 255)}"
    return f"2001:db8:{random.randrange(1 << 16):x}:{random.randrange(1 << 16):x}::1"


def place_hold(
    client: FlaskClient,
    slug: str = "unique-piece",
    key: str | None = None,
    *,
    visitor: str | None = None,
    **extra,
):
    """POST a hold with a fresh Idempotency-Key (or ``key``); ``extra`` joins the body.

    Each call comes from a new visitor unless ``visitor`` (an address) is given,
    so the hold policy only applies where a test means it to.
    """
    return client.post(
        HOLDS,
        json={"sculpture": slug, **extra},
        headers={"Idempotency-Key": key or str(uuid.uuid4())},
        environ_base={"REMOTE_ADDR": visitor or new_visitor()},
    )


def staff(token: str = STAFF_TOKEN, key: str | None = None) -> dict[str, str]:
    """Staff headers: the bearer token and an Idempotency-Key (fresh, or ``key``)."""
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": key or str(uuid.uuid4())}


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
