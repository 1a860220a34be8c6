"""Races and clocks the store must survive: on SQLite and on DynamoDB (moto over HTTP).

Each test stages one interleaving on purpose (a stale ``now``, a request that
arrives while another with the same key is in flight, a hold that lands in the
middle of a sync), because waiting for threads to collide by chance proves little.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from support.availability import CATALOG, START, new_table

from api.stores.dynamodb import DynamoDBStore
from api.stores.interface import (
    EditionTooSmall,
    HoldNotActive,
    NoUnitFree,
    Store,
    StoreBusy,
    request_fingerprint,
)

TTL = 1800
KEY = "first-key-0000000000000000000000"


@pytest.fixture
def dynamodb(aws_env: dict[str, str]) -> Iterator[DynamoDBStore]:
    """For the races only DynamoDB can have: SQLite takes its write lock before it reads."""
    store = DynamoDBStore(new_table())
    store.sync_inventory(CATALOG, now=START)
    yield store


def hold(store: Store, slug: str, key: str, now: int):
    return store.create_hold(
        slug,
        email=None,
        idempotency_key=key,
        fingerprint=request_fingerprint({"sculpture": slug}),
        now=now,
        ttl_seconds=TTL,
    )


def totals(store: Store, slug: str, now: int) -> tuple[int, int, int]:
    found = store.availability([slug], now)[slug]
    return found.held, found.sold, found.edition_size


def assert_never_oversold(store: Store, slug: str, *instants: int) -> None:
    for now in instants:
        held, sold, size = totals(store, slug, now)
        assert held + sold <= size, f"at {now}: held {held} + sold {sold} > edition {size}"


# --------------------------------------------------------------------------- stale clocks


def test_a_sale_judged_with_a_stale_clock_cannot_take_a_unit_someone_else_now_holds(
    store: Store,
) -> None:
    """The sale read ``now`` before it waited for the lock; meanwhile H1 expired and H2 took
    the unit. Converting H1 now would leave an edition of one held and sold."""
    first = hold(store, "unique-piece", "visitor-one-key-00000000", START)
    later = START + TTL + 5
    hold(store, "unique-piece", "visitor-two-key-00000000", later)
    stale = START + TTL - 10  # what the sale's request read before it queued
    with pytest.raises(HoldNotActive):
        store.record_sale(now=stale, hold_id=first.hold.id)
    assert_never_oversold(store, "unique-piece", stale, later, later + TTL)


def test_a_clock_stepping_back_does_not_revive_an_expired_hold(store: Store) -> None:
    first = hold(store, "unique-piece", "visitor-one-key-00000000", START)
    later = START + TTL + 5
    hold(store, "unique-piece", "visitor-two-key-00000000", later)
    stepped_back = START + 60  # NTP steps the clock back past H1's expiry
    assert_never_oversold(store, "unique-piece", stepped_back)
    with pytest.raises(HoldNotActive):
        store.record_sale(now=stepped_back, hold_id=first.hold.id)
    with pytest.raises(NoUnitFree):
        hold(store, "unique-piece", "visitor-three-key-000000", stepped_back)
    assert_never_oversold(store, "unique-piece", stepped_back, later)


# --------------------------------------------------------------------------- same key in flight


def test_a_retry_in_flight_for_the_last_unit_replays_the_hold(dynamodb: DynamoDBStore) -> None:
    """Two requests with one key: the second reads the key (absent) just before the first
    commits, then finds no unit free. It must answer with the first's hold, not 409."""
    store = dynamodb
    original = store._live_idempotency_record  # type: ignore[attr-defined]
    raced: list[Any] = []

    def key_read_then_first_request_commits(*args: Any, **kwargs: Any) -> Any:
        record = original(*args, **kwargs)
        if not raced:
            raced.append(None)  # the first request runs once, inside the second's read
            raced[0] = hold(store, "unique-piece", KEY, START)
        return record

    store._live_idempotency_record = key_read_then_first_request_commits  # type: ignore[attr-defined]
    second = hold(store, "unique-piece", KEY, START)
    assert second.replayed
    assert (second.hold, second.release_token) == (raced[0].hold, raced[0].release_token)


# --------------------------------------------------------------------------- secrets at rest


def raw_dump(store_url: str) -> str:
    """Everything the database holds, as text: what a backup or a stolen read would show."""
    if store_url.startswith("sqlite"):
        path = store_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            tables = [
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            return json.dumps(
                {table: conn.execute(f"SELECT * FROM {table}").fetchall() for table in tables}
            )
    table = store_url.removeprefix("dynamodb://")
    items = boto3.client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
    return json.dumps(items)


def test_neither_release_tokens_nor_idempotency_keys_are_stored_in_clear(
    store_url: str, store: Store
) -> None:
    receipt = hold(store, "edition-of-three", KEY, START)
    dump = raw_dump(store_url)
    assert receipt.release_token not in dump
    assert KEY not in dump
    # ... yet the replay still hands the holder their token.
    again = hold(store, "edition-of-three", KEY, START + 1)
    assert again.release_token == receipt.release_token


# --------------------------------------------------------------------------- withdrawn pieces


def test_a_piece_left_out_of_the_inventory_can_no_longer_be_held_or_sold(store: Store) -> None:
    kept = hold(store, "edition-of-three", "kept-hold-key-0000000000", START)
    report = store.sync_inventory({"large-edition": 10, "unique-piece": 1}, now=START)
    assert report.kept == ["edition-of-three"]
    with pytest.raises(Exception, match="edition-of-three") as refused:
        hold(store, "edition-of-three", "new-hold-key-00000000000", START)
    assert type(refused.value).__name__ in ("UnknownSculpture", "NotOnSale")
    with pytest.raises(Exception, match="edition-of-three"):
        store.record_sale(now=START, sculpture="edition-of-three")
    # Its hold is kept and may still become a sale; back in the inventory, it is on sale again.
    store.record_sale(now=START, hold_id=kept.hold.id)
    store.sync_inventory({"large-edition": 10, "unique-piece": 1, "edition-of-three": 3}, now=START)
    assert not hold(store, "edition-of-three", "back-again-key-000000000", START).replayed


# --------------------------------------------------------------------------- sync halfway


def test_a_sync_refused_by_a_hold_that_lands_midway_writes_nothing(
    dynamodb: DynamoDBStore,
) -> None:
    store = dynamodb

    hold(store, "edition-of-three", "held-before-sync-key-000", START)
    other_node = DynamoDBStore(store.table)
    fired: list[str] = []

    def a_hold_lands(event_name: str, **_: Any) -> None:
        """Before the sync's first write, a visitor elsewhere takes one more unit."""
        if not fired and not event_name.endswith(("GetItem", "Scan", "BatchGetItem")):
            fired.append(event_name)
            hold(other_node, "edition-of-three", "held-during-sync-key-000", START)

    store.client.meta.events.register("before-call.dynamodb", a_hold_lands)  # type: ignore[attr-defined]
    with pytest.raises(EditionTooSmall, match="edition-of-three"):
        store.sync_inventory({"brand-new-piece": 2, "edition-of-three": 1}, now=START)
    assert fired
    assert store.availability(["brand-new-piece"], START) == {}
    assert totals(store, "edition-of-three", START) == (2, 0, 3)


# --------------------------------------------------------------------------- lost answers


def lose_the_first_answer(store: Store, operation: str = "TransactWriteItems") -> list[str]:
    """Make botocore resend the first ``operation`` after DynamoDB committed it.

    As when a response is lost on the network: the write happened, botocore only
    saw a retryable failure, and sends the same request again.
    """
    resent: list[str] = []

    def retry_once(response: Any, **_: Any) -> int | None:
        if not resent and response is not None and response[0].status_code == 200:
            resent.append(operation)
            return 0  # retry now
        return None

    store.client.meta.events.register_first(  # type: ignore[attr-defined]
        f"needs-retry.dynamodb.{operation}", retry_once
    )
    return resent


@pytest.mark.parametrize("with_key", [True, False], ids=["with-key", "no-key"])
@pytest.mark.parametrize("kind", ["direct", "from-hold"])
def test_a_sale_whose_answer_was_lost_and_resent_is_recorded_once(
    dynamodb: DynamoDBStore, kind: str, with_key: bool
) -> None:
    store = dynamodb
    target = {"sculpture": "edition-of-three"}
    if kind == "from-hold":
        target = {"hold_id": hold(store, "edition-of-three", KEY, START).hold.id}
    keys = {"idempotency_key": "sale-key-0000000000000000", "fingerprint": "f"} if with_key else {}
    resent = lose_the_first_answer(store)
    receipt = store.record_sale(now=START, **target, **keys)
    assert resent, "the transaction was sent twice"
    assert receipt.sale.sculpture == "edition-of-three"
    held, sold, _size = totals(store, "edition-of-three", START)
    assert (held, sold) == (0, 1)


def test_a_hold_whose_answer_was_lost_and_resent_is_held_once(dynamodb: DynamoDBStore) -> None:
    store = dynamodb
    resent = lose_the_first_answer(store)
    receipt = hold(store, "edition-of-three", KEY, START)
    assert resent and not receipt.replayed
    assert totals(store, "edition-of-three", START)[0] == 1
    again = hold(store, "edition-of-three", KEY, START)
    assert again.replayed and again.release_token == receipt.release_token


# --------------------------------------------------------------------------- time budget


def test_a_store_gives_up_within_its_time_budget(store_url: str, store: Store) -> None:
    """Past the budget a request gets a 503 it may retry, long before CloudFront's 30 s."""
    from api.stores import open_store

    impatient = open_store(store_url, time_budget_seconds=1)
    if store_url.startswith("sqlite"):
        blocker = sqlite3.connect(store_url.removeprefix("sqlite:///"))
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    else:
        real_call = impatient._call  # type: ignore[attr-defined]

        def contended(operation: str, **kwargs: Any) -> Any:
            if operation == "transact_write_items":
                time.sleep(0.3)  # every transaction loses to a concurrent one
                from api.stores.dynamodb import Cancelled

                raise Cancelled(
                    ["TransactionConflict"] + ["None"] * (len(kwargs["TransactItems"]) - 1)
                )
            return real_call(operation, **kwargs)

        impatient._call = contended  # type: ignore[attr-defined]
    started = time.monotonic()
    with pytest.raises(StoreBusy):
        hold(impatient, "large-edition", KEY, START)
    assert time.monotonic() - started < 2.5
