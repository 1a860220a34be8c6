"""Settings: defaults in code, overrides from ``API_*`` environment variables.

Flask's ``from_prefixed_env("API")`` parses values as JSON, which is right for
numbers but would turn a secret like ``API_STAFF_TOKEN=0123e4`` into a float,
so string settings are re-read verbatim.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    # sqlite:///<path> (relative or absolute) or dynamodb://<table>.
    "STORE_URL": "sqlite:///build/availability.sqlite3",
    # No default: without it the staff endpoint refuses everything.
    "STAFF_TOKEN": None,
    "HOLD_TTL_SECONDS": 1800,
    "IDEMPOTENCY_TTL_SECONDS": 24 * 3600,
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
STRING_SETTINGS = ("STORE_URL", "STAFF_TOKEN", "SERVICE_NAME", "LOG_LEVEL")
POSITIVE_INT_SETTINGS = ("HOLD_TTL_SECONDS", "IDEMPOTENCY_TTL_SECONDS", "MAX_IDS")
#: The availability responses' Cache-Control max-age: an in-process cache that kept
#: answers longer would stretch how stale a visitor's view can get.
MAX_AVAILABILITY_CACHE_SECONDS = 5


def load(app: Flask, test_config: Mapping[str, Any] | None = None) -> None:
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env("API")
    for name in STRING_SETTINGS:
        if f"API_{name}" in os.environ:
            app.config[name] = os.environ[f"API_{name}"]
    if test_config:
        app.config.update(test_config)
    for name in POSITIVE_INT_SETTINGS:
        value = app.config[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"API_{name} must be a positive integer, got {value!r}")
    cache_seconds = app.config["AVAILABILITY_CACHE_SECONDS"]
    if (
        isinstance(cache_seconds, bool)
        or not isinstance(cache_seconds, int | float)
        or not 0 <= cache_seconds <= MAX_AVAILABILITY_CACHE_SECONDS
    ):
        raise ValueError(
            "API_AVAILABILITY_CACHE_SECONDS must be a number of seconds from 0 to "
            f"{MAX_AVAILABILITY_CACHE_SECONDS}, got {cache_seconds!r}"
        )
    app.json.sort_keys = False  # keep fields in the documented order
