"""SQLite store: the embedded default, safe with several gunicorn workers on one host.

Concurrency model: every write runs inside ``BEGIN IMMEDIATE``, which takes
SQLite's single write lock up front, so writers on all processes are serialised
by the database file itself. On top of that each state change is one guarded
statement (``INSERT ... SELECT ... WHERE <a unit is free>``, ``UPDATE ... WHERE
state = 'held'``) whose row count says whether it happened: the guard, not a
prior read, decides. WAL mode lets readers run while a writer holds the lock.

Holds count only while ``expires_at > now``, so an expired hold frees its unit
at that instant, with no sweeper.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from api.stores.interface import (
    DEFAULT_IDEMPOTENCY_TTL_SECONDS,
    Availability,
    EditionTooSmall,
    Hold,
    HoldAlreadySold,
    HoldNotActive,
    HoldReceipt,
    IdempotencyKeyReused,
    InvalidReleaseToken,
    NoUnitFree,
    Sale,
    Store,
    StoreUnavailable,
    SyncReport,
    UnknownHold,
    UnknownSculpture,
    hold_to_record,
    new_id,
    new_release_token,
    receipt_from_record,
    token_digest,
    token_matches,
    validate_editions,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS sculptures (
    slug TEXT PRIMARY KEY,
    edition_size INTEGER NOT NULL CHECK (edition_size >= 0)
);
CREATE TABLE IF NOT EXISTS holds (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL REFERENCES sculptures (slug),
    email TEXT,
    token_digest TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('held', 'released', 'sold')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS holds_active ON holds (slug, state, expires_at);
CREATE TABLE IF NOT EXISTS sales (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL REFERENCES sculptures (slug),
    hold_id TEXT UNIQUE REFERENCES holds (id),
    sold_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sales_slug ON sales (slug);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    receipt TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
"""

# Units taken right now: unexpired holds plus sales. Shared by every guard below.
TAKEN = """
    (SELECT count(*) FROM holds h
      WHERE h.slug = :slug AND h.state = 'held' AND h.expires_at > :now)
  + (SELECT count(*) FROM sales x WHERE x.slug = :slug)
"""
HAS_FREE_UNIT = f"(SELECT edition_size FROM sculptures WHERE slug = :slug) > {TAKEN}"


@contextlib.contextmanager
def _unavailable_on_error() -> Iterator[None]:
    """A file that cannot be opened or a lock wait that timed out is an outage."""
    try:
        yield
    except (sqlite3.OperationalError, sqlite3.DatabaseError, OSError) as error:
        raise StoreUnavailable(f"SQLite: {error}") from error


def from_url(url: str) -> SQLiteStore:
    """``sqlite:///relative/path`` or ``sqlite:////absolute/path``, as in SQLAlchemy."""
    path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
    if not path:
        raise ValueError(f"STORE_URL {url!r}: expected sqlite:///<path>")
    return SQLiteStore(path)


class SQLiteStore(Store):
    """One database file; one connection per thread (and per process after fork)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._initialized = False

    # -- connections ---------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN ourselves, so a transaction is
        # exactly as wide as the code says.
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")  # durable enough in WAL mode
        return conn

    @property
    def _conn(self) -> sqlite3.Connection:
        # A connection must not cross fork(): gunicorn forks workers after import.
        pid = os.getpid()
        with _unavailable_on_error():
            if getattr(self._local, "pid", None) != pid:
                self._local.conn = self._connect()
                self._local.pid = pid
            if not self._initialized:
                self._create_schema(self._local.conn)
        return self._local.conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding SQLite's write lock from its first statement."""
        conn = self._conn
        with _unavailable_on_error():
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        # WAL lets readers proceed during a write; the setting is persistent.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self._initialized = True

    def initialize(self) -> None:
        self._initialized = False
        self._conn  # noqa: B018 - connecting creates the schema

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local = threading.local()

    def ping(self) -> None:
        conn = self._conn
        with _unavailable_on_error():
            conn.execute("SELECT 1 FROM sculptures LIMIT 1").fetchall()

    # -- reads ---------------------------------------------------------------

    def availability(self, slugs: Iterable[str], now: int) -> dict[str, Availability]:
        wanted = list(dict.fromkeys(slugs))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        cursor = self._conn.cursor()
        cursor.row_factory = None  # plain tuples: sqlite3.Row costs more than the query here
        with _unavailable_on_error():
            rows = cursor.execute(
                f"""
            SELECT s.slug, s.edition_size,
              (SELECT count(*) FROM holds h
                WHERE h.slug = s.slug AND h.state = 'held' AND h.expires_at > ?) AS held,
              (SELECT count(*) FROM sales x WHERE x.slug = s.slug) AS sold
            FROM sculptures s WHERE s.slug IN ({marks})
            """,
                [now, *wanted],
            ).fetchall()
        return {row[0]: Availability(*row) for row in rows}

    # -- holds ---------------------------------------------------------------

    def create_hold(
        self,
        sculpture: str,
        *,
        email: str | None,
        idempotency_key: str,
        fingerprint: str,
        now: int,
        ttl_seconds: int,
        idempotency_ttl_seconds: int = DEFAULT_IDEMPOTENCY_TTL_SECONDS,
    ) -> HoldReceipt:
        with self._write() as conn:
            seen = conn.execute(
                "SELECT fingerprint, receipt FROM idempotency_keys"
                " WHERE key = ? AND expires_at > ?",
                (idempotency_key, now),
            ).fetchone()
            if seen is not None:
                if seen["fingerprint"] != fingerprint:
                    raise IdempotencyKeyReused(idempotency_key)
                return receipt_from_record(seen["receipt"])
            if not conn.execute("SELECT 1 FROM sculptures WHERE slug = ?", (sculpture,)).fetchone():
                raise UnknownSculpture(sculpture)
            hold = Hold(new_id(), sculpture, now, now + ttl_seconds, email)
            token = new_release_token()
            # The conditional write: the row exists only if a unit was free at this instant.
            inserted = conn.execute(
                f"""
                INSERT INTO holds (id, slug, email, token_digest, state, created_at, expires_at)
                SELECT :id, :slug, :email, :digest, 'held', :now, :expires
                WHERE {HAS_FREE_UNIT}
                """,
                {
                    "id": hold.id,
                    "slug": sculpture,
                    "email": email,
                    "digest": token_digest(token),
                    "now": now,
                    "expires": hold.expires_at,
                },
            ).rowcount
            if inserted != 1:
                raise NoUnitFree(sculpture)
            # Same transaction: the hold and its key exist together or not at all.
            # An expired key is replaced; a live one would have been found above.
            conn.execute(
                """
                INSERT INTO idempotency_keys (key, fingerprint, receipt, expires_at)
                VALUES (?, ?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET
                  fingerprint = excluded.fingerprint, receipt = excluded.receipt,
                  expires_at = excluded.expires_at
                WHERE idempotency_keys.expires_at <= ?
                """,
                (
                    idempotency_key,
                    fingerprint,
                    hold_to_record(hold, token),
                    now + idempotency_ttl_seconds,
                    now,
                ),
            )
            return HoldReceipt(hold, token)

    def _hold_row(self, conn: sqlite3.Connection, hold_id: str) -> sqlite3.Row:
        row = conn.execute(
            "SELECT id, slug, state, expires_at, token_digest FROM holds WHERE id = ?",
            (hold_id,),
        ).fetchone()
        if row is None:
            raise UnknownHold(hold_id)
        return row

    def release_hold(
        self, hold_id: str, token: str | None, now: int, *, staff: bool = False
    ) -> None:
        with self._write() as conn:
            row = self._hold_row(conn, hold_id)
            if not staff and not token_matches(token, row["token_digest"]):
                raise InvalidReleaseToken(hold_id)
            if row["state"] == "sold":
                raise HoldAlreadySold(hold_id)
            conn.execute(
                "UPDATE holds SET state = 'released' WHERE id = ? AND state = 'held'", (hold_id,)
            )

    # -- sales ---------------------------------------------------------------

    def record_sale(
        self, *, now: int, hold_id: str | None = None, sculpture: str | None = None
    ) -> Sale:
        if (hold_id is None) == (sculpture is None):
            raise ValueError("give exactly one of hold_id or sculpture")
        sale_id = new_id()
        with self._write() as conn:
            if hold_id is not None:
                row = self._hold_row(conn, hold_id)
                # Conditional: only a hold that is still held and unexpired becomes
                # a sale; the sale row is written only if that guard holds.
                inserted = conn.execute(
                    """
                    INSERT INTO sales (id, slug, hold_id, sold_at)
                    SELECT ?, slug, id, ? FROM holds
                    WHERE id = ? AND state = 'held' AND expires_at > ?
                    """,
                    (sale_id, now, hold_id, now),
                ).rowcount
                if inserted != 1:
                    state = "expired" if row["state"] == "held" else row["state"]
                    raise HoldNotActive(hold_id, state)
                conn.execute(
                    "UPDATE holds SET state = 'sold' WHERE id = ? AND state = 'held'", (hold_id,)
                )
                return Sale(sale_id, row["slug"], now, hold_id)
            assert sculpture is not None
            if not conn.execute("SELECT 1 FROM sculptures WHERE slug = ?", (sculpture,)).fetchone():
                raise UnknownSculpture(sculpture)
            inserted = conn.execute(
                f"""
                INSERT INTO sales (id, slug, hold_id, sold_at)
                SELECT :id, :slug, NULL, :now WHERE {HAS_FREE_UNIT}
                """,
                {"id": sale_id, "slug": sculpture, "now": now},
            ).rowcount
            if inserted != 1:
                raise NoUnitFree(sculpture)
            return Sale(sale_id, sculpture, now)

    # -- inventory -----------------------------------------------------------

    def sync_inventory(self, editions: Mapping[str, int], *, now: int) -> SyncReport:
        validate_editions(editions)
        report = SyncReport()
        with self._write() as conn:
            current = {
                row["slug"]: row["edition_size"]
                for row in conn.execute("SELECT slug, edition_size FROM sculptures")
            }
            counts = self.availability_in(conn, current, now)
            too_small = [
                (slug, size, counts[slug].held, counts[slug].sold)
                for slug, size in editions.items()
                if slug in counts and size < counts[slug].held + counts[slug].sold
            ]
            if too_small:
                raise EditionTooSmall(too_small)
            for slug, size in editions.items():
                if slug not in current:
                    conn.execute(
                        "INSERT INTO sculptures (slug, edition_size) VALUES (?, ?)"
                        " ON CONFLICT (slug) DO NOTHING",
                        (slug, size),
                    )
                    report.added.append(slug)
                elif current[slug] == size:
                    report.unchanged.append(slug)
                else:
                    # Guarded again in SQL, so the rule holds even without the check above.
                    changed = conn.execute(
                        f"UPDATE sculptures SET edition_size = :size"
                        f" WHERE slug = :slug AND :size >= {TAKEN}",
                        {"slug": slug, "size": size, "now": now},
                    ).rowcount
                    if changed != 1:  # pragma: no cover - excluded by the check above
                        raise EditionTooSmall([(slug, size, -1, -1)])
                    report.resized.append(slug)
            report.kept.extend(sorted(set(current) - set(editions)))
        return report

    def availability_in(
        self, conn: sqlite3.Connection, slugs: Iterable[str], now: int
    ) -> dict[str, Availability]:
        """Counts read inside an open transaction (used by sync under the write lock)."""
        result = {}
        for slug in slugs:
            row = conn.execute(
                """
                SELECT s.edition_size,
                  (SELECT count(*) FROM holds h
                    WHERE h.slug = s.slug AND h.state = 'held' AND h.expires_at > ?) AS held,
                  (SELECT count(*) FROM sales x WHERE x.slug = s.slug) AS sold
                FROM sculptures s WHERE s.slug = ?
                """,
                (now, slug),
            ).fetchone()
            result[slug] = Availability(slug, row["edition_size"], row["held"], row["sold"])
        return result
