"""SQLite store: the embedded default, safe with several gunicorn workers on one host.

Concurrency model: every write runs inside ``BEGIN IMMEDIATE``, which takes
SQLite's single write lock up front, so writers on all processes are serialised
by the database file itself. On top of that each state change is one guarded
statement (``INSERT ... SELECT ... WHERE <a unit is free>``, ``UPDATE ... WHERE
state = 'held'``) whose row count says whether it happened: the guard, not a
prior read, decides. WAL mode lets readers run while a writer holds the lock.

Holds count only while ``expires_at > now``, so an expired hold frees its unit
at that instant, with no sweeper. But ``now`` is the caller's: it may be stale
(read before the lock wait) or step back. So every write that takes a unit
first *retires* the piece's expired holds (``state = 'expired'``), under the
lock, before it counts: a retired hold stays retired whatever clock comes next.
That keeps one fact true for any ``now``: the holds still in state ``held``
plus the sales never exceed the edition, so no reading of the clock can show
or sell more.
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
    DEFAULT_TIME_BUDGET_SECONDS,
    Availability,
    EditionTooSmall,
    Hold,
    HoldAlreadySold,
    HoldNotActive,
    HoldPolicy,
    HoldReceipt,
    IdempotencyKeyReused,
    InvalidReleaseToken,
    NoUnitFree,
    Sale,
    SaleReceipt,
    Store,
    StoreBusy,
    StoreUnavailable,
    SyncReport,
    UnknownHold,
    UnknownSculpture,
    VisitorHold,
    check_hold_policy,
    new_id,
    validate_editions,
)
from api.stores.receipts import (
    hold_from_record,
    hold_record,
    key_digest,
    new_salt,
    release_token,
    sale_from_record,
    sale_record,
    token_digest,
    token_matches,
)

SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS sculptures (
    slug TEXT PRIMARY KEY,
    edition_size INTEGER NOT NULL CHECK (edition_size >= 0),
    on_sale INTEGER NOT NULL DEFAULT 1 CHECK (on_sale IN (0, 1))
);
CREATE TABLE IF NOT EXISTS holds (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL REFERENCES sculptures (slug),
    email TEXT,
    token_digest TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('held', 'released', 'sold', 'expired')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    visitor TEXT
);
CREATE INDEX IF NOT EXISTS holds_active ON holds (slug, state, expires_at);
CREATE INDEX IF NOT EXISTS holds_by_visitor ON holds (visitor, created_at);
CREATE TABLE IF NOT EXISTS sales (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL REFERENCES sculptures (slug),
    hold_id TEXT UNIQUE REFERENCES holds (id),
    sold_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sales_slug ON sales (slug);
CREATE TABLE IF NOT EXISTS idempotency_records (
    key_digest TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    receipt TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
"""
# Schema 1 (before user_version was set): holds without 'expired' or a visitor,
# sculptures always on sale, idempotency_keys with release tokens in clear. The
# holds table is rebuilt the way SQLite documents (new table, copy, drop, rename:
# a CHECK cannot change in place); the old receipts are dropped, tokens and
# all: a replay of one is judged afresh.
MIGRATE_FROM_1 = """
ALTER TABLE sculptures ADD COLUMN on_sale INTEGER NOT NULL DEFAULT 1 CHECK (on_sale IN (0, 1));
{new_holds}
INSERT INTO holds_schema_2 (id, slug, email, token_digest, state, created_at, expires_at)
    SELECT id, slug, email, token_digest, state, created_at, expires_at FROM holds;
DROP TABLE holds;
ALTER TABLE holds_schema_2 RENAME TO holds;
DROP TABLE IF EXISTS idempotency_keys;
"""

# Units taken right now: unexpired holds plus sales. Shared by every guard below.
TAKEN = """
    (SELECT count(*) FROM holds h
      WHERE h.slug = :slug AND h.state = 'held' AND h.expires_at > :now)
  + (SELECT count(*) FROM sales x WHERE x.slug = :slug)
"""
HAS_FREE_UNIT = f"(SELECT edition_size FROM sculptures WHERE slug = :slug) > {TAKEN}"
RETIRE_EXPIRED = (
    "UPDATE holds SET state = 'expired' WHERE slug = ? AND state = 'held' AND expires_at <= ?"
)


def from_url(url: str, *, time_budget_seconds: float = DEFAULT_TIME_BUDGET_SECONDS) -> SQLiteStore:
    """``sqlite:///relative/path`` or ``sqlite:////absolute/path``, as in SQLAlchemy."""
    path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
    if not path:
        raise ValueError(f"STORE_URL {url!r}: expected sqlite:///<path>")
    return SQLiteStore(path, time_budget_seconds)


@contextlib.contextmanager
def _unavailable_on_error() -> Iterator[None]:
    """A file that cannot be opened or a lock wait that timed out is an outage."""
    try:
        yield
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise StoreBusy(f"SQLite: {error}") from error
        raise StoreUnavailable(f"SQLite: {error}") from error
    except (sqlite3.DatabaseError, OSError) as error:
        raise StoreUnavailable(f"SQLite: {error}") from error


class SQLiteStore(Store):
    """One database file; one connection per thread (and per process after fork)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        time_budget_seconds: float = DEFAULT_TIME_BUDGET_SECONDS,
    ) -> None:
        self.path = Path(path)
        self.time_budget_seconds = time_budget_seconds
        self._local = threading.local()
        self._initialized = False

    # -- connections ---------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN ourselves, so a transaction is
        # exactly as wide as the code says. The lock wait is the time budget.
        conn = sqlite3.connect(self.path, timeout=self.time_budget_seconds, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(self.time_budget_seconds * 1000)}")
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
        # Rebuilding a table that others reference needs foreign keys off (SQLite's
        # documented procedure); the pragma is ignored inside a transaction.
        conn.execute("PRAGMA foreign_keys = OFF")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._upgrade_schema(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.execute("PRAGMA foreign_keys = ON")
        self._initialized = True

    @staticmethod
    def _upgrade_schema(conn: sqlite3.Connection) -> None:
        """Create the tables or bring a schema 1 file up to date, in the caller's transaction."""
        if conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
            return
        legacy = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'idempotency_keys'"
        ).fetchone()
        statements = SCHEMA.split(";")
        if legacy:
            holds = next(s for s in statements if "TABLE IF NOT EXISTS holds " in s)
            new_holds = holds.replace("IF NOT EXISTS holds ", "holds_schema_2 ") + ";"
            statements = MIGRATE_FROM_1.format(new_holds=new_holds).split(";") + statements
        for statement in statements:
            if statement.strip():
                conn.execute(statement)
        problems = conn.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise StoreUnavailable(f"SQLite migration broke references: {problems[:3]}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

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
            FROM sculptures s WHERE s.slug IN ({marks}) AND s.on_sale = 1
            """,
                [now, *wanted],
            ).fetchall()
        return {row[0]: Availability(*row) for row in rows}

    # -- idempotency ---------------------------------------------------------

    @staticmethod
    def _seen(conn: sqlite3.Connection, digest: str, fingerprint: str, now: int) -> str | None:
        """The receipt first stored under this key, or None; another body is refused."""
        seen = conn.execute(
            "SELECT fingerprint, receipt FROM idempotency_records"
            " WHERE key_digest = ? AND expires_at > ?",
            (digest, now),
        ).fetchone()
        if seen is None:
            return None
        if seen["fingerprint"] != fingerprint:
            raise IdempotencyKeyReused(digest)
        return seen["receipt"]

    @staticmethod
    def _remember(
        conn: sqlite3.Connection,
        digest: str,
        fingerprint: str,
        receipt: str,
        expires_at: int,
        now: int,
    ) -> None:
        # Same transaction as the change: both exist or neither. An expired key is
        # replaced; a live one would have been found by ``_seen``.
        conn.execute(
            """
            INSERT INTO idempotency_records (key_digest, fingerprint, receipt, expires_at)
            VALUES (?, ?, ?, ?)
            ON CONFLICT (key_digest) DO UPDATE SET
              fingerprint = excluded.fingerprint, receipt = excluded.receipt,
              expires_at = excluded.expires_at
            WHERE idempotency_records.expires_at <= ?
            """,
            (digest, fingerprint, receipt, expires_at, now),
        )

    # -- holds ---------------------------------------------------------------

    @staticmethod
    def _require_on_sale(conn: sqlite3.Connection, slug: str) -> None:
        row = conn.execute("SELECT on_sale FROM sculptures WHERE slug = ?", (slug,)).fetchone()
        if row is None or not row["on_sale"]:
            raise UnknownSculpture(slug)

    @staticmethod
    def _visitor_holds(
        conn: sqlite3.Connection, visitor: str, policy: HoldPolicy, now: int
    ) -> list[VisitorHold]:
        rows = conn.execute(
            """
            SELECT slug, created_at, expires_at, state FROM holds
            WHERE visitor = :visitor
              AND (created_at > :since OR (state = 'held' AND expires_at > :now))
            """,
            {"visitor": visitor, "since": now - policy.repeat_after_seconds, "now": now},
        ).fetchall()
        return [
            VisitorHold(row["slug"], row["created_at"], row["expires_at"], row["state"] == "held")
            for row in rows
        ]

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
        visitor: str | None = None,
        policy: HoldPolicy | None = None,
    ) -> HoldReceipt:
        digest = key_digest(idempotency_key)
        with self._write() as conn:
            # Under the write lock, so no request with this key can commit in between.
            seen = self._seen(conn, digest, fingerprint, now)
            if seen is not None:
                return _replayed_hold(seen, idempotency_key, digest)
            self._require_on_sale(conn, sculpture)
            if policy is not None and visitor is not None:
                check_hold_policy(
                    policy, self._visitor_holds(conn, visitor, policy, now), sculpture, now
                )
            conn.execute(RETIRE_EXPIRED, (sculpture, now))
            hold = Hold(new_id(), sculpture, now, now + ttl_seconds, email)
            salt = new_salt()
            # The conditional write: the row exists only if a unit was free at this instant.
            inserted = conn.execute(
                f"""
                INSERT INTO holds
                  (id, slug, email, token_digest, state, created_at, expires_at, visitor)
                SELECT :id, :slug, :email, :digest, 'held', :now, :expires, :visitor
                WHERE {HAS_FREE_UNIT}
                """,
                {
                    "id": hold.id,
                    "slug": sculpture,
                    "email": email,
                    "digest": token_digest(release_token(idempotency_key, hold.id, salt)),
                    "now": now,
                    "expires": hold.expires_at,
                    "visitor": visitor,
                },
            ).rowcount
            if inserted != 1:
                raise NoUnitFree(sculpture)
            self._remember(
                conn,
                digest,
                fingerprint,
                hold_record(hold, salt),
                now + idempotency_ttl_seconds,
                now,
            )
            return HoldReceipt(hold, release_token(idempotency_key, hold.id, salt))

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
        self,
        *,
        now: int,
        hold_id: str | None = None,
        sculpture: str | None = None,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
        idempotency_ttl_seconds: int = DEFAULT_IDEMPOTENCY_TTL_SECONDS,
    ) -> SaleReceipt:
        if (hold_id is None) == (sculpture is None):
            raise ValueError("give exactly one of hold_id or sculpture")
        digest = key_digest(idempotency_key) if idempotency_key is not None else None
        with self._write() as conn:
            if digest is not None:
                seen = self._seen(conn, digest, fingerprint or "", now)
                if seen is not None:
                    return _replayed_sale(seen, digest)
            if hold_id is not None:
                sale = self._sell_hold(conn, hold_id, now)
            else:
                assert sculpture is not None
                sale = self._sell_unit(conn, sculpture, now)
            if digest is not None:
                expires_at = now + idempotency_ttl_seconds
                self._remember(conn, digest, fingerprint or "", sale_record(sale), expires_at, now)
            return SaleReceipt(sale)

    def _sell_hold(self, conn: sqlite3.Connection, hold_id: str, now: int) -> Sale:
        row = self._hold_row(conn, hold_id)
        sale_id = new_id()
        # Conditional: only a hold that is still held and unexpired becomes a sale,
        # and only while the piece's taken units fit its edition at this ``now``
        # (a stale ``now`` may see a retired rival's unit as taken: then no sale).
        inserted = conn.execute(
            f"""
            INSERT INTO sales (id, slug, hold_id, sold_at)
            SELECT :sale, slug, id, :now FROM holds
            WHERE id = :hold AND state = 'held' AND expires_at > :now
              AND (SELECT edition_size FROM sculptures WHERE slug = :slug) >= {TAKEN}
            """,
            {"sale": sale_id, "now": now, "hold": hold_id, "slug": row["slug"]},
        ).rowcount
        if inserted != 1:
            state = "expired" if row["state"] == "held" else row["state"]
            raise HoldNotActive(hold_id, state)
        conn.execute("UPDATE holds SET state = 'sold' WHERE id = ? AND state = 'held'", (hold_id,))
        return Sale(sale_id, row["slug"], now, hold_id)

    def _sell_unit(self, conn: sqlite3.Connection, sculpture: str, now: int) -> Sale:
        self._require_on_sale(conn, sculpture)
        conn.execute(RETIRE_EXPIRED, (sculpture, now))
        sale_id = new_id()
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
                row["slug"]: (row["edition_size"], bool(row["on_sale"]))
                for row in conn.execute("SELECT slug, edition_size, on_sale FROM sculptures")
            }
            for slug in editions:
                if slug in current:
                    conn.execute(RETIRE_EXPIRED, (slug, now))
            counts = self.availability_in(conn, [slug for slug in editions if slug in current], now)
            too_small = [
                (slug, size, counts[slug].held, counts[slug].sold)
                for slug, size in editions.items()
                if slug in counts and size < counts[slug].held + counts[slug].sold
            ]
            if too_small:
                raise EditionTooSmall(too_small)
            for slug, size in editions.items():
                self._sync_one(conn, slug, size, current.get(slug), now, report)
            for slug in sorted(set(current) - set(editions)):
                conn.execute(
                    "UPDATE sculptures SET on_sale = 0 WHERE slug = ? AND on_sale = 1", (slug,)
                )
                report.kept.append(slug)
        return report

    @staticmethod
    def _sync_one(
        conn: sqlite3.Connection,
        slug: str,
        size: int,
        current: tuple[int, bool] | None,
        now: int,
        report: SyncReport,
    ) -> None:
        if current is None:
            conn.execute(
                "INSERT INTO sculptures (slug, edition_size) VALUES (?, ?)"
                " ON CONFLICT (slug) DO NOTHING",
                (slug, size),
            )
            report.added.append(slug)
            return
        old_size, on_sale = current
        if not on_sale:
            conn.execute(
                "UPDATE sculptures SET on_sale = 1 WHERE slug = ? AND on_sale = 0", (slug,)
            )
            report.reopened.append(slug)
        if old_size == size:
            if on_sale:
                report.unchanged.append(slug)
            return
        # Guarded again in SQL (held counts every unretired hold), so the rule holds
        # even without the check above.
        changed = conn.execute(
            "UPDATE sculptures SET edition_size = :size WHERE slug = :slug AND :size >= "
            "(SELECT count(*) FROM holds WHERE slug = :slug AND state = 'held')"
            " + (SELECT count(*) FROM sales WHERE slug = :slug)",
            {"slug": slug, "size": size, "now": now},
        ).rowcount
        if changed != 1:  # pragma: no cover - excluded by the check above
            raise EditionTooSmall([(slug, size, -1, -1)])
        report.resized.append(slug)

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


def _replayed_hold(receipt: str, idempotency_key: str, digest: str) -> HoldReceipt:
    try:
        return hold_from_record(receipt, idempotency_key)
    except KeyError:  # the key was first used for a sale
        raise IdempotencyKeyReused(digest) from None


def _replayed_sale(receipt: str, digest: str) -> SaleReceipt:
    try:
        return sale_from_record(receipt)
    except KeyError:  # the key was first used for a hold
        raise IdempotencyKeyReused(digest) from None
