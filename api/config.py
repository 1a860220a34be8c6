"""Settings: defaults in code, overrides from ``API_*`` environment variables.

Flask's ``from_prefixed_env("API")`` parses values as JSON, which is right for
numbers but would turn a secret like ``API_STAFF_TOKEN=0123e4`` into a float,
so string settings are re-read verbatim.

``API_ENV=production`` (set by the image, see the Dockerfile) makes every name in
``PRODUCTION_REQUIRED`` mandatory in the environment: a task started without
its store would otherwise run a private empty SQLite store, answer ready, and
sell every edition again; one without its service name would emit metrics no
alarm watches. The app refuses to start instead, naming what is missing. The
Terraform task definition is checked against this list (tests/terraform).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    # development or production (see PRODUCTION_REQUIRED).
    "ENV": "development",
    # sqlite:///<path> (relative or absolute) or dynamodb://<table>.
    "STORE_URL": "sqlite:///build/availability.sqlite3",
    # No default: without it the staff endpoint refuses everything.
    "STAFF_TOKEN": None,
    "HOLD_TTL_SECONDS": 1800,
    "IDEMPOTENCY_TTL_SECONDS": 24 * 3600,
    # The hold policy (api.stores.interface.HoldPolicy): holds one visitor may have
    # at once, and how long before they may hold the same piece again.
    "HOLDS_PER_VISITOR": 3,
    "HOLD_REPEAT_SECONDS": 24 * 3600,
    # Proxies in front that append to X-Forwarded-For (CloudFront: 1); 0 trusts
    # no header and takes the peer address (see api.visitors).
    "TRUSTED_PROXY_HOPS": 0,
    # How long one store operation may retry before the request gets a 503.
    "STORE_TIME_BUDGET_SECONDS": 10,
    "SERVICE_NAME": "availability-api",
    "LOG_LEVEL": "INFO",
    # Bounds the work one availability request can cause.
    "MAX_IDS": 50,
    # CloudFront's own limit; longer URLs are refused with a 414 problem.
    "MAX_URL_LENGTH": 8192,
    # Bodies are a few fields; anything larger is a mistake or an attack (413).
    "MAX_CONTENT_LENGTH": 4096,
    # How long one process reuses an encoded GET /api/v1/availability body
    # (0 = never). At most the CDN's max-age: see api.availability_cache.
    "AVAILABILITY_CACHE_SECONDS": 1,
    # Epoch seconds; tests swap in a fake clock.
    "CLOCK": time.time,
}
STRING_SETTINGS = ("ENV", "STORE_URL", "STAFF_TOKEN", "SERVICE_NAME", "LOG_LEVEL")
POSITIVE_INT_SETTINGS = (
    "HOLD_TTL_SECONDS",
    "IDEMPOTENCY_TTL_SECONDS",
    "MAX_IDS",
    "HOLDS_PER_VISITOR",
    "HOLD_REPEAT_SECONDS",
)
ENVIRONMENTS = ("development", "production")
#: Settings a production process must get from its environment, never from a default.
PRODUCTION_REQUIRED = ("STORE_URL", "STAFF_TOKEN", "SERVICE_NAME", "TRUSTED_PROXY_HOPS")
#: The availability responses' Cache-Control max-age: an in-process cache that kept
#: answers longer would stretch how stale a visitor's view can get.
MAX_AVAILABILITY_CACHE_SECONDS = 5
#: CloudFront stops waiting for the origin after 30 s; a store operation must end
#: well before, with room for botocore's own call timeouts.
MAX_STORE_TIME_BUDGET_SECONDS = 15


class ConfigurationError(ValueError):
    """A setting is missing or unusable; the message names the environment variable."""


def load(app: Flask, test_config: Mapping[str, Any] | None = None) -> None:
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env("API")
    for name in STRING_SETTINGS:
        if f"API_{name}" in os.environ:
            app.config[name] = os.environ[f"API_{name}"]
    if test_config:
        app.config.update(test_config)
    _require_production_settings(app.config, test_config or {})
    _check_values(app.config)
    app.json.sort_keys = False  # keep fields in the documented order


def _require_production_settings(config: Mapping[str, Any], test_config: Mapping[str, Any]) -> None:
    if config["ENV"] not in ENVIRONMENTS:
        raise ConfigurationError(f"API_ENV must be one of {', '.join(ENVIRONMENTS)}")
    if config["ENV"] != "production":
        return
    missing = [
        f"API_{name}"
        for name in PRODUCTION_REQUIRED
        if not os.environ.get(f"API_{name}", "").strip() and test_config.get(name) is None
    ]
    if missing:
        raise ConfigurationError(
            "API_ENV=production needs these settings in the environment: " + ", ".join(missing)
        )


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _check_values(config: Mapping[str, Any]) -> None:
    for name in POSITIVE_INT_SETTINGS:
        value = config[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigurationError(f"API_{name} must be a positive integer, got {value!r}")
    hops = config["TRUSTED_PROXY_HOPS"]
    if isinstance(hops, bool) or not isinstance(hops, int) or not 0 <= hops <= 5:
        raise ConfigurationError(
            f"API_TRUSTED_PROXY_HOPS must be a whole number from 0 to 5, got {hops!r}"
        )
    budget = config["STORE_TIME_BUDGET_SECONDS"]
    if not _number(budget) or not 0 < budget <= MAX_STORE_TIME_BUDGET_SECONDS:
        raise ConfigurationError(
            "API_STORE_TIME_BUDGET_SECONDS must be a number of seconds above 0 and at most "
            f"{MAX_STORE_TIME_BUDGET_SECONDS}, got {budget!r}"
        )
    cache_seconds = config["AVAILABILITY_CACHE_SECONDS"]
    if not _number(cache_seconds) or not 0 <= cache_seconds <= MAX_AVAILABILITY_CACHE_SECONDS:
        raise ConfigurationError(
            "API_AVAILABILITY_CACHE_SECONDS must be a number of seconds from 0 to "
            f"{MAX_AVAILABILITY_CACHE_SECONDS}, got {cache_seconds!r}"
        )
