"""DynamoDB store: the production store, one table shared by every ECS task.

Single-table design on the Terraform-made table (``pk``/``sk`` strings, TTL on
``expires_at``):

=========================  ============  ==============================================
pk                         sk            holds
=========================  ============  ==============================================
``SCULPTURE#<slug>``       ``INVENTORY`` ``edition_size``, ``next_unit`` and ``units``: a map of
                                         one entry per unit of the edition, each
                                         ``{state: free}``, ``{state: held, hold, until}``
                                         or ``{state: sold, sale}``
``HOLD#<id>``              ``HOLD``      sculpture, unit, token digest, state, times
``SALE#<id>``              ``SALE``      sculpture, unit, hold, time (never expires)
``IDEMPOTENCY#<key>``      ``KEY``       request fingerprint and the first response
=========================  ============  ==============================================

Why units: a hold claims one *named* unit with a condition expression that says
"this unit is free, or its hold's ``until`` is in the past". DynamoDB evaluates
the condition and the write atomically per item, so two writers can never claim
the same unit, and the count of taken units can never exceed the edition. A hold
that expired is free the moment its ``until`` passes: nobody needs to clean it.

Careful: a unit's expiry is called ``until``, never ``expires_at``, because the
table's TTL deletes whole items whose ``expires_at`` is past, and the inventory
item must never be deleted. Only hold records (after a retention period) and
idempotency keys carry ``expires_at``; TTL deletion is lazy, so reads check
expiry themselves and correctness never waits for it.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from api.stores.interface import (
    DEFAULT_IDEMPOTENCY_TTL_SECONDS,
    HOLD_RECORD_RETENTION_SECONDS,
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
    StoreBusy,
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

# Condition-check failures are answers, not outages; everything else is an outage.
EXPECTED_ERRORS = {"ConditionalCheckFailedException", "TransactionCanceledException"}
# A writer loses a race only when another writer won one, so retries are bounded
# by the edition size; the extra attempts absorb TransactionConflict cancellations.
EXTRA_ATTEMPTS = 8
BATCH_GET_LIMIT = 100

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

UNIT_IS_FREE = (
    "attribute_exists(#units.#unit) AND (#units.#unit.#state = :free"
    " OR (#units.#unit.#state = :held AND #units.#unit.#until <= :now))"
)


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


def from_url(url: str) -> DynamoDBStore:
    """``dynamodb://<table-name>``; endpoint and region come from the ``AWS_*`` environment."""
    parts = urlsplit(url)
    if not parts.netloc or parts.path not in ("", "/"):
        raise ValueError(f"STORE_URL {url!r}: expected dynamodb://<table-name>")
    return DynamoDBStore(parts.netloc)


class DynamoDBStore(Store):
    """All state in one table; every write carries a condition expression."""

    def __init__(self, table: str, client_factory: Callable[[], Any] | None = None) -> None:
        self.table = table
        self._client_factory = client_factory or self._default_client
        self._local = threading.local()
        self._lock = threading.Lock()
        self._client: Any = None
        self._client_pid: int | None = None

    @staticmethod
    def _default_client() -> Any:
        # Endpoint and region come from the standard AWS_* environment, so the
        # same code talks to moto locally and to DynamoDB in ECS.
        config = Config(
            connect_timeout=2,
            read_timeout=5,
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

    # -- keys and reads ------------------------------------------------------

    @staticmethod
    def _inventory_key(slug: str) -> dict[str, Any]:
        return _dump({"pk": f"SCULPTURE#{slug}", "sk": "INVENTORY"})

    @staticmethod
    def _hold_key(hold_id: str) -> dict[str, Any]:
        return _dump({"pk": f"HOLD#{hold_id}", "sk": "HOLD"})

    @staticmethod
    def _idempotency_key(key: str) -> dict[str, Any]:
        return _dump({"pk": f"IDEMPOTENCY#{key}", "sk": "KEY"})

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        item = self._call("get_item", TableName=self.table, Key=key, ConsistentRead=True).get(
            "Item"
        )
        return _load(item) if item else None

    def _live_idempotency_record(self, key: str, now: int) -> dict[str, Any] | None:
        record = self._get(self._idempotency_key(key))
        # TTL deletes lazily: an expired record may still be there and must be ignored.
        return record if record and record["expires_at"] > now else None

    def _replay(self, record: dict[str, Any], fingerprint: str) -> HoldReceipt:
        if record["fingerprint"] != fingerprint:
            raise IdempotencyKeyReused(record["pk"])
        return receipt_from_record(record["receipt"])

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
    ) -> str:
        """Set one free unit of ``slug`` to ``value``, atomically with ``others(unit)``.

        Picks a free unit from a consistent read, then writes it on condition
        that it is still free. Losing that race only means another writer won a
        unit, so re-read and try again (bounded by the edition size); no free
        unit left means ``NoUnitFree``. A failed condition on one of ``others``
        is raised as ``Cancelled`` for the caller to interpret.
        """
        attempt, limit = 0, EXTRA_ATTEMPTS
        while attempt < limit:
            attempt += 1
            item = self._get(self._inventory_key(slug))
            if item is None:
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
                    "ExpressionAttributeNames": {
                        "#units": "units",
                        "#unit": unit,
                        "#state": "state",
                        "#until": "until",
                    },
                    "ExpressionAttributeValues": _dump(
                        {":value": value, ":free": "free", ":held": "held", ":now": now}
                    ),
                }
            }
            try:
                self._call("transact_write_items", TransactItems=[claim, *others(unit)])
            except Cancelled as cancelled:
                if "ConditionalCheckFailed" in cancelled.reasons[1:]:
                    raise
                continue  # the unit was taken meanwhile, or a transaction conflict
            return unit
        raise StoreBusy(f"too much contention on {slug}")

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
        seen = self._live_idempotency_record(idempotency_key, now)
        if seen is not None:
            return self._replay(seen, fingerprint)
        hold = Hold(new_id(), sculpture, now, now + ttl_seconds, email)
        token = new_release_token()
        key_record = {
            "pk": f"IDEMPOTENCY#{idempotency_key}",
            "sk": "KEY",
            "fingerprint": fingerprint,
            "receipt": hold_to_record(hold, token),
            "expires_at": now + idempotency_ttl_seconds,
        }

        def records(unit: str) -> list[dict[str, Any]]:
            hold_record = {
                "pk": f"HOLD#{hold.id}",
                "sk": "HOLD",
                "sculpture": sculpture,
                "unit": unit,
                "email": email,
                "token_digest": token_digest(token),
                "state": "held",
                "created_at": now,
                "hold_expires_at": hold.expires_at,
                # TTL may delete the record once it can no longer matter.
                "expires_at": hold.expires_at + HOLD_RECORD_RETENTION_SECONDS,
            }
            return [
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": _dump(hold_record),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    # An expired key may be overwritten; a live one means a racing
                    # request with the same key won, and we replay its hold.
                    "Put": {
                        "TableName": self.table,
                        "Item": _dump(key_record),
                        "ConditionExpression": "attribute_not_exists(pk) OR expires_at <= :now",
                        "ExpressionAttributeValues": _dump({":now": now}),
                    }
                },
            ]

        try:
            self._claim_unit(
                sculpture,
                now,
                {"state": "held", "hold": hold.id, "until": hold.expires_at},
                records,
            )
        except Cancelled as cancelled:
            if cancelled.reasons[2:3] == ["ConditionalCheckFailed"]:
                seen = self._live_idempotency_record(idempotency_key, now)
                if seen is not None:
                    return self._replay(seen, fingerprint)
            raise StoreBusy(f"hold on {sculpture} cancelled: {cancelled}") from cancelled
        return HoldReceipt(hold, token)

    def _hold(self, hold_id: str) -> dict[str, Any]:
        record = self._get(self._hold_key(hold_id))
        if record is None:
            raise UnknownHold(hold_id)
        return record

    def release_hold(
        self, hold_id: str, token: str | None, now: int, *, staff: bool = False
    ) -> None:
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
        for _attempt in range(EXTRA_ATTEMPTS):
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
                self._call("transact_write_items", TransactItems=[mark_released, free_unit])
                return
            except Cancelled as cancelled:
                if cancelled.reasons == ["None", "ConditionalCheckFailed"]:
                    # The hold expired and its unit moved on (or was removed by a
                    # resize): only the record is left to mark.
                    try:
                        self._call("transact_write_items", TransactItems=[mark_released])
                        return
                    except Cancelled:
                        pass
            record = self._hold(hold_id)
        raise StoreBusy(f"release of {hold_id} kept conflicting")

    def record_sale(
        self, *, now: int, hold_id: str | None = None, sculpture: str | None = None
    ) -> Sale:
        if (hold_id is None) == (sculpture is None):
            raise ValueError("give exactly one of hold_id or sculpture")
        sale_id = new_id()
        if sculpture is not None:
            sale_item = {"pk": f"SALE#{sale_id}", "sk": "SALE", "sculpture": sculpture}

            def record(unit: str) -> list[dict[str, Any]]:
                item = _dump({**sale_item, "unit": unit, "sold_at": now})
                put = {"TableName": self.table, "Item": item}
                return [{"Put": {**put, "ConditionExpression": "attribute_not_exists(pk)"}}]

            self._claim_unit(sculpture, now, {"state": "sold", "sale": sale_id}, record)
            return Sale(sale_id, sculpture, now)

        assert hold_id is not None
        record = self._hold(hold_id)
        for _attempt in range(EXTRA_ATTEMPTS):
            if record["state"] != "held":
                raise HoldNotActive(hold_id, record["state"])
            if record["hold_expires_at"] <= now:
                raise HoldNotActive(hold_id, "expired")
            slug = record["sculpture"]
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
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": _dump(sale_item),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
            try:
                self._call("transact_write_items", TransactItems=actions)
            except Cancelled as cancelled:
                if "ConditionalCheckFailed" in cancelled.reasons[:2]:
                    record = self._hold(hold_id)
                    if record["state"] == "held":
                        raise HoldNotActive(hold_id, "expired") from cancelled
                continue
            return Sale(sale_id, slug, now, hold_id)
        raise StoreBusy(f"sale of hold {hold_id} kept conflicting")

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
        validate_editions(editions)
        current = self._all_inventory()
        too_small = []
        for slug, size in editions.items():
            if slug in current:
                taken = counts(slug, current[slug], now)
                if size < taken.held + taken.sold:
                    too_small.append((slug, size, taken.held, taken.sold))
        if too_small:
            raise EditionTooSmall(too_small)
        report = SyncReport()
        for slug, size in editions.items():
            outcome = self._resize(slug, size, now)
            {"added": report.added, "resized": report.resized, "unchanged": report.unchanged}[
                outcome
            ].append(slug)
        report.kept.extend(sorted(set(current) - set(editions)))
        return report

    def _resize(self, slug: str, size: int, now: int) -> str:
        """Bring one edition to ``size`` units with an optimistic, conditional update."""
        for _attempt in range(size + EXTRA_ATTEMPTS):
            item = self._get(self._inventory_key(slug))
            try:
                if item is None:
                    units = {f"u{number}": {"state": "free"} for number in range(1, size + 1)}
                    self._call(
                        "put_item",
                        TableName=self.table,
                        Item=_dump(
                            {
                                "pk": f"SCULPTURE#{slug}",
                                "sk": "INVENTORY",
                                "edition_size": size,
                                "next_unit": size + 1,
                                "units": units,
                            }
                        ),
                        ConditionExpression="attribute_not_exists(pk)",
                    )
                    return "added"
                old = len(item["units"])
                if old == size:
                    return "unchanged"
                names = {"#units": "units"}
                values: dict[str, Any] = {":size": size, ":old": old}
                if size > old:
                    first = item["next_unit"]
                    sets = []
                    for index, number in enumerate(range(first, first + size - old)):
                        names[f"#n{index}"] = f"u{number}"
                        sets.append(f"#units.#n{index} = :free_unit")
                    values[":free_unit"] = {"state": "free"}
                    values[":next"] = first + size - old
                    update = "SET edition_size = :size, next_unit = :next, " + ", ".join(sets)
                    condition = "edition_size = :old"
                else:
                    removable = sorted(
                        (key for key, unit in item["units"].items() if _unit_free(unit, now)),
                        key=_unit_number,
                        reverse=True,
                    )[: old - size]
                    if len(removable) < old - size:
                        taken = counts(slug, item, now)
                        raise EditionTooSmall([(slug, size, taken.held, taken.sold)])
                    conditions = ["edition_size = :old"]
                    for index, key in enumerate(removable):
                        names[f"#r{index}"] = key
                        conditions.append(
                            f"(#units.#r{index}.#state = :free OR (#units.#r{index}.#state = :held"
                            f" AND #units.#r{index}.#until <= :now))"
                        )
                    names.update({"#state": "state", "#until": "until"})
                    values.update({":free": "free", ":held": "held", ":now": now})
                    update = "SET edition_size = :size REMOVE " + ", ".join(
                        f"#units.#r{index}" for index in range(len(removable))
                    )
                    condition = " AND ".join(conditions)
                self._call(
                    "update_item",
                    TableName=self.table,
                    Key=self._inventory_key(slug),
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=_dump(values),
                )
                return "resized"
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
        raise StoreBusy(f"resizing {slug} kept conflicting")
