"""The store interface: values, refusals and the abstract ``Store`` every backend implements.

The store owns every fact about holds and sales and enforces the invariants
itself, so no caller can oversell by mistake:

* a piece is never held or sold more times than its edition size, because every
  state change is a single conditional write (SQLite: a guarded statement inside
  an ``IMMEDIATE`` transaction; DynamoDB: a condition expression);
* a hold carries its own expiry time and counts only while that time is in the
  future, so expired holds free their unit without any background job;
* a hold and its idempotency record are written in the same atomic step, so a
  replayed request can never create a second hold.

Time is always passed in (``now``, epoch seconds) rather than read inside, which
keeps the stores deterministic under test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
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
class SyncReport:
    """What ``sync_inventory`` did, slug by slug."""

    added: list[str] = field(default_factory=list)
    resized: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: Pieces in the store but not in the inventory: kept, with their holds and sales.
    kept: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- errors


class StoreError(Exception):
    """Base class of the store's refusals; each maps to one HTTP problem."""


class UnknownSculpture(StoreError):
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


class StoreBusy(StoreError):
    """Optimistic retries ran out under heavy contention; the client may retry."""


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
        """Counts for each known slug; unknown slugs are simply absent."""

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
    ) -> HoldReceipt:
        """Hold one free unit, or replay the hold first created with this key.

        Raises ``IdempotencyKeyReused`` when the key came with another fingerprint,
        ``UnknownSculpture``, or ``NoUnitFree``. Failed attempts are not remembered,
        so a retry after a 409 is evaluated afresh.
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
        self, *, now: int, hold_id: str | None = None, sculpture: str | None = None
    ) -> Sale:
        """Turn an active hold into a sale, or sell a free unit of ``sculpture`` directly."""

    @abstractmethod
    def sync_inventory(self, editions: Mapping[str, int], *, now: int) -> SyncReport:
        """Add pieces and resize editions; never drop a hold or a sale.

        Raises ``EditionTooSmall`` (before writing anything) when a new size is
        below the units currently held + sold.
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the default store holds none."""


# --------------------------------------------------------------------------- helpers


def new_id() -> str:
    return str(uuid.uuid4())


def new_release_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Only a digest of a release token is stored, so a database read cannot release holds."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str | None, digest: str) -> bool:
    """Compare in constant time so response timing leaks nothing about the digest."""
    return token is not None and hmac.compare_digest(token_digest(token), digest)


def request_fingerprint(payload: object) -> str:
    """A stable digest of a request body: key order and whitespace do not matter."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def hold_to_record(hold: Hold, release_token: str) -> str:
    """Serialise what an idempotent replay must return."""
    return json.dumps(
        {
            "id": hold.id,
            "sculpture": hold.sculpture,
            "created_at": hold.created_at,
            "expires_at": hold.expires_at,
            "email": hold.email,
            "release_token": release_token,
        }
    )


def receipt_from_record(record: str) -> HoldReceipt:
    data = json.loads(record)
    token = data.pop("release_token")
    return HoldReceipt(Hold(**data), token, replayed=True)


def validate_editions(editions: Mapping[str, int]) -> None:
    for slug, size in editions.items():
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"{slug}: edition size must be a positive integer, got {size!r}")
