"""DynamoDB store: the production store, one table shared by every ECS task.

Single-table design on the Terraform-made table (``pk``/``sk`` strings, TTL on
``expires_at``):

===========================  ============  ============================================
pk                           sk            holds
===========================  ============  ============================================
``SCULPTURE#<slug>``         ``INVENTORY`` ``edition_size``, ``next_unit``, ``on_sale`` and
                                           ``units``: a map of one entry per unit of the
                                           edition, each ``{state: free}``,
                                           ``{state: held, hold, until}`` or
                                           ``{state: sold, sale}``
``HOLD#<id>``                ``HOLD``      sculpture, unit, token digest, state, times
``SALE#<id>``                ``SALE``      sculpture, unit, hold, time (never expires)
``IDEMPOTENCY#<digest>``     ``KEY``       request fingerprint and what a replay returns
                                           (no key, no token: ``api.stores.receipts``)
``VISITOR#<visitor>``        ``HOLDS``     the visitor's recent holds (piece, start,
                                           end) and a ``version``, for the hold policy
===========================  ============  ============================================

Why units: a hold claims one *named* unit with a condition expression that says
"this unit is free, or its hold's ``until`` is in the past". DynamoDB evaluates
the condition and the write atomically per item, so two writers can never claim
the same unit, and the count of taken units can never exceed the edition,
whatever ``now`` each writer believes: a unit names one hold at a time.

Every change is one ``TransactWriteItems`` whose actions all carry conditions:
the unit, the hold or sale record (put only if absent: a fresh id that already
exists means this very request committed before, e.g. on a botocore retry whose
answer was lost), the idempotency record (absent or expired, else a request
with the same key won: its answer is replayed), and the visitor's record (at
the version read, else the policy is judged again).

Careful: a unit's expiry is called ``until``, never ``expires_at``, because the
table's TTL deletes whole items whose ``expires_at`` is past, and the inventory
item must never be deleted. Only hold records (after a retention period),
idempotency records and visitor records carry ``expires_at``; TTL deletion is
lazy, so reads check expiry themselves and correctness never waits for it.

Every operation has a time budget (``time_budget_seconds``); its retry loops
stop there with ``StoreBusy`` (a 503 the client may retry), and botocore's own
timeouts are short, so a request never outlives CloudFront's 30 s.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from api.stores.interface import (
    DEFAULT_IDEMPOTENCY_TTL_SECONDS,
    DEFAULT_TIME_BUDGET_SECONDS,
    HOLD_RECORD_RETENTION_SECONDS,
    Availability,
    EditionTooSmall,
    Hold,
    HoldAlreadySold,
    HoldLimitReached,
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
    StoreError,
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

# Condition-check failures are answers, not outages; everything else is an outage.
EXPECTED_ERRORS = {"ConditionalCheckFailedException", "TransactionCanceledException"}
FAILED = "ConditionalCheckFailed"
# A writer loses a race only when another writer won one, so retries are bounded
# by the edition size; the extra attempts absorb TransactionConflict cancellations.
EXTRA_ATTEMPTS = 8
BATCH_GET_LIMIT = 100
TRANSACTION_LIMIT = 100

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

UNIT_IS_FREE = (
    "attribute_exists(#units.#unit) AND (#units.#unit.#state = :free"
    " OR (#units.#unit.#state = :held AND #units.#unit.#until <= :now))"
    " AND (attribute_not_exists(#on_sale) OR #on_sale = :true)"
)
UNIT_NAMES = {"#units": "units", "#state": "state", "#until": "until", "#on_sale": "on_sale"}


def _dump(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in item.items() if value is not None}


def _load(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _plain(_deserializer.deserialize(value)) for key, value in item.items()}


def _plain(value: Any) -> Any:
    """Decimals become ints (we store only whole numbers), recursively."""
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    if type(value).__name__ == "Decimal":
        return int(value)
    return value


def _unit_free(unit: Mapping[str, Any], now: int) -> bool:
    return unit["state"] == "free" or (unit["state"] == "held" and unit["until"] <= now)


def _unit_held(unit: Mapping[str, Any], now: int) -> bool:
    return unit["state"] == "held" and unit["until"] > now


def _unit_number(key: str) -> int:
    return int(key.removeprefix("u"))


def _on_sale(item: Mapping[str, Any]) -> bool:
    return item.get("on_sale", True)


def counts(slug: str, item: Mapping[str, Any], now: int) -> Availability:
    units = item["units"].values()
    return Availability(
        slug,
        len(item["units"]),
        sum(_unit_held(unit, now) for unit in units),
        sum(unit["state"] == "sold" for unit in units),
    )


class Cancelled(Exception):
    """A transaction was cancelled; ``reasons`` has one code per action ("None" = fine)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons

    def failed(self, index: int) -> bool:
        """Whether the action at ``index`` failed its condition."""
        return self.reasons[index : index + 1] == [FAILED]


class Deadline:
    """The end of one operation's time budget (monotonic clock)."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds

    def passed(self) -> bool:
        return time.monotonic() >= self.ends

    def attempts(self, limit: int, what: str) -> Iterator[int]:
        """Up to ``limit`` attempts while time is left (the first always runs); then StoreBusy."""
        for attempt in range(limit):
            if attempt and self.passed():
                break
            yield attempt
        raise StoreBusy(f"{what}: kept conflicting")


def from_url(
    url: str, *, time_budget_seconds: float = DEFAULT_TIME_BUDGET_SECONDS
) -> DynamoDBStore:
    """``dynamodb://<table-name>``; endpoint and region come from the ``AWS_*`` environment."""
    parts = urlsplit(url)
    if not parts.netloc or parts.path not in ("", "/"):
        raise ValueError(f"STORE_URL {url!r}: expected dynamodb://<table-name>")
    return DynamoDBStore(parts.netloc, time_budget_seconds=time_budget_seconds)


class DynamoDBStore(Store):
    """All state in one table; every write carries a condition expression."""

    def __init__(
        self,
        table: str,
        client_factory: Callable[[], Any] | None = None,
        time_budget_seconds: float = DEFAULT_TIME_BUDGET_SECONDS,
    ) -> None:
        self.table = table
        self.time_budget_seconds = time_budget_seconds
        self._client_factory = client_factory or self._default_client
        self._lock = threading.Lock()
        self._client: Any = None
        self._client_pid: int | None = None

    @staticmethod
    def _default_client() -> Any:
        # Endpoint and region come from the standard AWS_* environment, so the
        # same code talks to moto locally and to DynamoDB in ECS. Short timeouts,
        # few retries: one call takes at most ~10 s, so an operation that starts
        # within its budget still ends well before CloudFront's 30 s.
        config = Config(
            connect_timeout=1,
            read_timeout=2,
            retries={"mode": "standard", "max_attempts": 3},
        )
        return boto3.session.Session().client("dynamodb", config=config)

    @property
    def client(self) -> Any:
        # One client per process (clients are thread-safe, not fork-safe).
        if self._client_pid != os.getpid():
            with self._lock:
                if self._client_pid != os.getpid():
                    self._client = self._client_factory()
                    self._client_pid = os.getpid()
        return self._client

    def _deadline(self) -> Deadline:
        return Deadline(self.time_budget_seconds)

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "TransactionCanceledException":
                reasons = [
                    reason.get("Code", "None")
                    for reason in error.response.get("CancellationReasons", [])
                ]
                raise Cancelled(reasons) from error
            if code in EXPECTED_ERRORS:
                raise
            raise StoreUnavailable(f"DynamoDB {operation}: {code}") from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"DynamoDB {operation}: {error}") from error

    def _transact(self, actions: list[dict[str, Any]]) -> None:
        # A token per attempt: DynamoDB answers botocore's own retries of this very
        # call as the first (idempotent for 10 minutes) instead of failing them.
        self._call(
            "transact_write_items", TransactItems=actions, ClientRequestToken=str(uuid.uuid4())
        )

    # -- keys and reads ------------------------------------------------------

    @staticmethod
    def _inventory_key(slug: str) -> dict[str, Any]:
        return _dump({"pk": f"SCULPTURE#{slug}", "sk": "INVENTORY"})

    @staticmethod
    def _hold_key(hold_id: str) -> dict[str, Any]:
        return _dump({"pk": f"HOLD#{hold_id}", "sk": "HOLD"})

    @staticmethod
    def _idempotency_key(digest: str) -> dict[str, Any]:
        return _dump({"pk": f"IDEMPOTENCY#{digest}", "sk": "KEY"})

    @staticmethod
    def _visitor_key(visitor: str) -> dict[str, Any]:
        return _dump({"pk": f"VISITOR#{visitor}", "sk": "HOLDS"})

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        item = self._call("get_item", TableName=self.table, Key=key, ConsistentRead=True).get(
            "Item"
        )
        return _load(item) if item else None

    def _live_idempotency_record(self, digest: str, now: int) -> dict[str, Any] | None:
        record = self._get(self._idempotency_key(digest))
        # TTL deletes lazily: an expired record may still be there and must be ignored.
        return record if record and record["expires_at"] > now else None

    def _remember(
        self, digest: str, fingerprint: str, receipt: str, expires_at: int, now: int
    ) -> dict[str, Any]:
        """The action writing an idempotency record: only over an absent or expired one."""
        item = {
            "pk": f"IDEMPOTENCY#{digest}",
            "sk": "KEY",
            "fingerprint": fingerprint,
            "receipt": receipt,
            "expires_at": expires_at,
        }
        return {
            "Put": {
                "TableName": self.table,
                "Item": _dump(item),
                "ConditionExpression": "attribute_not_exists(pk) OR expires_at <= :now",
                "ExpressionAttributeValues": _dump({":now": now}),
            }
        }

    def _put_new(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """The action writing a record under a fresh id (it fails only if it exists)."""
        return {
            "Put": {
                "TableName": self.table,
                "Item": _dump(item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    @staticmethod
    def _replay_hold(record: dict[str, Any], fingerprint: str, key: str) -> HoldReceipt:
        if record["fingerprint"] != fingerprint or '"hold"' not in record["receipt"]:
            raise IdempotencyKeyReused(record["pk"])
        return hold_from_record(record["receipt"], key)

    @staticmethod
    def _replay_sale(record: dict[str, Any], fingerprint: str) -> SaleReceipt:
        if record["fingerprint"] != fingerprint or '"sale"' not in record["receipt"]:
            raise IdempotencyKeyReused(record["pk"])
        return sale_from_record(record["receipt"])

    # -- Store interface -----------------------------------------------------

    def initialize(self) -> None:
        """Create the table as Terraform does (for local runs against moto)."""
        try:
            self.client.create_table(
                TableName=self.table,
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceInUseException":
                raise
            return
        self.client.get_waiter("table_exists").wait(TableName=self.table)
        self.client.update_time_to_live(
            TableName=self.table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )

    def ping(self) -> None:
        self._call("get_item", TableName=self.table, Key=_dump({"pk": "PING", "sk": "PING"}))

    def availability(self, slugs: Iterable[str], now: int) -> dict[str, Availability]:
        wanted = list(dict.fromkeys(slugs))
        result: dict[str, Availability] = {}
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            keys = [self._inventory_key(slug) for slug in wanted[start : start + BATCH_GET_LIMIT]]
            request = {self.table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                response = self._call("batch_get_item", RequestItems=request)
                for raw in response["Responses"].get(self.table, []):
                    item = _load(raw)
                    if _on_sale(item):
                        slug = item["pk"].removeprefix("SCULPTURE#")
                        result[slug] = counts(slug, item, now)
                request = response.get("UnprocessedKeys") or {}
        return {slug: result[slug] for slug in wanted if slug in result}

    def _claim_unit(
        self,
        slug: str,
        now: int,
        value: dict[str, Any],
        others: Callable[[str], list[dict[str, Any]]],
        deadline: Deadline,
    ) -> str:
        """Set one free unit of ``slug`` to ``value``, atomically with ``others(unit)``.

        Picks a free unit from a consistent read, then writes it on condition
        that it is still free (and the piece still on sale). Losing that race
        only means another writer won a unit, so re-read and try again (bounded
        by the edition size and the deadline); no free unit left means
        ``NoUnitFree``. A failed condition on one of ``others`` is raised as
        ``Cancelled`` for the caller to interpret.
        """
        attempt, limit = 0, EXTRA_ATTEMPTS
        while attempt < limit and not (attempt and deadline.passed()):
            attempt += 1
            item = self._get(self._inventory_key(slug))
            if item is None or not _on_sale(item):
                raise UnknownSculpture(slug)
            limit = len(item["units"]) + EXTRA_ATTEMPTS
            free = [key for key, unit in item["units"].items() if _unit_free(unit, now)]
            if not free:
                raise NoUnitFree(slug)
            unit = random.choice(free)  # spreads racing writers over the free units
            claim = {
                "Update": {
                    "TableName": self.table,
                    "Key": self._inventory_key(slug),
                    "UpdateExpression": "SET #units.#unit = :value",
                    "ConditionExpression": UNIT_IS_FREE,
                    "ExpressionAttributeNames": {**UNIT_NAMES, "#unit": unit},
                    "ExpressionAttributeValues": _dump(
                        {
                            ":value": value,
                            ":free": "free",
                            ":held": "held",
                            ":now": now,
                            ":true": True,
                        }
                    ),
                }
            }
            try:
                self._transact([claim, *others(unit)])
            except Cancelled as cancelled:
                if FAILED in cancelled.reasons[1:]:
                    raise
                continue  # the unit was taken meanwhile, or a transaction conflict
            return unit
        raise StoreBusy(f"too much contention on {slug}")

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
        visitor: str | None = None,
        policy: HoldPolicy | None = None,
    ) -> HoldReceipt:
        digest = key_digest(idempotency_key)
        seen = self._live_idempotency_record(digest, now)
        if seen is not None:
            return self._replay_hold(seen, fingerprint, idempotency_key)
        try:
            return self._new_hold(
                sculpture,
                email=email,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                now=now,
                ttl_seconds=ttl_seconds,
                idempotency_ttl_seconds=idempotency_ttl_seconds,
                visitor=visitor if policy is not None else None,
                policy=policy,
            )
        except (NoUnitFree, HoldLimitReached, UnknownSculpture, StoreBusy):
            # A request with this key may have committed while this one was being
            # refused (a client's retry in flight): its hold is the answer.
            seen = self._live_idempotency_record(digest, now)
            if seen is not None:
                return self._replay_hold(seen, fingerprint, idempotency_key)
            raise

    def _new_hold(
        self,
        sculpture: str,
        *,
        email: str | None,
        idempotency_key: str,
        fingerprint: str,
        now: int,
        ttl_seconds: int,
        idempotency_ttl_seconds: int,
        visitor: str | None,
        policy: HoldPolicy | None,
    ) -> HoldReceipt:
        deadline = self._deadline()
        hold = Hold(new_id(), sculpture, now, now + ttl_seconds, email)
        salt = new_salt()
        token = release_token(idempotency_key, hold.id, salt)
        digest = key_digest(idempotency_key)
        remember = self._remember(
            digest, fingerprint, hold_record(hold, salt), now + idempotency_ttl_seconds, now
        )

        for _attempt in deadline.attempts(EXTRA_ATTEMPTS, f"hold on {sculpture}"):
            visitor_actions = []
            if visitor is not None and policy is not None:
                record = self._get(self._visitor_key(visitor))
                check_hold_policy(policy, self._visitor_holds(record, now), sculpture, now)
                visitor_actions = [self._visitor_update(visitor, record, hold, policy, now)]

            def records(
                unit: str, visitor_actions: list[dict[str, Any]] = visitor_actions
            ) -> list[dict[str, Any]]:
                hold_record_item = {
                    "pk": f"HOLD#{hold.id}",
                    "sk": "HOLD",
                    "sculpture": sculpture,
                    "unit": unit,
                    "email": email,
                    "token_digest": token_digest(token),
                    "state": "held",
                    "created_at": now,
                    "hold_expires_at": hold.expires_at,
                    "visitor": visitor,
                    # TTL may delete the record once it can no longer matter.
                    "expires_at": hold.expires_at + HOLD_RECORD_RETENTION_SECONDS,
                }
                return [self._put_new(hold_record_item), remember, *visitor_actions]

            try:
                self._claim_unit(
                    sculpture,
                    now,
                    {"state": "held", "hold": hold.id, "until": hold.expires_at},
                    records,
                    deadline,
                )
            except Cancelled as cancelled:
                if cancelled.failed(1):  # our own fresh record exists: we committed before
                    return HoldReceipt(hold, token)
                if cancelled.failed(2):  # a request with this key committed: replay it
                    seen = self._live_idempotency_record(digest, now)
                    if seen is not None:
                        return self._replay_hold(seen, fingerprint, idempotency_key)
                if cancelled.failed(3):  # the visitor's record moved: judge the policy again
                    continue
                raise StoreBusy(f"hold on {sculpture} cancelled: {cancelled}") from cancelled
            return HoldReceipt(hold, token)
        raise AssertionError("unreachable")  # pragma: no cover - attempts() raises

    def _visitor_holds(self, record: dict[str, Any] | None, now: int) -> list[VisitorHold]:
        """The visitor's recent holds; whether one still runs is read from its own record."""
        entries = (record or {}).get("holds", {})
        running = [hold_id for hold_id, entry in entries.items() if entry["until"] > now]
        states = self._hold_states(running)
        return [
            VisitorHold(entry["piece"], entry["at"], entry["until"], states.get(hold_id) == "held")
            for hold_id, entry in entries.items()
        ]

    def _hold_states(self, hold_ids: list[str]) -> dict[str, str]:
        states: dict[str, str] = {}
        for start in range(0, len(hold_ids), BATCH_GET_LIMIT):
            keys = [
                self._hold_key(hold_id) for hold_id in hold_ids[start : start + BATCH_GET_LIMIT]
            ]
            request = {
                self.table: {
                    "Keys": keys,
                    "ConsistentRead": True,
                    "ProjectionExpression": "pk, #state",
                    "ExpressionAttributeNames": {"#state": "state"},
                }
            }
            while request:
                response = self._call("batch_get_item", RequestItems=request)
                for raw in response["Responses"].get(self.table, []):
                    item = _load(raw)
                    states[item["pk"].removeprefix("HOLD#")] = item["state"]
                request = response.get("UnprocessedKeys") or {}
        return states

    def _visitor_update(
        self,
        visitor: str,
        record: dict[str, Any] | None,
        hold: Hold,
        policy: HoldPolicy,
        now: int,
    ) -> dict[str, Any]:
        """The action adding ``hold`` to the visitor's record, at the version read."""
        window_start = now - policy.repeat_after_seconds
        entries = {
            hold_id: entry
            for hold_id, entry in (record or {}).get("holds", {}).items()
            if entry["at"] > window_start or entry["until"] > now
        }
        entries[hold.id] = {
            "piece": hold.sculpture,
            "at": hold.created_at,
            "until": hold.expires_at,
        }
        version = (record or {}).get("version", 0)
        item = {
            "pk": f"VISITOR#{visitor}",
            "sk": "HOLDS",
            "holds": entries,
            "version": version + 1,
            # Nothing in it matters once every hold has ended and left the window.
            "expires_at": max(
                max(entry["until"], entry["at"] + policy.repeat_after_seconds)
                for entry in entries.values()
            ),
        }
        put: dict[str, Any] = {"TableName": self.table, "Item": _dump(item)}
        if record is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "#version = :version"
            put["ExpressionAttributeNames"] = {"#version": "version"}
            put["ExpressionAttributeValues"] = _dump({":version": version})
        return {"Put": put}

    def _hold(self, hold_id: str) -> dict[str, Any]:
        record = self._get(self._hold_key(hold_id))
        if record is None:
            raise UnknownHold(hold_id)
        return record

    def release_hold(
        self, hold_id: str, token: str | None, now: int, *, staff: bool = False
    ) -> None:
        deadline = self._deadline()
        record = self._hold(hold_id)
        if not staff and not token_matches(token, record["token_digest"]):
            raise InvalidReleaseToken(hold_id)
        mark_released = {
            "Update": {
                "TableName": self.table,
                "Key": self._hold_key(hold_id),
                "UpdateExpression": "SET #state = :released",
                "ConditionExpression": "#state = :held",
                "ExpressionAttributeNames": {"#state": "state"},
                "ExpressionAttributeValues": _dump({":released": "released", ":held": "held"}),
            }
        }
        for _attempt in deadline.attempts(EXTRA_ATTEMPTS, f"release of {hold_id}"):
            if record["state"] == "sold":
                raise HoldAlreadySold(hold_id)
            if record["state"] == "released":
                return
            free_unit = {
                "Update": {
                    "TableName": self.table,
                    "Key": self._inventory_key(record["sculpture"]),
                    "UpdateExpression": "SET #units.#unit = :free_unit",
                    "ConditionExpression": "#units.#unit.#state = :held"
                    " AND #units.#unit.#hold = :hold",
                    "ExpressionAttributeNames": {
                        "#units": "units",
                        "#unit": record["unit"],
                        "#state": "state",
                        "#hold": "hold",
                    },
                    "ExpressionAttributeValues": _dump(
                        {":free_unit": {"state": "free"}, ":held": "held", ":hold": hold_id}
                    ),
                }
            }
            try:
                self._transact([mark_released, free_unit])
                return
            except Cancelled as cancelled:
                if cancelled.reasons == ["None", FAILED]:
                    # The hold expired and its unit moved on (or was removed by a
                    # resize): only the record is left to mark.
                    try:
                        self._transact([mark_released])
                        return
                    except Cancelled:
                        pass
            record = self._hold(hold_id)
        raise AssertionError("unreachable")  # pragma: no cover - attempts() raises

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
        fingerprint = fingerprint or ""
        digest = key_digest(idempotency_key) if idempotency_key is not None else None
        if digest is not None:
            seen = self._live_idempotency_record(digest, now)
            if seen is not None:
                return self._replay_sale(seen, fingerprint)

        def remember(sale: Sale) -> list[dict[str, Any]]:
            if digest is None:
                return []
            expires_at = now + idempotency_ttl_seconds
            return [self._remember(digest, fingerprint, sale_record(sale), expires_at, now)]

        try:
            if hold_id is not None:
                sale = self._sell_hold(hold_id, now, remember)
            else:
                assert sculpture is not None
                sale = self._sell_unit(sculpture, now, remember)
        except (StoreError, Cancelled) as refused:
            # The sale may have been recorded by a request with the same key, or by
            # an earlier attempt of this one whose answer was lost.
            seen = self._live_idempotency_record(digest, now) if digest is not None else None
            if seen is not None:
                return self._replay_sale(seen, fingerprint)
            if isinstance(refused, Cancelled):
                raise StoreBusy(f"sale cancelled: {refused}") from refused
            raise
        return SaleReceipt(sale)

    def _sell_unit(
        self, sculpture: str, now: int, remember: Callable[[Sale], list[dict[str, Any]]]
    ) -> Sale:
        sale = Sale(new_id(), sculpture, now)

        def records(unit: str) -> list[dict[str, Any]]:
            item = {
                "pk": f"SALE#{sale.id}",
                "sk": "SALE",
                "sculpture": sculpture,
                "unit": unit,
                "sold_at": now,
            }
            return [self._put_new(item), *remember(sale)]

        try:
            self._claim_unit(
                sculpture, now, {"state": "sold", "sale": sale.id}, records, self._deadline()
            )
        except Cancelled as cancelled:
            if cancelled.failed(1):  # our own fresh sale exists: an earlier attempt committed
                return sale
            raise
        return sale

    def _sell_hold(
        self, hold_id: str, now: int, remember: Callable[[Sale], list[dict[str, Any]]]
    ) -> Sale:
        deadline = self._deadline()
        record = self._hold(hold_id)
        sale_id = new_id()
        for _attempt in deadline.attempts(EXTRA_ATTEMPTS, f"sale of hold {hold_id}"):
            if record["state"] != "held":
                raise HoldNotActive(hold_id, record["state"])
            if record["hold_expires_at"] <= now:
                raise HoldNotActive(hold_id, "expired")
            slug = record["sculpture"]
            sale = Sale(sale_id, slug, now, hold_id)
            sale_item = {
                "pk": f"SALE#{sale_id}",
                "sk": "SALE",
                "sculpture": slug,
                "hold": hold_id,
                "sold_at": now,
            }
            actions = [
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": self._inventory_key(slug),
                        "UpdateExpression": "SET #units.#unit = :sold",
                        "ConditionExpression": "#units.#unit.#state = :held"
                        " AND #units.#unit.#hold = :hold AND #units.#unit.#until > :now",
                        "ExpressionAttributeNames": {
                            "#units": "units",
                            "#unit": record["unit"],
                            "#state": "state",
                            "#hold": "hold",
                            "#until": "until",
                        },
                        "ExpressionAttributeValues": _dump(
                            {
                                ":sold": {"state": "sold", "sale": sale_id, "hold": hold_id},
                                ":held": "held",
                                ":hold": hold_id,
                                ":now": now,
                            }
                        ),
                    }
                },
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": self._hold_key(hold_id),
                        # A sold hold's record is kept for good: drop its TTL.
                        "UpdateExpression": "SET #state = :sold REMOVE expires_at",
                        "ConditionExpression": "#state = :held",
                        "ExpressionAttributeNames": {"#state": "state"},
                        "ExpressionAttributeValues": _dump({":sold": "sold", ":held": "held"}),
                    }
                },
                self._put_new(sale_item),
                *remember(sale),
            ]
            try:
                self._transact(actions)
            except Cancelled as cancelled:
                if cancelled.failed(2):  # our own fresh sale exists: an earlier attempt committed
                    return sale
                if cancelled.failed(3):
                    raise  # a request with the same key committed: the caller replays it
                if cancelled.failed(0) or cancelled.failed(1):
                    record = self._hold(hold_id)
                    if record["state"] == "held":
                        raise HoldNotActive(hold_id, "expired") from cancelled
                continue
            return sale
        raise AssertionError("unreachable")  # pragma: no cover - attempts() raises

    # -- inventory -----------------------------------------------------------

    def _all_inventory(self) -> dict[str, dict[str, Any]]:
        items: dict[str, dict[str, Any]] = {}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "sk = :inventory",
            "ExpressionAttributeValues": _dump({":inventory": "INVENTORY"}),
            "ConsistentRead": True,
        }
        while True:
            page = self._call("scan", **kwargs)
            for raw in page.get("Items", []):
                item = _load(raw)
                items[item["pk"].removeprefix("SCULPTURE#")] = item
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def sync_inventory(self, editions: Mapping[str, int], *, now: int) -> SyncReport:
        """Plan every change from one read, then write: refusable changes first, in one go.

        Only a shrink can be refused (a hold may land on a unit it removes), so
        shrinks go into the first transaction, filled up with the other changes;
        if it is cancelled, nothing was written and the sync is planned again
        from a fresh read (and refused with ``EditionTooSmall`` if it no longer
        fits). Changes beyond one transaction's 100 items follow in further
        transactions that no hold can refuse (adding pieces, growing editions,
        taking pieces off sale); so the refusal is all-or-nothing as long as at
        most 100 editions shrink in one sync.
        """
        validate_editions(editions)
        for _attempt in range(EXTRA_ATTEMPTS):
            current = self._all_inventory()
            report, refusable, others = self._plan_sync(current, editions, now)
            actions = refusable + others
            if not actions:
                return report
            try:
                self._transact(actions[:TRANSACTION_LIMIT])
            except Cancelled:
                continue  # a hold or another sync moved something: nothing written, plan again
            for start in range(TRANSACTION_LIMIT, len(actions), TRANSACTION_LIMIT):
                try:
                    self._transact(actions[start : start + TRANSACTION_LIMIT])
                except Cancelled as cancelled:
                    raise StoreBusy(
                        "inventory sync interrupted by a concurrent sync; run it again"
                        " (it is idempotent)"
                    ) from cancelled
            return report
        raise StoreBusy("inventory sync kept conflicting with holds; run it again")

    def _plan_sync(
        self, current: dict[str, dict[str, Any]], editions: Mapping[str, int], now: int
    ) -> tuple[SyncReport, list[dict[str, Any]], list[dict[str, Any]]]:
        """The report, and the writes (refusable ones apart) that bring ``current`` in line."""
        too_small = []
        for slug, size in editions.items():
            if slug in current:
                taken = counts(slug, current[slug], now)
                if size < taken.held + taken.sold:
                    too_small.append((slug, size, taken.held, taken.sold))
        if too_small:
            raise EditionTooSmall(too_small)
        report = SyncReport()
        refusable: list[dict[str, Any]] = []
        others: list[dict[str, Any]] = []
        for slug, size in editions.items():
            item = current.get(slug)
            if item is None:
                units = {f"u{number}": {"state": "free"} for number in range(1, size + 1)}
                others.append(
                    self._put_new(
                        {
                            "pk": f"SCULPTURE#{slug}",
                            "sk": "INVENTORY",
                            "edition_size": size,
                            "next_unit": size + 1,
                            "on_sale": True,
                            "units": units,
                        }
                    )
                )
                report.added.append(slug)
                continue
            old, on_sale = len(item["units"]), _on_sale(item)
            if not on_sale:
                report.reopened.append(slug)
            if old == size:
                if on_sale:
                    report.unchanged.append(slug)
                else:
                    others.append(self._set_on_sale(slug, True))
                continue
            report.resized.append(slug)
            if size > old:
                others.append(self._grow(slug, item, size))
            else:
                refusable.append(self._shrink(slug, item, size, now))
        for slug in sorted(set(current) - set(editions)):
            report.kept.append(slug)
            if _on_sale(current[slug]):
                others.append(self._set_on_sale(slug, False))
        return report, refusable, others

    def _set_on_sale(self, slug: str, on_sale: bool) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table,
                "Key": self._inventory_key(slug),
                "UpdateExpression": "SET #on_sale = :on_sale",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeNames": {"#on_sale": "on_sale"},
                "ExpressionAttributeValues": _dump({":on_sale": on_sale}),
            }
        }

    def _grow(self, slug: str, item: dict[str, Any], size: int) -> dict[str, Any]:
        old, first = len(item["units"]), item["next_unit"]
        names = {"#units": "units", "#on_sale": "on_sale"}
        sets = []
        for index, number in enumerate(range(first, first + size - old)):
            names[f"#n{index}"] = f"u{number}"
            sets.append(f"#units.#n{index} = :free_unit")
        values = {
            ":size": size,
            ":old": item["edition_size"],
            ":next": first + size - old,
            ":free_unit": {"state": "free"},
            ":true": True,
        }
        return {
            "Update": {
                "TableName": self.table,
                "Key": self._inventory_key(slug),
                "UpdateExpression": "SET edition_size = :size, next_unit = :next,"
                " #on_sale = :true, " + ", ".join(sets),
                "ConditionExpression": "edition_size = :old",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": _dump(values),
            }
        }

    def _shrink(self, slug: str, item: dict[str, Any], size: int, now: int) -> dict[str, Any]:
        """Remove free units (the newest first), each on condition it is still free."""
        old = len(item["units"])
        removable = sorted(
            (key for key, unit in item["units"].items() if _unit_free(unit, now)),
            key=_unit_number,
            reverse=True,
        )[: old - size]
        names = {"#units": "units", "#state": "state", "#until": "until", "#on_sale": "on_sale"}
        conditions = ["edition_size = :old"]
        for index, key in enumerate(removable):
            names[f"#r{index}"] = key
            conditions.append(
                f"(#units.#r{index}.#state = :free OR (#units.#r{index}.#state = :held"
                f" AND #units.#r{index}.#until <= :now))"
            )
        values = {
            ":size": size,
            ":old": item["edition_size"],
            ":free": "free",
            ":held": "held",
            ":now": now,
            ":true": True,
        }
        return {
            "Update": {
                "TableName": self.table,
                "Key": self._inventory_key(slug),
                "UpdateExpression": "SET edition_size = :size, #on_sale = :true REMOVE "
                + ", ".join(f"#units.#r{index}" for index in range(len(removable))),
                "ConditionExpression": " AND ".join(conditions),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": _dump(values),
            }
        }
