"""The store's invariants, checked on what it holds against what its clients were told.

``snapshot`` reads the store's own records directly (the SQLite file; a scan
of the DynamoDB table), not through the API. ``violations`` then checks:

* **no unit held or sold beyond its edition**: per piece, holds still running
  plus sales never exceed the catalog's edition size (the drill's own list,
  not the store's), and no answer a client got ever showed more;
* on DynamoDB, each running hold's unit names it and each sale's unit is sold,
  so the records and the unit map agree;
* **no duplicate holds**: every try of one hold request that got 201 got the
  same hold; the store has no more holds than the ledger knows of, except at
  most one per hold request whose outcome the client never learnt;
* **no hold lost**: every hold a client was given exists, for the same piece
  and expiry, in the state the client's own later calls imply (sold, released,
  running until it expires); likewise every sale.

A hold whose expiry is within ``SLACK_SECONDS`` of the snapshot may be either
running or expired.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bench.cluster.load import Records
from bench.cluster.nodes import Store

SLACK_SECONDS = 2


@dataclass(frozen=True)
class StoredHold:
    id: str
    sculpture: str
    state: str  # held, released, sold, expired
    expires_at: int
    unit: str | None = None


@dataclass(frozen=True)
class StoredSale:
    id: str
    sculpture: str
    hold: str | None


@dataclass(frozen=True)
class Snapshot:
    at: int
    holds: dict[str, StoredHold]
    sales: dict[str, StoredSale]
    #: DynamoDB only: slug -> unit -> its record ({"state": ..., "hold"/"sale": ...})
    units: dict[str, dict[str, dict[str, Any]]] | None = None


def snapshot(store: Store, at: int) -> Snapshot:
    if store.kind == "sqlite":
        return _sqlite_snapshot(store.url.removeprefix("sqlite:///"), at)
    with store.reachable():
        return _dynamodb_snapshot(store.url.removeprefix("dynamodb://"), at)


def _sqlite_snapshot(path: str, at: int) -> Snapshot:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
        holds = {
            row[0]: StoredHold(row[0], row[1], row[2], row[3])
            for row in conn.execute("SELECT id, slug, state, expires_at FROM holds")
        }
        sales = {
            row[0]: StoredSale(row[0], row[1], row[2])
            for row in conn.execute("SELECT id, slug, hold_id FROM sales")
        }
    return Snapshot(at, holds, sales)


def _dynamodb_snapshot(table: str, at: int) -> Snapshot:
    import boto3
    from boto3.dynamodb.types import TypeDeserializer

    client = boto3.client("dynamodb")
    plain = TypeDeserializer()
    items = []
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items += [{k: plain.deserialize(v) for k, v in item.items()} for item in page["Items"]]
    holds, sales, units = {}, {}, {}
    for item in items:
        pk = item["pk"]
        if pk.startswith("HOLD#"):
            hold_id = pk.removeprefix("HOLD#")
            holds[hold_id] = StoredHold(
                hold_id,
                item["sculpture"],
                item["state"],
                int(item["hold_expires_at"]),
                item["unit"],
            )
        elif pk.startswith("SALE#"):
            sale_id = pk.removeprefix("SALE#")
            sales[sale_id] = StoredSale(sale_id, item["sculpture"], item.get("hold"))
        elif pk.startswith("SCULPTURE#") and item["sk"] == "INVENTORY":
            units[pk.removeprefix("SCULPTURE#")] = item["units"]
    return Snapshot(at, holds, sales, units)


def _epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def violations(snap: Snapshot, records: Records, catalog: Mapping[str, int]) -> list[str]:
    """Every broken invariant, each named with the piece, hold or sale it concerns."""
    found = _editions(snap, catalog)
    if snap.units is not None:
        found += _units(snap)
    found += [
        f"a client read {op['oversold']} held or sold beyond the edition"
        for op in records.oversold_reads()
    ]
    found += _holds(snap, records)
    found += _sales(snap, records)
    return found


def _running(hold: StoredHold, at: int) -> bool:
    return hold.state == "held" and hold.expires_at > at


def _editions(snap: Snapshot, catalog: Mapping[str, int]) -> list[str]:
    taken: Counter[str] = Counter()
    for hold in snap.holds.values():
        if _running(hold, snap.at):
            taken[hold.sculpture] += 1
    for sale in snap.sales.values():
        taken[sale.sculpture] += 1
    return [
        f"{slug}: {taken[slug]} units held or sold, edition of {size}"
        for slug, size in catalog.items()
        if taken[slug] > size
    ] + [f"{slug}: in the store but not in the catalog" for slug in set(taken) - set(catalog)]


def _units(snap: Snapshot) -> list[str]:
    assert snap.units is not None
    found = []
    sold_units: Counter[str] = Counter()
    for slug, units in snap.units.items():
        sold_units[slug] = sum(unit["state"] == "sold" for unit in units.values())
    sales_by_slug = Counter(sale.sculpture for sale in snap.sales.values())
    for slug in set(sold_units) | set(sales_by_slug):
        if sold_units[slug] != sales_by_slug[slug]:
            found.append(
                f"{slug}: {sold_units[slug]} units sold, {sales_by_slug[slug]} sale records"
            )
    for hold in snap.holds.values():
        if _running(hold, snap.at):
            unit = snap.units.get(hold.sculpture, {}).get(hold.unit or "", {})
            if unit.get("state") != "held" or unit.get("hold") != hold.id:
                found.append(f"hold {hold.id} on {hold.sculpture}: its unit {hold.unit} is {unit}")
    return found


def _holds(snap: Snapshot, records: Records) -> list[str]:
    found = []
    given: dict[str, dict[str, Any]] = {}
    unknown_outcomes = 0
    for op in records.operations:
        if op["op"] != "hold":
            continue
        ids = {attempt.get("id") for attempt in op["attempts"] if attempt.get("status") == 201}
        if len(ids) > 1:
            found.append(f"hold request {op['key']} got different holds: {sorted(ids)}")
        if op.get("outcome") == "held":
            given[op["hold"]["id"]] = op["hold"]
        elif op.get("outcome") == "failed":
            unknown_outcomes += 1
    sold = _sold_holds(records)
    released, release_unknown = set(), set()
    for op in records.operations:
        if op["op"] == "release":
            if op.get("outcome") == "released":
                released.add(op["hold"])
            elif not op.get("ok"):
                release_unknown.add(op["hold"])
    for hold_id, hold in given.items():
        stored = snap.holds.get(hold_id)
        if stored is None:
            found.append(f"hold {hold_id} on {hold['sculpture']} was given, the store lost it")
            continue
        if stored.sculpture != hold["sculpture"] or stored.expires_at != _epoch(hold["expires_at"]):
            found.append(f"hold {hold_id}: given as {hold}, stored as {stored}")
        expected = _expected_states(hold_id, stored, sold, released, release_unknown, snap.at)
        if stored.state not in expected:
            found.append(f"hold {hold_id}: stored {stored.state}, expected {sorted(expected)}")
    extra = set(snap.holds) - set(given)
    if len(extra) > unknown_outcomes:
        found.append(
            f"{len(extra)} holds in the store that no client was given, but only"
            f" {unknown_outcomes} hold requests ended without an answer"
        )
    return found


def _expected_states(
    hold_id: str,
    stored: StoredHold,
    sold: Mapping[str, set[str]],
    released: set[str],
    release_unknown: set[str],
    at: int,
) -> set[str]:
    if sold.get(hold_id):
        return {"sold"}
    if hold_id in released:
        return {"released"}
    running = {"held"} if stored.expires_at > at - SLACK_SECONDS else set()
    expired = {"held", "expired"} if stored.expires_at <= at + SLACK_SECONDS else set()
    states = running | expired
    if hold_id in release_unknown:
        states.add("released")
    if sold.get(f"unknown:{hold_id}"):
        states.add("sold")
    return states


def _sold_holds(records: Records) -> dict[str, set[str]]:
    """hold id -> ids of the sales a client was told converted it (``unknown:<id>``: maybe)."""
    sold: dict[str, set[str]] = defaultdict(set)
    for op in records.operations:
        if op["op"] == "sale" and op.get("hold"):
            if op.get("outcome") == "sold":
                sold[op["hold"]].add(op["sale"]["id"])
            elif not op.get("ok"):
                sold[f"unknown:{op['hold']}"].add("?")
        if op["op"] == "release" and op.get("outcome") == "hold-sold":
            sold[op["hold"]].add("(sold, as the release was told)")
    return sold


def _sales(snap: Snapshot, records: Records) -> list[str]:
    found = []
    told = {}
    unknown_outcomes = 0
    for op in records.operations:
        if op["op"] != "sale":
            continue
        if op.get("outcome") == "sold":
            told[op["sale"]["id"]] = op["sale"]
        elif not op.get("ok"):
            unknown_outcomes += 1
    for sale_id, sale in told.items():
        stored = snap.sales.get(sale_id)
        if stored is None:
            found.append(f"sale {sale_id} of {sale['sculpture']} was recorded, the store lost it")
        elif stored.sculpture != sale["sculpture"] or stored.hold != sale.get("hold"):
            found.append(f"sale {sale_id}: told {sale}, stored {stored}")
    per_hold = Counter(sale.hold for sale in snap.sales.values() if sale.hold)
    found += [f"hold {hold} was sold {n} times" for hold, n in per_hold.items() if n > 1]
    extra = set(snap.sales) - set(told)
    if len(extra) > unknown_outcomes:
        found.append(
            f"{len(extra)} sales in the store that no client was told of, but only"
            f" {unknown_outcomes} sale requests ended without an answer"
        )
    return found
