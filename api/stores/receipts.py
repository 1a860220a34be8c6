"""What an idempotent replay must return, kept so that a database read reveals no secret.

A replayed ``POST /api/v1/holds`` must hand back the first response, release
token included, for up to a day. Keeping that token (or the key) in clear would
let anyone who reads the table, a backup or a log of it release visitors'
holds. So the stores keep:

* the key only as a digest (``key_digest``), so the table does not list keys;
* no token at all: the release token is derived from the idempotency key and a
  random salt (``release_token``: HMAC-SHA256 keyed by the idempotency key), and
  only the salt is stored. The replaying client presents the key, so the token
  can be derived again; without the key it cannot.
* for the hold itself, only a digest of the token (``token_digest``), checked in
  constant time (``token_matches``).

The salt makes the token unpredictable even when a client picks a weak key:
guessing it needs the salt, which never leaves the database.

Nothing here touches a database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets

from api.stores.interface import Hold, HoldReceipt, Sale, SaleReceipt


def key_digest(key: str) -> str:
    """What the stores file an idempotency key under."""
    return hashlib.sha256(b"idempotency-key:" + key.encode()).hexdigest()


def new_salt() -> str:
    return secrets.token_hex(16)


def release_token(idempotency_key: str, hold_id: str, salt: str) -> str:
    """The hold's release token: 256 bits derived from what only the holder and the store know."""
    mac = hmac.new(idempotency_key.encode(), f"release:{hold_id}:{salt}".encode(), "sha256")
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def token_digest(token: str) -> str:
    """Only a digest of a release token is stored, so a database read cannot release holds."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str | None, digest: str) -> bool:
    """Compare in constant time so response timing leaks nothing about the digest."""
    return token is not None and hmac.compare_digest(token_digest(token), digest)


def hold_record(hold: Hold, salt: str) -> str:
    """Serialise what a replay of ``create_hold`` needs (no token: see the module docstring)."""
    return json.dumps(
        {
            "hold": {
                "id": hold.id,
                "sculpture": hold.sculpture,
                "created_at": hold.created_at,
                "expires_at": hold.expires_at,
                "email": hold.email,
            },
            "salt": salt,
        }
    )


def hold_from_record(record: str, idempotency_key: str) -> HoldReceipt:
    data = json.loads(record)
    hold = Hold(**data["hold"])
    return HoldReceipt(hold, release_token(idempotency_key, hold.id, data["salt"]), replayed=True)


def sale_record(sale: Sale) -> str:
    return json.dumps(
        {
            "sale": {
                "id": sale.id,
                "sculpture": sale.sculpture,
                "sold_at": sale.sold_at,
                "hold_id": sale.hold_id,
            }
        }
    )


def sale_from_record(record: str) -> SaleReceipt:
    return SaleReceipt(Sale(**json.loads(record)["sale"]), replayed=True)
