"""Every state change is a conditional write, so a stale read can never oversell."""

from __future__ import annotations

import re
from typing import Any

import pytest
from support.availability import CATALOG, START, new_table

from api.stores.dynamodb import DynamoDBStore
from api.stores.interface import NoUnitFree, Store, StoreBusy, request_fingerprint
from api.stores.sqlite import SQLiteStore

WRITE_OPERATIONS = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


def exercise_every_write(store: Store) -> None:
    """Drive each kind of state change once: sync, hold, replay, release, both sales, resize."""
    store.sync_inventory(CATALOG, now=START)

    def hold(slug: str, key: str):
        return store.create_hold(
            slug,
            email=None,
            idempotency_key=key,
            fingerprint=request_fingerprint(slug),
            now=START,
            ttl_seconds=60,
        )

    released = hold("edition-of-three", "k1")
    hold("edition-of-three", "k1")  # replay
    store.release_hold(released.hold.id, released.release_token, START)
    sold = hold("edition-of-three", "k2")
    store.record_sale(now=START, hold_id=sold.hold.id)
    store.record_sale(now=START, sculpture="large-edition")
    store.sync_inventory({**CATALOG, "large-edition": 12, "added-piece": 1}, now=START)
    store.sync_inventory({**CATALOG, "large-edition": 4}, now=START)


def test_every_dynamodb_write_carries_a_condition(aws_env) -> None:
    store = DynamoDBStore(new_table())
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, params))

    store.client.meta.events.register("before-parameter-build.dynamodb", record)
    exercise_every_write(store)

    writes = [(name, params) for name, params in calls if name in WRITE_OPERATIONS]
    assert {name for name, _ in writes} == {"TransactWriteItems"}
    for name, params in writes:
        assert name != "BatchWriteItem", "batch writes cannot be conditional"
        actions = (
            [next(iter(item.values())) for item in params["TransactItems"]]
            if name == "TransactWriteItems"
            else [params]
        )
        for action in actions:
            assert action.get("ConditionExpression"), f"unconditional {name}: {action}"


def test_a_dynamodb_write_based_on_a_stale_read_is_refused(aws_env) -> None:
    store = DynamoDBStore(new_table())
    store.sync_inventory({"unique-piece": 1}, now=START)
    key = store._inventory_key("unique-piece")
    stale = store._get(key)  # the unit is free in this snapshot...
    store.create_hold(
        "unique-piece",
        email=None,
        idempotency_key="first",
        fingerprint="f",
        now=START,
        ttl_seconds=60,
    )  # ...and taken from now on.
    fresh_get = store._get
    store._get = lambda k: stale if k == key else fresh_get(k)  # type: ignore[method-assign]
    with pytest.raises((StoreBusy, NoUnitFree)):
        store.create_hold(
            "unique-piece",
            email=None,
            idempotency_key="second",
            fingerprint="g",
            now=START,
            ttl_seconds=60,
        )
    store._get = fresh_get  # type: ignore[method-assign]
    assert store.availability(["unique-piece"], START)["unique-piece"].held == 1


def test_every_sqlite_write_statement_is_guarded(tmp_path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite3")
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    exercise_every_write(store)

    writes = [
        " ".join(statement.split())
        for statement in statements
        if re.match(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", statement, re.IGNORECASE)
    ]
    assert len(writes) >= 8
    for statement in writes:
        assert re.search(r"\bWHERE\b|\bON CONFLICT\b", statement, re.IGNORECASE), statement
