"""The store interface: values, refusals and the abstract ``Store`` every backend implements.

The store owns every fact about holds and sales and enforces the invariants
itself, so no caller can oversell by mistake:

* a piece is never held or sold more times than its edition size, because every
  state change is a single conditional write (SQLite: a guarded statement inside
  an ``IMMEDIATE`` transaction; DynamoDB: a condition expression), and that stays
  true whatever ``now`` a caller passes: a stale or stepped-back clock may make a
  hold end early or late, never make two holds share a unit (see each backend);
* a hold carries its own expiry time and counts only while that time is in the
  future, so expired holds free their unit without any background job;
* a hold or a sale and its idempotency record are written in the same atomic
  step, so a replayed request can never create a second one; the record keeps
  neither the key nor the release token in clear (``api.stores.receipts``);
* a visitor's holds obey a ``HoldPolicy`` checked in that same atomic step, so
  a burst of parallel requests cannot slip past it.

Time is always passed in (``now``, epoch seconds) rather than read inside, which
keeps the stores deterministic under test. Each operation has a time budget
(``time_budget_seconds``): a store gives up with ``StoreBusy`` rather than keep
a request past it.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as encode_string  # json.dumps' own
from typing import Literal

Status = Literal["available", "reserved", "sold_out"]

#: A sculpture's slug, as the catalog names its content files (see content/schema).
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_MAX_LENGTH = 100
_SLUG = re.compile(SLUG_PATTERN)


def is_slug(value: object) -> bool:
    # fullmatch: with match, "$" would also accept a trailing newline ("piece\n").
    return isinstance(value, str) and len(value) <= SLUG_MAX_LENGTH and bool(_SLUG.fullmatch(value))


#: How long an idempotency key is remembered (the IETF draft leaves it to the server).
DEFAULT_IDEMPOTENCY_TTL_SECONDS = 24 * 3600
#: How long a hold's record outlives its expiry, so a late DELETE or sale gets a
#: precise answer instead of 404.
HOLD_RECORD_RETENTION_SECONDS = 7 * 24 * 3600
#: How long one store operation may take, retries included. CloudFront gives up
#: on the origin after 30 s; a request must end (with 503 if need be) well before.
DEFAULT_TIME_BUDGET_SECONDS = 10.0


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Availability:
    """Counts for one sculpture at one instant."""

    sculpture: str
    edition_size: int
    held: int
    sold: int

    @property
    def available(self) -> int:
        return max(self.edition_size - self.held - self.sold, 0)

    @property
    def status(self) -> Status:
        if self.available > 0:
            return "available"
        if self.held > 0:
            return "reserved"
        return "sold_out"

    def to_json(self) -> dict[str, object]:
        available = self.available
        return {
            "sculpture": self.sculpture,
            "edition_size": self.edition_size,
            "available": available,
            "held": self.held,
            "sold": self.sold,
            "status": "available" if available else "reserved" if self.held else "sold_out",
        }

    def to_json_text(self) -> str:
        """``to_json()`` as compact JSON text, without the dict or ``json.dumps`` (hot path)."""
        available = max(self.edition_size - self.held - self.sold, 0)
        return _AVAILABILITY_JSON % (
            encode_string(self.sculpture),
            self.edition_size,
            available,
            self.held,
            self.sold,
            "available" if available else "reserved" if self.held else "sold_out",
        )


# Availability.to_json_text's template: the keys of to_json, in its order (tests compare).
_AVAILABILITY_JSON = (
    '{"sculpture":%s,"edition_size":%d,"available":%d,"held":%d,"sold":%d,"status":"%s"}'
)


@dataclass(frozen=True)
class Hold:
    """A hold as its creator first saw it (what a replay must return verbatim)."""

    id: str
    sculpture: str
    created_at: int
    expires_at: int
    email: str | None = None


@dataclass(frozen=True)
class HoldReceipt:
    """The result of ``create_hold``: the hold, its release token, and whether it was replayed."""

    hold: Hold
    release_token: str
    replayed: bool = False


@dataclass(frozen=True)
class Sale:
    id: str
    sculpture: str
    sold_at: int
    hold_id: str | None = None


@dataclass(frozen=True)
class SaleReceipt:
    """The result of ``record_sale``: the sale, and whether it was replayed."""

    sale: Sale
    replayed: bool = False


@dataclass(frozen=True)
class HoldPolicy:
    """How many holds one visitor may have: a real shop's limits, not a rate limit.

    ``max_active``: holds running at once (on different pieces). ``repeat_after_seconds``:
    a visitor may hold a given piece once in this long (from the hold's start),
    so a hold cannot be renewed back to back and a piece cannot be kept from
    everyone else by one visitor.
    """

    max_active: int = 3
    repeat_after_seconds: int = 24 * 3600


@dataclass(frozen=True)
class VisitorHold:
    """One of a visitor's earlier holds, as the policy sees it."""

    sculpture: str
    created_at: int
    expires_at: int
    active: bool  # still held (not released, sold or expired)


@dataclass(frozen=True)
class SyncReport:
    """What ``sync_inventory`` did, slug by slug."""

    added: list[str] = field(default_factory=list)
    resized: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: Pieces in the store but not in the inventory: kept with their holds and sales,
    #: but no longer on sale (no new hold or direct sale) until an inventory lists them.
    kept: list[str] = field(default_factory=list)
    #: Pieces the inventory lists again after they had been left out: on sale again.
    reopened: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- errors


class StoreError(Exception):
    """Base class of the store's refusals; each maps to one HTTP problem."""


class UnknownSculpture(StoreError):
    """No such piece, or not on sale (the inventory no longer lists it)."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"no sculpture {slug!r} in the store")
        self.slug = slug


class NoUnitFree(StoreError):
    """Every unit of the edition is held or sold."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"no unit of {slug!r} is free")
        self.slug = slug


class IdempotencyKeyReused(StoreError):
    """The idempotency key was first used with a different request body."""


class UnknownHold(StoreError):
    pass


class InvalidReleaseToken(StoreError):
    pass


class HoldNotActive(StoreError):
    """The hold was released, sold or has expired, so it cannot become a sale."""

    def __init__(self, hold_id: str, state: str) -> None:
        super().__init__(f"hold {hold_id} is {state}")
        self.state = state


class HoldAlreadySold(StoreError):
    pass


class EditionTooSmall(StoreError):
    """An inventory sync would shrink editions below what is already held or sold."""

    def __init__(self, problems: Iterable[tuple[str, int, int, int]]) -> None:
        self.problems = list(problems)
        lines = [
            f"{slug}: edition_size {size} < held {held} + sold {sold}"
            for slug, size, held, sold in self.problems
        ]
        super().__init__("refusing to shrink editions below held + sold: " + "; ".join(lines))


class HoldLimitReached(StoreError):
    """The visitor's ``HoldPolicy`` refuses another hold for ``retry_after`` seconds."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(f"hold refused ({reason}); retry after {retry_after} s")
        self.reason = reason
        self.retry_after = max(int(retry_after), 1)


class StoreBusy(StoreError):
    """Optimistic retries or the time budget ran out under contention; the client may retry."""


class StoreUnavailable(StoreError):
    """The backing database could not be reached."""


# --------------------------------------------------------------------------- interface


class Store(ABC):
    """What the API needs from a store. ``now`` is always epoch seconds."""

    @abstractmethod
    def initialize(self) -> None:
        """Create tables if missing (idempotent). Production DynamoDB tables come from Terraform."""

    @abstractmethod
    def ping(self) -> None:
        """Raise ``StoreUnavailable`` unless the database answers."""

    @abstractmethod
    def availability(self, slugs: Iterable[str], now: int) -> dict[str, Availability]:
        """Counts for each slug on sale; unknown (or withdrawn) slugs are simply absent."""

    @abstractmethod
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
        """Hold one free unit, or replay the hold first created with this key.

        A replay is answered before anything else, even when the visitor has
        reached the policy's limits since. Raises ``IdempotencyKeyReused`` when
        the key came with another fingerprint, ``UnknownSculpture``,
        ``HoldLimitReached`` (``visitor`` under ``policy``), or ``NoUnitFree``.
        Failed attempts are not remembered, so a retry after a refusal is
        evaluated afresh; but a refusal is never the answer when a request with
        the same key has succeeded meanwhile (a client's retry in flight).
        """

    @abstractmethod
    def release_hold(
        self, hold_id: str, token: str | None, now: int, *, staff: bool = False
    ) -> None:
        """Free the hold's unit. Releasing an expired or released hold is a no-op.

        ``token`` must be the hold's release token unless ``staff`` is true.
        Raises ``UnknownHold``, ``InvalidReleaseToken`` or ``HoldAlreadySold``.
        """

    @abstractmethod
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
        """Turn an active hold into a sale, or sell a free unit of ``sculpture`` directly.

        With an ``idempotency_key``, a retried request returns the first sale
        (``replayed``) instead of selling a second unit.
        """

    @abstractmethod
    def sync_inventory(self, editions: Mapping[str, int], *, now: int) -> SyncReport:
        """Add pieces and resize editions; never drop a hold or a sale.

        Pieces missing from ``editions`` are kept (holds, sales) but taken off
        sale. Raises ``EditionTooSmall`` (before writing anything) when a new
        size is below the units currently held + sold.
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the default store holds none."""


# --------------------------------------------------------------------------- helpers


def new_id() -> str:
    return str(uuid.uuid4())


def request_fingerprint(payload: object) -> str:
    """A stable digest of a request body: key order and whitespace do not matter."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_editions(editions: Mapping[str, int]) -> None:
    for slug, size in editions.items():
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"{slug}: edition size must be a positive integer, got {size!r}")


def check_hold_policy(
    policy: HoldPolicy, earlier: Iterable[VisitorHold], sculpture: str, now: int
) -> None:
    """Raise ``HoldLimitReached`` if ``policy`` refuses the visitor one more hold on ``sculpture``.

    One rule for every backend: each reads the visitor's earlier holds its own
    way, in the same atomic step that writes the new hold.
    """
    earlier = list(earlier)
    active = [hold for hold in earlier if hold.active and hold.expires_at > now]
    if len(active) >= policy.max_active:
        raise HoldLimitReached("too-many-holds", min(hold.expires_at for hold in active) - now)
    window_start = now - policy.repeat_after_seconds
    recent = [
        h.created_at for h in earlier if h.sculpture == sculpture and h.created_at > window_start
    ]
    if recent:
        raise HoldLimitReached("piece-held-recently", max(recent) - window_start)
