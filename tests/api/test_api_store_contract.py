"""The store contract: every test runs against SQLite and DynamoDB (moto over HTTP).

Time is passed explicitly, so expiry is tested by moving ``now``, not by sleeping.
"""

from __future__ import annotations

import threading

import pytest
from support.availability import CATALOG, START

from api.stores.interface import (
    EditionTooSmall,
    HoldAlreadySold,
    HoldNotActive,
    IdempotencyKeyReused,
    InvalidReleaseToken,
    NoUnitFree,
    Store,
    UnknownHold,
    UnknownSculpture,
    request_fingerprint,
)

TTL = 1800


def hold(store: Store, slug: str, key: str, now: int = START, email: str | None = None):
    return store.create_hold(
        slug,
        email=email,
        idempotency_key=key,
        fingerprint=request_fingerprint({"sculpture": slug, "email": email}),
        now=now,
        ttl_seconds=TTL,
    )


def counts(store: Store, slug: str, now: int = START) -> tuple[int, int, int, str]:
    found = store.availability([slug], now)[slug]
    return found.available, found.held, found.sold, found.status


# --------------------------------------------------------------------------- availability


def test_availability_reports_every_known_piece_and_omits_unknown_ones(store: Store) -> None:
    found = store.availability(["large-edition", "no-such-piece", "unique-piece"], START)
    assert set(found) == {"large-edition", "unique-piece"}
    assert found["large-edition"].edition_size == 10
    assert counts(store, "unique-piece") == (1, 0, 0, "available")


def test_status_is_reserved_when_all_units_are_held_and_sold_out_when_all_sold(
    store: Store,
) -> None:
    first = hold(store, "unique-piece", "k1")
    assert counts(store, "unique-piece") == (0, 1, 0, "reserved")
    store.record_sale(now=START, hold_id=first.hold.id)
    assert counts(store, "unique-piece") == (0, 0, 1, "sold_out")


# --------------------------------------------------------------------------- holds


def test_holds_take_units_until_the_edition_is_exhausted(store: Store) -> None:
    for index in range(3):
        hold(store, "edition-of-three", f"key-{index}")
    assert counts(store, "edition-of-three") == (0, 3, 0, "reserved")
    with pytest.raises(NoUnitFree):
        hold(store, "edition-of-three", "key-4")


def test_a_hold_on_an_unknown_piece_is_refused(store: Store) -> None:
    with pytest.raises(UnknownSculpture):
        hold(store, "no-such-piece", "k1")


def test_a_hold_expires_by_itself_and_frees_its_unit_without_any_sweeper(store: Store) -> None:
    first = hold(store, "unique-piece", "k1")
    assert first.hold.expires_at == START + TTL
    with pytest.raises(NoUnitFree):
        hold(store, "unique-piece", "k2", now=START + TTL - 1)
    # One second later nothing has run, yet the unit is free again.
    assert counts(store, "unique-piece", now=START + TTL) == (1, 0, 0, "available")
    second = hold(store, "unique-piece", "k3", now=START + TTL)
    assert second.hold.id != first.hold.id


def test_replaying_a_key_with_the_same_body_returns_the_first_hold(store: Store) -> None:
    first = hold(store, "edition-of-three", "same-key", email="a@example.com")
    again = hold(store, "edition-of-three", "same-key", email="a@example.com", now=START + 5)
    assert again.replayed and not first.replayed
    assert (again.hold, again.release_token) == (first.hold, first.release_token)
    assert counts(store, "edition-of-three") == (2, 1, 0, "available")


def test_replaying_a_key_with_another_body_is_refused(store: Store) -> None:
    hold(store, "edition-of-three", "same-key")
    with pytest.raises(IdempotencyKeyReused):
        hold(store, "large-edition", "same-key")
    assert counts(store, "large-edition") == (10, 0, 0, "available")


def test_a_failed_attempt_is_not_remembered_under_its_key(store: Store) -> None:
    hold(store, "unique-piece", "taken")
    with pytest.raises(NoUnitFree):
        hold(store, "unique-piece", "retry-me")
    # The same key works once a unit is free again (the hold expired).
    assert not hold(store, "unique-piece", "retry-me", now=START + TTL).replayed


def test_an_idempotency_key_is_forgotten_after_its_retention(store: Store) -> None:
    store.create_hold(
        "large-edition",
        email=None,
        idempotency_key="short-lived",
        fingerprint="f1",
        now=START,
        ttl_seconds=TTL,
        idempotency_ttl_seconds=60,
    )
    later = store.create_hold(
        "large-edition",
        email=None,
        idempotency_key="short-lived",
        fingerprint="f2",
        now=START + 60,
        ttl_seconds=TTL,
    )
    assert not later.replayed
    assert counts(store, "large-edition", now=START + 60)[1] == 2


def test_concurrent_holds_never_oversell(store: Store) -> None:
    """Threads of one process racing for an edition of three (cross-process: test_api_gunicorn)."""
    outcomes: list[str] = []
    barrier = threading.Barrier(12)

    def attempt(index: int) -> None:
        barrier.wait()
        try:
            hold(store, "edition-of-three", f"racer-{index}")
            outcomes.append("held")
        except NoUnitFree:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 9 + ["held"] * 3
    assert counts(store, "edition-of-three") == (0, 3, 0, "reserved")


# --------------------------------------------------------------------------- release


def test_releasing_with_the_token_frees_the_unit(store: Store) -> None:
    receipt = hold(store, "unique-piece", "k1")
    store.release_hold(receipt.hold.id, receipt.release_token, START + 1)
    assert counts(store, "unique-piece", START + 1) == (1, 0, 0, "available")
    # Releasing twice changes nothing and is not an error (DELETE is idempotent).
    store.release_hold(receipt.hold.id, receipt.release_token, START + 2)
    assert counts(store, "unique-piece", START + 2) == (1, 0, 0, "available")


@pytest.mark.parametrize("token", [None, "", "not-the-token"])
def test_releasing_needs_the_holds_own_token(store: Store, token: str | None) -> None:
    receipt = hold(store, "unique-piece", "k1")
    with pytest.raises(InvalidReleaseToken):
        store.release_hold(receipt.hold.id, token, START)
    assert counts(store, "unique-piece") == (0, 1, 0, "reserved")


def test_another_holds_token_does_not_release(store: Store) -> None:
    mine = hold(store, "edition-of-three", "mine")
    theirs = hold(store, "edition-of-three", "theirs")
    with pytest.raises(InvalidReleaseToken):
        store.release_hold(theirs.hold.id, mine.release_token, START)


def test_staff_may_release_without_the_token(store: Store) -> None:
    receipt = hold(store, "unique-piece", "k1")
    store.release_hold(receipt.hold.id, None, START, staff=True)
    assert counts(store, "unique-piece") == (1, 0, 0, "available")


def test_releasing_an_unknown_hold_is_refused(store: Store) -> None:
    with pytest.raises(UnknownHold):
        store.release_hold("00000000-0000-4000-8000-000000000000", "token", START)


def test_releasing_an_expired_hold_does_not_free_a_unit_someone_else_now_holds(
    store: Store,
) -> None:
    old = hold(store, "unique-piece", "old")
    new = hold(store, "unique-piece", "new", now=START + TTL)
    store.release_hold(old.hold.id, old.release_token, START + TTL + 1)
    assert counts(store, "unique-piece", START + TTL + 1) == (0, 1, 0, "reserved")
    store.release_hold(new.hold.id, new.release_token, START + TTL + 2)
    assert counts(store, "unique-piece", START + TTL + 2) == (1, 0, 0, "available")


def test_a_sold_hold_cannot_be_released(store: Store) -> None:
    receipt = hold(store, "unique-piece", "k1")
    store.record_sale(now=START, hold_id=receipt.hold.id)
    with pytest.raises(HoldAlreadySold):
        store.release_hold(receipt.hold.id, receipt.release_token, START)
    assert counts(store, "unique-piece") == (0, 0, 1, "sold_out")


# --------------------------------------------------------------------------- sales


def test_a_hold_becomes_a_sale(store: Store) -> None:
    receipt = hold(store, "edition-of-three", "k1")
    sale = store.record_sale(now=START + 10, hold_id=receipt.hold.id).sale
    assert (sale.sculpture, sale.hold_id, sale.sold_at) == (
        "edition-of-three",
        receipt.hold.id,
        START + 10,
    )
    # A sale never expires.
    assert counts(store, "edition-of-three", START + 10 * TTL) == (2, 0, 1, "available")


@pytest.mark.parametrize("state", ["expired", "released", "sold"])
def test_only_an_active_hold_becomes_a_sale(store: Store, state: str) -> None:
    receipt = hold(store, "unique-piece", "k1")
    if state == "released":
        store.release_hold(receipt.hold.id, receipt.release_token, START)
    elif state == "sold":
        store.record_sale(now=START, hold_id=receipt.hold.id)
    with pytest.raises(HoldNotActive) as refused:
        store.record_sale(now=START + TTL, hold_id=receipt.hold.id)
    assert refused.value.state == state


def test_a_direct_sale_takes_a_free_unit_and_only_a_free_one(store: Store) -> None:
    store.record_sale(now=START, sculpture="edition-of-three")
    hold(store, "edition-of-three", "k1")
    hold(store, "edition-of-three", "k2")
    with pytest.raises(NoUnitFree):
        store.record_sale(now=START, sculpture="edition-of-three")
    assert counts(store, "edition-of-three") == (0, 2, 1, "reserved")


def test_a_sale_of_an_unknown_piece_or_hold_is_refused(store: Store) -> None:
    with pytest.raises(UnknownSculpture):
        store.record_sale(now=START, sculpture="no-such-piece")
    with pytest.raises(UnknownHold):
        store.record_sale(now=START, hold_id="00000000-0000-4000-8000-000000000000")


# --------------------------------------------------------------------------- inventory sync


def test_sync_is_idempotent(store: Store) -> None:
    report = store.sync_inventory(CATALOG, now=START)
    assert report.added == report.resized == []
    assert sorted(report.unchanged) == sorted(CATALOG)


def test_sync_adds_new_pieces_and_grows_editions(store: Store) -> None:
    report = store.sync_inventory({**CATALOG, "new-piece": 2, "unique-piece": 4}, now=START)
    assert report.added == ["new-piece"]
    assert report.resized == ["unique-piece"]
    assert counts(store, "new-piece") == (2, 0, 0, "available")
    assert counts(store, "unique-piece") == (4, 0, 0, "available")


def test_sync_keeps_holds_and_sales_when_an_edition_changes(store: Store) -> None:
    kept = hold(store, "large-edition", "k1")
    store.record_sale(now=START, sculpture="large-edition")
    store.sync_inventory({**CATALOG, "large-edition": 2}, now=START)
    assert counts(store, "large-edition") == (0, 1, 1, "reserved")
    store.sync_inventory({**CATALOG, "large-edition": 5}, now=START)
    assert counts(store, "large-edition") == (3, 1, 1, "available")
    # The hold survived both resizes and still works.
    store.record_sale(now=START, hold_id=kept.hold.id)
    assert counts(store, "large-edition") == (3, 0, 2, "available")


def test_sync_refuses_to_shrink_below_held_plus_sold_and_changes_nothing(store: Store) -> None:
    hold(store, "edition-of-three", "k1")
    store.record_sale(now=START, sculpture="edition-of-three")
    too_small = r"edition-of-three: edition_size 1 < held 1 \+ sold 1"
    with pytest.raises(EditionTooSmall, match=too_small):
        store.sync_inventory({"edition-of-three": 1, "brand-new": 1}, now=START)
    assert counts(store, "edition-of-three") == (1, 1, 1, "available")
    assert store.availability(["brand-new"], START) == {}


def test_sync_may_shrink_over_expired_holds(store: Store) -> None:
    for index in range(3):
        hold(store, "edition-of-three", f"k{index}")
    store.sync_inventory({"edition-of-three": 1}, now=START + TTL)
    assert counts(store, "edition-of-three", START + TTL) == (1, 0, 0, "available")


def test_sync_keeps_pieces_missing_from_the_inventory_with_their_holds(store: Store) -> None:
    receipt = hold(store, "unique-piece", "k1")
    report = store.sync_inventory({"large-edition": 10}, now=START)
    assert report.kept == ["edition-of-three", "unique-piece"]
    assert store.availability(["unique-piece"], START) == {}  # off sale: not listed
    report = store.sync_inventory(CATALOG, now=START)
    assert sorted(report.reopened) == ["edition-of-three", "unique-piece"]
    assert counts(store, "unique-piece") == (0, 1, 0, "reserved")  # the hold was kept
    store.release_hold(receipt.hold.id, receipt.release_token, START)
    assert counts(store, "unique-piece") == (1, 0, 0, "available")


@pytest.mark.parametrize("size", [0, -1, True, 1.5, "3"])
def test_sync_rejects_sizes_that_are_not_positive_integers(store: Store, size: object) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        store.sync_inventory({"unique-piece": size}, now=START)  # type: ignore[dict-item]


def test_ping_succeeds_on_a_reachable_store(store: Store) -> None:
    store.ping()
