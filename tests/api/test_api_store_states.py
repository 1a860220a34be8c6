"""A stateful property test of the store (Hypothesis ``RuleBasedStateMachine``).

Random holds (new and replayed keys, several visitors under the hold policy),
releases (with the right token, a wrong one, as staff), sales (from holds and
direct, with and without keys), syncs that grow, shrink, drop and bring back
pieces, and a clock that moves forward, steps back, and stalls between reading
and writing (an operation judged at a ``now`` older than what the store has
already seen). On SQLite and on DynamoDB through moto.

After every step, whatever instant one asks about: held + sold never exceed the
edition; no idempotency key ever names two holds (or two sales); a replay
returns the first answer, release token included. A refusal must be honest
too: "no unit free" only when the store's own availability says none is free.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)
from support.availability import START, new_table

from api.stores import open_store
from api.stores.interface import (
    EditionTooSmall,
    HoldAlreadySold,
    HoldLimitReached,
    HoldNotActive,
    HoldPolicy,
    HoldReceipt,
    IdempotencyKeyReused,
    InvalidReleaseToken,
    NoUnitFree,
    Sale,
    Store,
    UnknownSculpture,
    request_fingerprint,
)

PIECES = ("solo", "trio", "quinteto")
VISITORS = ("visitor-a", "visitor-b", "visitor-c")
TTL = 600
POLICY = HoldPolicy(max_active=2, repeat_after_seconds=1800)
KEPT = 10 * 24 * 3600  # idempotency records outlive any run, so every replay must match


@dataclass
class Issued:
    """A hold as first answered, and what was asked."""

    key: str
    sculpture: str
    email: str | None
    visitor: str
    receipt: HoldReceipt


class StoreMachine(RuleBasedStateMachine):
    """One store, driven as many clients on many clocks would drive it."""

    store_url: str  # set by the test for each backend

    keys = Bundle("keys")
    holds = Bundle("holds")

    def __init__(self) -> None:
        super().__init__()
        self.store: Store = open_store(self.store_url_for_run())
        self.store.initialize()
        self.now = START
        self.seen_times = {START}
        self.editions = {"solo": 1, "trio": 3, "quinteto": 5}
        self.asked: dict[str, Issued] = {}  # key -> the request first made with it
        self.won: dict[str, Issued] = {}  # key -> the request that got a hold with it
        self.first: dict[str, HoldReceipt] = {}  # key -> the first hold it answered
        self.sales: dict[str, Sale] = {}  # sale key -> the first sale
        self.hold_owner: dict[str, str] = {}  # hold id -> the key that made it
        self.sold_so_far: dict[str, int] = dict.fromkeys(PIECES, 0)

    def store_url_for_run(self) -> str:
        return self.store_url

    def teardown(self) -> None:
        self.store.close()

    # -- the clock --------------------------------------------------------------------

    def at(self, stall: int) -> int:
        """The ``now`` an operation uses: read ``stall`` seconds before it writes."""
        moment = self.now - stall
        self.seen_times.add(moment)
        return moment

    @initialize()
    def stock(self) -> None:
        self.store.sync_inventory(self.editions, now=START)

    @rule(seconds=st.integers(1, 2 * TTL))
    def clock_moves_on(self, seconds: int) -> None:
        self.now += seconds
        self.seen_times.add(self.now)

    @rule(seconds=st.integers(1, 2 * TTL))
    def clock_steps_back(self, seconds: int) -> None:
        self.now -= seconds
        self.seen_times.add(self.now)

    # -- holds ------------------------------------------------------------------------

    def _hold(self, issued: Issued, stall: int) -> None:
        now = self.at(stall)
        before = self.store.availability([issued.sculpture], now).get(issued.sculpture)
        fingerprint = request_fingerprint({"sculpture": issued.sculpture, "email": issued.email})
        replay_of, winner = self.first.get(issued.key), self.won.get(issued.key)
        try:
            receipt = self.store.create_hold(
                issued.sculpture,
                email=issued.email,
                idempotency_key=issued.key,
                fingerprint=fingerprint,
                now=now,
                ttl_seconds=TTL,
                idempotency_ttl_seconds=KEPT,
                visitor=issued.visitor,
                policy=POLICY,
            )
        except IdempotencyKeyReused:
            assert winner is not None, "only a key that got a hold is remembered"
            assert (winner.sculpture, winner.email) != (issued.sculpture, issued.email)
            return
        except NoUnitFree:
            assert replay_of is None, "a key that succeeded must replay, not refuse"
            assert before is not None and before.available == 0, before
            return
        except (HoldLimitReached, UnknownSculpture):
            assert replay_of is None, "a key that succeeded must replay, not refuse"
            return
        if replay_of is not None:
            assert winner is not None and winner.sculpture == issued.sculpture
            assert receipt.replayed
            assert (receipt.hold, receipt.release_token) == (
                replay_of.hold,
                replay_of.release_token,
            )
            return
        assert not receipt.replayed
        assert before is not None and before.available >= 1, before
        assert receipt.hold.id not in self.hold_owner, "a hold id was handed out twice"
        self.first[issued.key] = receipt
        self.won[issued.key] = issued
        self.hold_owner[receipt.hold.id] = issued.key

    @rule(
        target=keys,
        sculpture=st.sampled_from(PIECES),
        email=st.sampled_from([None, "a@example.com"]),
        visitor=st.sampled_from(VISITORS),
        stall=st.sampled_from([0, 0, 5, 90, TTL + 30]),
    )
    def hold_with_a_new_key(
        self, sculpture: str, email: str | None, visitor: str, stall: int
    ) -> str:
        key = f"key-{uuid.uuid4()}"
        self.asked[key] = Issued(key, sculpture, email, visitor, None)  # type: ignore[arg-type]
        self._hold(self.asked[key], stall)
        return key

    @rule(key=keys, stall=st.sampled_from([0, 30, TTL + 30]), same_body=st.booleans())
    def replay_a_key(self, key: str, stall: int, same_body: bool) -> None:
        asked = self.asked[key]
        if not same_body:
            other = PIECES[(PIECES.index(asked.sculpture) + 1) % len(PIECES)]
            asked = Issued(key, other, asked.email, asked.visitor, None)  # type: ignore[arg-type]
        self._hold(asked, stall)

    @rule(target=holds, key=keys)
    def remember_a_hold(self, key: str) -> HoldReceipt:
        return self.first.get(key)  # type: ignore[return-value]

    @rule(
        hold=holds, token=st.sampled_from(["own", "wrong", "staff"]), stall=st.sampled_from([0, 60])
    )
    def release(self, hold: HoldReceipt | None, token: str, stall: int) -> None:
        if hold is None:
            return
        given = {"own": hold.release_token, "wrong": "not-the-token", "staff": None}[token]
        try:
            self.store.release_hold(hold.hold.id, given, self.at(stall), staff=token == "staff")
        except InvalidReleaseToken:
            assert token == "wrong"
        except HoldAlreadySold:
            pass

    # -- sales ------------------------------------------------------------------------

    def _sold(self, sale: Sale, key: str | None, replayed: bool) -> None:
        if key is not None and key in self.sales:
            assert replayed and sale == self.sales[key], "a sale key named two sales"
            return
        assert not replayed
        if key is not None:
            self.sales[key] = sale
        self.sold_so_far[sale.sculpture] += 1

    @rule(
        hold=holds,
        with_key=st.booleans(),
        repeat=st.booleans(),
        stall=st.sampled_from([0, 10, TTL + 30]),
    )
    def sell_a_hold(
        self, hold: HoldReceipt | None, with_key: bool, repeat: bool, stall: int
    ) -> None:
        if hold is None:
            return
        key = f"sale-{hold.hold.id}" if with_key else None
        for _attempt in range(2 if repeat else 1):
            try:
                receipt = self.store.record_sale(
                    now=self.at(stall),
                    hold_id=hold.hold.id,
                    idempotency_key=key,
                    fingerprint="sale-of-" + hold.hold.id,
                    idempotency_ttl_seconds=KEPT,
                )
            except (HoldNotActive, UnknownSculpture):
                assert key not in self.sales, "a sale key that succeeded must replay"
                continue
            self._sold(receipt.sale, key, receipt.replayed)

    @rule(sculpture=st.sampled_from(PIECES), with_key=st.booleans(), stall=st.sampled_from([0, 45]))
    def sell_directly(self, sculpture: str, with_key: bool, stall: int) -> None:
        now = self.at(stall)
        before = self.store.availability([sculpture], now).get(sculpture)
        key = f"direct-{uuid.uuid4()}" if with_key else None
        try:
            receipt = self.store.record_sale(
                now=now, sculpture=sculpture, idempotency_key=key, fingerprint=sculpture
            )
        except NoUnitFree:
            assert before is not None and before.available == 0, before
            return
        except UnknownSculpture:
            assert before is None  # off sale
            return
        self._sold(receipt.sale, key, receipt.replayed)

    # -- the catalog ------------------------------------------------------------------

    @rule(
        sizes=st.fixed_dictionaries({piece: st.integers(1, 6) for piece in PIECES}),
        dropped=st.sets(st.sampled_from(PIECES), max_size=1),
        stall=st.sampled_from([0, 20]),
    )
    def sync(self, sizes: dict[str, int], dropped: set[str], stall: int) -> None:
        now = self.at(stall)
        editions = {piece: size for piece, size in sizes.items() if piece not in dropped}
        before = self.store.availability(PIECES, now)
        try:
            self.store.sync_inventory(editions, now=now)
        except EditionTooSmall as refused:
            assert refused.problems
            assert self.store.availability(PIECES, now) == before, "a refused sync wrote"
            return
        listed = self.store.availability(PIECES, now)
        assert set(listed) == set(editions)
        assert {piece: found.edition_size for piece, found in listed.items()} == editions

    # -- what must always hold ----------------------------------------------------------

    @invariant()
    def never_oversold_at_any_instant(self) -> None:
        instants = {self.now, min(self.seen_times), max(self.seen_times), self.now + TTL}
        for now in instants:
            for piece, found in self.store.availability(PIECES, now).items():
                assert found.held + found.sold <= found.edition_size, (now, piece, found)
                assert found.sold == self.sold_so_far[piece], (piece, found, self.sold_so_far)

    @invariant()
    def no_key_names_two_holds(self) -> None:
        assert len(set(self.hold_owner.values())) == len(self.hold_owner)
        assert {receipt.hold.id for receipt in self.first.values()} == set(self.hold_owner)


RUNS = {"sqlite": 60, "dynamodb": 20}


@pytest.mark.parametrize("backend", sorted(RUNS))
def test_the_store_keeps_its_promises_under_any_sequence(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "dynamodb":
        request.getfixturevalue("aws_env")

    class Run(StoreMachine):
        def store_url_for_run(self) -> str:
            if backend == "dynamodb":
                return f"dynamodb://{new_table()}"
            return f"sqlite:///{tmp_path / uuid.uuid4().hex}.sqlite3"

    Run.TestCase.settings = settings(
        max_examples=RUNS[backend],
        stateful_step_count=30,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    Run.TestCase().runTest()
