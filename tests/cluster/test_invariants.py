"""The drill's invariant check catches each broken promise, and reads both stores truly."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.moto_server import MotoServer, aws_environment, start_moto

from bench.cluster.invariants import Snapshot, StoredHold, StoredSale, snapshot, violations
from bench.cluster.load import Records
from bench.cluster.nodes import Store, open_store

NOW = 1_800_000_000
CATALOG = {"onda": 1, "vela": 3}
EXPIRES = "2027-01-15T08:30:00Z"  # NOW + 1800
EXPIRES_AT = NOW + 1800


def hold_op(hold_id: str | None, slug: str = "onda", outcome: str = "held", ids=None) -> dict:  # type: ignore[no-untyped-def]
    """A hold operation as the load generator records it."""
    ids = ids if ids is not None else ([hold_id] if hold_id else [])
    op: dict[str, Any] = {
        "op": "hold",
        "key": str(uuid.uuid4()),
        "sculpture": slug,
        "outcome": outcome,
        "ok": outcome != "failed",
        "attempts": [{"status": 201, "id": i} for i in ids] or [{"error": "ECONNRESET"}],
    }
    if outcome == "held":
        op["hold"] = {"id": hold_id, "sculpture": slug, "expires_at": EXPIRES}
    return op


def held(hold_id: str, slug: str = "onda", state: str = "held") -> StoredHold:
    return StoredHold(hold_id, slug, state, EXPIRES_AT)


def check(holds: list[StoredHold], ops: list[dict], sales: list[StoredSale] = ()) -> list[str]:  # type: ignore[assignment]
    snap = Snapshot(NOW, {h.id: h for h in holds}, {s.id: s for s in sales})
    return violations(snap, Records(ops), CATALOG)


def test_a_store_that_kept_its_promises_passes() -> None:
    release = {"op": "release", "hold": "h2", "outcome": "released", "ok": True, "attempts": []}
    sale = {
        "op": "sale",
        "hold": "h3",
        "outcome": "sold",
        "ok": True,
        "attempts": [],
        "sale": {"id": "s1", "sculpture": "vela", "hold": "h3"},
    }
    ops = [hold_op("h1"), hold_op("h2", "vela"), hold_op("h3", "vela"), release, sale]
    holds = [held("h1"), held("h2", "vela", "released"), held("h3", "vela", "sold")]
    assert check(holds, ops, [StoredSale("s1", "vela", "h3")]) == []


def test_more_units_taken_than_the_edition_is_named() -> None:
    ops = [hold_op("h1"), hold_op("h2")]
    assert any(
        "onda: 2 units held or sold, edition of 1" in v
        for v in check([held("h1"), held("h2")], ops)
    )


def test_a_hold_the_client_was_given_and_the_store_lost_is_named() -> None:
    assert any("the store lost it" in v for v in check([], [hold_op("h1")]))


def test_one_request_that_got_two_different_holds_is_named() -> None:
    ops = [hold_op("h1", ids=["h1", "h2"])]
    assert any("got different holds" in v for v in check([held("h1")], ops))


def test_holds_nobody_was_given_count_against_requests_without_an_answer() -> None:
    unanswered = hold_op(None, outcome="failed")
    extra = [held("h1"), held("x1", "vela"), held("x2", "vela")]
    assert check(extra[:2], [hold_op("h1"), unanswered]) == []  # one extra: one unanswered
    assert any("no client was given" in v for v in check(extra, [hold_op("h1"), unanswered]))


def test_a_released_hold_still_running_is_named() -> None:
    release = {"op": "release", "hold": "h1", "outcome": "released", "ok": True, "attempts": []}
    assert any("expected ['released']" in v for v in check([held("h1")], [hold_op("h1"), release]))


def test_an_answer_showing_more_than_the_edition_is_named() -> None:
    read = {"op": "read", "outcome": "ok", "ok": True, "attempts": [], "oversold": ["vela"]}
    assert any("beyond the edition" in v for v in check([], [read]))


def test_a_sale_recorded_twice_for_one_hold_is_named() -> None:
    sales = [StoredSale("s1", "vela", "h3"), StoredSale("s2", "vela", "h3")]
    unanswered = {"op": "sale", "hold": "h3", "outcome": "failed", "ok": False, "attempts": []}
    found = check(
        [held("h3", "vela", "sold")], [hold_op("h3", "vela"), unanswered, unanswered], sales
    )
    assert any("was sold 2 times" in v for v in found)


# --------------------------------------------------------------------------- the stores, read truly


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with start_moto(threaded=False, log_dir=tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "dynamodb":
        server = request.getfixturevalue("moto")
        opened = open_store("dynamodb", tmp_path, CATALOG, env=aws_environment(server.endpoint_url))
    else:
        opened = open_store("sqlite", tmp_path, CATALOG)
    yield opened


def test_the_snapshot_is_what_the_store_did(store: Store) -> None:
    from api.stores import open_store as open_api_store

    now = int(time.time())
    with store.reachable():
        api = open_api_store(store.url)
        kept = api.create_hold(
            "vela", email=None, idempotency_key="k" * 16, fingerprint="f", now=now, ttl_seconds=600
        )
        freed = api.create_hold(
            "vela", email=None, idempotency_key="l" * 16, fingerprint="f", now=now, ttl_seconds=600
        )
        sold = api.create_hold(
            "onda", email=None, idempotency_key="m" * 16, fingerprint="f", now=now, ttl_seconds=600
        )
        api.release_hold(freed.hold.id, freed.release_token, now)
        sale = api.record_sale(now=now, hold_id=sold.hold.id)
        direct = api.record_sale(now=now, sculpture="vela")
        api.close()
        snap = snapshot(store, now)
    assert {h.id: (h.sculpture, h.state, h.expires_at) for h in snap.holds.values()} == {
        kept.hold.id: ("vela", "held", now + 600),
        freed.hold.id: ("vela", "released", now + 600),
        sold.hold.id: ("onda", "sold", now + 600),
    }
    assert {s.id: (s.sculpture, s.hold) for s in snap.sales.values()} == {
        sale.sale.id: ("onda", sold.hold.id),
        direct.sale.id: ("vela", None),
    }
