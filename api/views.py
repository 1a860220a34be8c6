"""The v1 HTTP endpoints. They translate HTTP to store calls and back, nothing more.

The full path is kept (``/api/v1/...``) because CloudFront and the local preview
forward ``/api/*`` unchanged. The contract is ``api/openapi.json``.
"""

from __future__ import annotations

import functools
import hmac
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from json.encoder import encode_basestring_ascii as encode_string  # json.dumps' own
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request, url_for
from flask.blueprints import BlueprintSetupState

from api import metrics
from api.availability_cache import AvailabilityCache
from api.problems import Problem, problem_response
from api.stores import get_store
from api.stores.interface import (
    SLUG_MAX_LENGTH,
    SLUG_PATTERN,
    Availability,
    HoldAlreadySold,
    HoldLimitReached,
    HoldNotActive,
    HoldPolicy,
    HoldReceipt,
    IdempotencyKeyReused,
    InvalidReleaseToken,
    NoUnitFree,
    Sale,
    Store,
    StoreBusy,
    StoreError,
    StoreUnavailable,
    UnknownHold,
    UnknownSculpture,
    is_slug,
    request_fingerprint,
)
from api.visitors import visitor_key

bp = Blueprint("v1", __name__, url_prefix="/api/v1")

# Every pattern is used with ``fullmatch``: with ``match``, "$" also accepts a
# trailing newline ("a@b.co\n").
HOLD_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The IETF draft sends the key as a structured-field string ("..."); bare values
# are common in the wild, so both are accepted. At least 16 characters: a replay
# of a guessed key with the same body would otherwise hand out someone's hold.
IDEMPOTENCY_KEY_MIN_LENGTH = 16
IDEMPOTENCY_KEY = re.compile(rf'"?([\x21\x23-\x7e]{{{IDEMPOTENCY_KEY_MIN_LENGTH},255}})"?')
# Comma-separated slugs (each as SLUG_PATTERN; lengths are checked apart).
_SLUG_BODY = SLUG_PATTERN.removeprefix("^").removesuffix("$")
SLUG_LIST = re.compile(rf"{_SLUG_BODY}(?:,{_SLUG_BODY})*")
EMAIL = re.compile(r"(?=.{3,254}\Z)[^@\s]+@[^@\s]+\.[^@\s]+")
# A few seconds at the CDN absorbs bursts on a popular page, while a visitor
# still sees a hold placed elsewhere within seconds.
AVAILABILITY_CACHE = "public, max-age=5, s-maxage=5, stale-if-error=60"
CACHE_EXTENSION = "availability_cache"


def _now() -> int:
    return int(current_app.config["CLOCK"]())


def rfc3339(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- helpers


def _json_body(allowed: set[str]) -> dict[str, Any]:
    """The request's JSON object, or the precise problem (415, 413, 400, 422)."""
    if not request.is_json:
        raise Problem(
            415,
            "unsupported-media-type",
            "Send the body as application/json.",
            headers={"Accept-Post": "application/json"},
        )
    raw = request.get_data(cache=True)  # raises 413 beyond MAX_CONTENT_LENGTH
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Problem(400, "malformed-json", "The body is not valid JSON.") from None
    except RecursionError:  # "[[[[...": the decoder recurses once per level
        raise Problem(400, "malformed-json", "The body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise Problem(422, "invalid-body", "The body must be a JSON object.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _invalid([(f"/{name}", "unknown field") for name in unknown])
    return body


def _invalid(errors: list[tuple[str, str]]) -> Problem:
    return Problem(
        422,
        "invalid-body",
        "The body does not match the schema.",
        errors=[{"pointer": pointer, "detail": detail} for pointer, detail in errors],
    )


def _slug_field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not is_slug(value):
        raise _invalid([(f"/{name}", "must be a sculpture slug (a-z, 0-9, single hyphens)")])
    return value


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _is_staff(token: str | None) -> bool:
    configured = current_app.config.get("STAFF_TOKEN")
    if not configured or token is None:
        return False
    # Constant time, so response timing says nothing about how much matched.
    return hmac.compare_digest(token.encode(), str(configured).encode())


def _unauthorized(detail: str, error: str | None = None) -> Problem:
    challenge = 'Bearer realm="sculpture-store"'
    if error:
        challenge += f', error="{error}"'
    return Problem(401, "unauthorized", detail, headers={"WWW-Authenticate": challenge})


# Each refusal of the store has one HTTP meaning, whichever endpoint met it.
STORE_PROBLEMS: dict[type[StoreError], tuple[int, str, str]] = {
    UnknownSculpture: (404, "unknown-sculpture", "No such sculpture is on sale."),
    UnknownHold: (404, "unknown-hold", "No such hold."),
    # 401 (RFC 6750 invalid_token), never 403: the CDN maps origin 403s to the site's 404 page.
    InvalidReleaseToken: (401, "wrong-release-token", "This token does not release this hold."),
    NoUnitFree: (409, "no-unit-free", "Every unit of this piece is held or sold."),
    HoldAlreadySold: (409, "hold-sold", "This hold has become a sale."),
    HoldNotActive: (409, "hold-not-active", "The hold is no longer active."),
    IdempotencyKeyReused: (
        422,
        "idempotency-key-reused",
        "This Idempotency-Key was already used with a different body.",
    ),
    HoldLimitReached: (429, "hold-limit", "This visitor may not hold another piece now."),
    StoreBusy: (503, "busy", "Too many requests for this piece at once; try again."),
    StoreUnavailable: (503, "store-unavailable", "Availability is unknown right now; retry soon."),
}


# What each HoldLimitReached reason tells the visitor (formatted with the app's config).
HOLD_LIMIT_DETAILS = {
    "too-many-holds": "You already hold {HOLDS_PER_VISITOR} pieces; one must end before another.",
    "piece-held-recently": "You held this piece recently; it stays free for others for a while.",
}


@bp.errorhandler(StoreError)
def store_problem(error: StoreError) -> Response:
    status, kind, detail = STORE_PROBLEMS.get(type(error), (500, None, None))
    headers: dict[str, str] = {}
    if isinstance(error, HoldNotActive):
        detail = f"The hold is {error.state}."
    if isinstance(error, InvalidReleaseToken):
        headers["WWW-Authenticate"] = 'Bearer realm="sculpture-store", error="invalid_token"'
    if isinstance(error, HoldLimitReached):
        detail = HOLD_LIMIT_DETAILS[error.reason].format(**current_app.config)
        headers["Retry-After"] = str(error.retry_after)
        kind = error.reason
    if status == 503:
        headers["Retry-After"] = "1"
        current_app.logger.warning("store refused: %s", error)
    extensions = (
        {"sculpture": error.slug} if isinstance(error, NoUnitFree | UnknownSculpture) else {}
    )
    return problem_response(status, kind, detail, headers=headers, **extensions)


@bp.before_app_request
def refuse_overlong_urls() -> None:
    """Answer over-long URLs with a problem (gunicorn would send an HTML page)."""
    req = request._get_current_object()  # type: ignore[attr-defined]  # every request: once
    if len(req.path) + len(req.query_string) > current_app.config["MAX_URL_LENGTH"]:
        raise Problem(414, "uri-too-long", "The URL is longer than this API accepts.")


# --------------------------------------------------------------------------- availability


@bp.record_once
def _create_cache(state: BlueprintSetupState) -> None:
    config = state.app.config
    state.app.extensions[CACHE_EXTENSION] = AvailabilityCache(
        config["AVAILABILITY_CACHE_SECONDS"], config["CLOCK"]
    )


def invalidates_availability(view: Callable[..., Response]) -> Callable[..., Response]:
    """Mark a view that may change availability: it drops this process's cached bodies.

    Dropped after the view ran if it reached the store (``store_for_writing``),
    whatever the store answered (a timed-out write may still have happened),
    so the writer's next read comes from the store. A request refused before
    that (400, 401, 415, 422) leaves the cache alone: a flood of bad writes
    must not turn every read into a store read.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        finally:
            if g.pop(_WRITE_ATTEMPTED, False):
                current_app.extensions[CACHE_EXTENSION].invalidate()

    wrapper.invalidates_availability = True  # type: ignore[attr-defined]
    return wrapper


_WRITE_ATTEMPTED = "availability_write_attempted"


def store_for_writing() -> Store:
    """The store, for a call that may change availability (see ``invalidates_availability``)."""
    g.setdefault(_WRITE_ATTEMPTED, True)
    return get_store(current_app)


def wants_fresh(environ: Mapping[str, Any]) -> bool:
    """``Cache-Control: no-cache`` / ``max-age=0`` (the site's reload after a hold)."""
    header = environ.get("HTTP_CACHE_CONTROL")
    if header is None:
        return False
    directives = {part.strip().lower() for part in header.split(",")}  # case-insensitive names
    return "no-cache" in directives or "max-age=0" in directives


@bp.get("/availability")
def availability() -> Response:
    # The busiest route: proxies are resolved once, the encoded body may be reused.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    req = request._get_current_object()  # type: ignore[attr-defined]
    cache: AvailabilityCache = app.extensions[CACHE_EXTENSION]
    key = req.query_string
    body = None if wants_fresh(req.environ) else cache.get(key)
    if body is None:
        generation = cache.generation
        body = _availability_body(app, req.args.getlist("ids"))
        cache.put(key, body, generation)
    response = app.response_class(body, mimetype="application/json")
    response.headers["Cache-Control"] = AVAILABILITY_CACHE
    return response


def _availability_body(app: Flask, values: list[str]) -> bytes:
    raw = ",".join(values)
    limit = app.config["MAX_IDS"]
    ids = valid_ids(raw, limit)
    if ids is None:
        raise _invalid_ids(raw, limit)
    return availability_body(app, ids)


def valid_ids(raw: str, limit: int) -> list[str] | None:
    """The distinct slugs of ``raw`` (``a,b,a``), or None when it is not a valid id list.

    One match for the whole list (the hot path); ``_invalid_ids`` names the culprit.
    """
    if not raw:
        return None
    ids = list(dict.fromkeys(raw.split(",")))
    if len(ids) > limit or not SLUG_LIST.fullmatch(raw) or max(map(len, ids)) > SLUG_MAX_LENGTH:
        return None
    return ids


def _invalid_ids(raw: str, limit: int) -> Problem:
    if not raw:
        return Problem(400, "invalid-query", "Give the sculptures as ?ids=slug-a,slug-b.")
    ids = list(dict.fromkeys(raw.split(",")))
    if len(ids) > limit:
        return Problem(400, "invalid-query", f"At most {limit} ids per request.")
    bad = next((value for value in ids if not is_slug(value)), raw)
    return Problem(400, "invalid-query", f"Not a sculpture slug: {bad[:100]!r}.")


def availability_body(app: Flask, ids: list[str]) -> bytes:
    """The encoded AvailabilityList of valid ``ids``, read from the store now."""
    found = get_store(app).availability(ids, int(app.config["CLOCK"]()))
    return encode_availability(ids, found)


def encode_availability(ids: list[str], found: Mapping[str, Availability]) -> bytes:
    """The AvailabilityList body: items in the order asked, then the unknown slugs.

    Written directly rather than through dicts and ``json.dumps`` (a third of
    the route's cost on a cache miss); tests hold it equal to ``json.dumps`` of
    the documented shape.
    """
    items = []
    unknown = []
    for slug in ids:
        counts = found.get(slug)
        if counts is None:
            unknown.append(encode_string(slug))
        else:
            items.append(counts.to_json_text())
    return f'{{"items":[{",".join(items)}],"unknown":[{",".join(unknown)}]}}'.encode()


@bp.get("/sculptures/<slug>/availability")
def sculpture_availability(slug: str) -> Response:
    found = {}
    if is_slug(slug):
        found = get_store(current_app).availability([slug], _now())
    if slug not in found:
        raise UnknownSculpture(slug)
    response = jsonify(found[slug].to_json())
    response.headers["Cache-Control"] = AVAILABILITY_CACHE
    return response


# --------------------------------------------------------------------------- holds


def _hold_json(receipt: HoldReceipt) -> dict[str, Any]:
    hold = receipt.hold
    body: dict[str, Any] = {
        "id": hold.id,
        "sculpture": hold.sculpture,
        "created_at": rfc3339(hold.created_at),
        "expires_at": rfc3339(hold.expires_at),
        "release_token": receipt.release_token,
    }
    if hold.email is not None:
        body["email"] = hold.email
    return body


def _idempotency_key() -> str:
    """The request's Idempotency-Key, or the precise 400 problem."""
    header = request.headers.get("Idempotency-Key")
    if header is None:
        raise Problem(400, "idempotency-key-missing", "Send an Idempotency-Key header (a UUID).")
    match = IDEMPOTENCY_KEY.fullmatch(header)
    if not match:
        raise Problem(
            400,
            "idempotency-key-invalid",
            f"Idempotency-Key: {IDEMPOTENCY_KEY_MIN_LENGTH}-255 visible ASCII (send a UUID).",
        )
    return match.group(1)


def hold_policy(config: Mapping[str, Any]) -> HoldPolicy:
    return HoldPolicy(config["HOLDS_PER_VISITOR"], config["HOLD_REPEAT_SECONDS"])


@bp.post("/holds")
@invalidates_availability
def create_hold() -> Response:
    body = _json_body({"sculpture", "email"})
    key = _idempotency_key()
    sculpture = _slug_field(body, "sculpture")
    email = body.get("email")
    if email is not None and not (isinstance(email, str) and EMAIL.fullmatch(email)):
        raise _invalid([("/email", "must be an email address")])

    config = current_app.config
    try:
        receipt = store_for_writing().create_hold(
            sculpture,
            email=email,
            idempotency_key=key,
            fingerprint=request_fingerprint({"path": request.path, "body": body}),
            now=_now(),
            ttl_seconds=config["HOLD_TTL_SECONDS"],
            idempotency_ttl_seconds=config["IDEMPOTENCY_TTL_SECONDS"],
            visitor=visitor_key(request.environ, config["TRUSTED_PROXY_HOPS"]),
            policy=hold_policy(config),
        )
    except NoUnitFree:
        metrics.count(metrics.HOLD_CONFLICTS)
        raise
    except HoldLimitReached:
        metrics.count(metrics.HOLDS_LIMITED)
        raise

    if not receipt.replayed:
        metrics.count(metrics.HOLDS_CREATED)
    response = jsonify(_hold_json(receipt))
    response.status_code = 201
    response.headers["Location"] = url_for("v1.release_hold", hold_id=receipt.hold.id)
    response.headers["Cache-Control"] = "no-store"
    if receipt.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.delete("/holds/<hold_id>")
@invalidates_availability
def release_hold(hold_id: str) -> Response:
    token = _bearer_token()
    if token is None:
        raise _unauthorized("Send the hold's release token as 'Authorization: Bearer <token>'.")
    if not HOLD_ID.fullmatch(hold_id):
        raise Problem(404, "unknown-hold", "No such hold.")
    store_for_writing().release_hold(hold_id, token, _now(), staff=_is_staff(token))
    response = current_app.response_class(status=204)
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- sales (staff)


def _require_staff() -> None:
    token = _bearer_token()
    if token is None:
        raise _unauthorized("Staff endpoints need 'Authorization: Bearer <staff token>'.")
    if not current_app.config.get("STAFF_TOKEN"):
        # 401, never 403: the CDN turns origin 403s into the site's 404 page.
        raise Problem(
            401,
            "staff-disabled",
            "Staff access is not configured on this server.",
            headers={"WWW-Authenticate": 'Bearer realm="sculpture-store"'},
        )
    if not _is_staff(token):
        raise _unauthorized("The staff token is not valid.", "invalid_token")


def _sale_json(sale: Sale) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": sale.id,
        "sculpture": sale.sculpture,
        "sold_at": rfc3339(sale.sold_at),
    }
    if sale.hold_id is not None:
        body["hold"] = sale.hold_id
    return body


@bp.post("/sales")
@invalidates_availability
def record_sale() -> Response:
    _require_staff()
    body = _json_body({"hold", "sculpture"})
    key = _idempotency_key()
    if ("hold" in body) == ("sculpture" in body):
        raise _invalid([("", "give exactly one of 'hold' or 'sculpture'")])
    target: dict[str, str] = {}
    if "hold" in body:
        if not isinstance(body["hold"], str) or not HOLD_ID.fullmatch(body["hold"]):
            raise _invalid([("/hold", "must be a hold id")])
        target["hold_id"] = body["hold"]
    else:
        target["sculpture"] = _slug_field(body, "sculpture")
    receipt = store_for_writing().record_sale(
        now=_now(),
        idempotency_key=key,
        fingerprint=request_fingerprint({"path": request.path, "body": body}),
        idempotency_ttl_seconds=current_app.config["IDEMPOTENCY_TTL_SECONDS"],
        **target,
    )
    response = jsonify(_sale_json(receipt.sale))
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    if receipt.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


# --------------------------------------------------------------------------- the contract


@cache
def openapi_document() -> bytes:
    return resources.files("api").joinpath("openapi.json").read_bytes()


@bp.get("/openapi.json")
def openapi() -> Response:
    response = current_app.response_class(openapi_document(), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
