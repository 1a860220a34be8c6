"""A SQLite file written by the previous schema keeps its holds and sales, and loses its
clear-text release tokens, when the new store opens it (developers' preview stores)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from support.availability import START

from api.stores.receipts import token_digest
from api.stores.sqlite import SQLiteStore

# The tables as the previous release created them (no user_version).
SCHEMA_1 = """
CREATE TABLE sculptures (
    slug TEXT PRIMARY KEY, edition_size INTEGER NOT NULL CHECK (edition_size >= 0)
);
CREATE TABLE holds (
    id TEXT PRIMARY KEY, slug TEXT NOT NULL REFERENCES sculptures (slug), email TEXT,
    token_digest TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('held', 'released', 'sold')),
    created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
);
CREATE INDEX holds_active ON holds (slug, state, expires_at);
CREATE TABLE sales (
    id TEXT PRIMARY KEY, slug TEXT NOT NULL REFERENCES sculptures (slug),
    hold_id TEXT UNIQUE REFERENCES holds (id), sold_at INTEGER NOT NULL
);
CREATE INDEX sales_slug ON sales (slug);
CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, receipt TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
"""
TOKEN = "clear-text-release-token-of-schema-one-00000"
HELD, SOLD = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"


def schema_1_file(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA_1)
        conn.execute("INSERT INTO sculptures VALUES ('vela', 3)")
        for hold_id, state in ((HELD, "held"), (SOLD, "sold")):
            conn.execute(
                "INSERT INTO holds VALUES (?, 'vela', NULL, ?, ?, ?, ?)",
                (hold_id, token_digest(TOKEN), state, START, START + 1800),
            )
        conn.execute("INSERT INTO sales VALUES ('s1', 'vela', ?, ?)", (SOLD, START))
        receipt = json.dumps({"id": HELD, "release_token": TOKEN})
        conn.execute(
            "INSERT INTO idempotency_keys VALUES ('k', 'f', ?, ?)", (receipt, START + 9999)
        )
    return path


def test_an_old_file_is_upgraded_in_place_keeping_holds_and_sales(tmp_path: Path) -> None:
    path = schema_1_file(tmp_path / "preview.sqlite3")
    store = SQLiteStore(path)
    counts = store.availability(["vela"], START)["vela"]
    assert (counts.held, counts.sold, counts.edition_size) == (1, 1, 3)
    store.release_hold(HELD, TOKEN, START)  # the old token still releases its hold
    assert store.availability(["vela"], START)["vela"].held == 0
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        dump = json.dumps(
            [
                conn.execute(f"SELECT * FROM {t}").fetchall()
                for t in tables
                if not t.startswith("sqlite_")
            ]
        )
    assert "idempotency_keys" not in tables
    assert TOKEN not in dump
    assert SQLiteStore(path).availability(["vela"], START)["vela"].sold == 1  # reopening is a no-op
