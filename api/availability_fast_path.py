"""``GET /api/v1/availability`` without Flask's request machinery, for the one shape pages send.

Why this room exists: the availability read is nearly all of the API's traffic
(every page view asks for the pieces it shows), and the issue's targets are
relative to a bare Flask route: at least 60% of its requests per second with
the in-process cache off, 90% with it on, p99 under twice its. Measured in
process (``bench/api_inprocess.py``, 20 ids, CPU per request) before this
shortcut: bare route 48 us; the Flask view 69 us with the cache and 186 us
without. Flask's own per-request work (request and app contexts, URL matching,
the ``before``/``after`` hooks, building a Response and its headers) was about
half of the cached cost and a third of the uncached one. This shortcut serves
the same answer from the WSGI ``environ`` directly; the numbers after it are in
the README (``bench/api_load.sh``).

What it takes: ``GET`` (not ``HEAD``) of exactly ``/api/v1/availability`` whose
whole query string is ``ids=<slug>[,<slug>...]`` (no other parameter, no
percent-escape) and valid for the view (``views.valid_ids``: the same check,
the same ``MAX_IDS``), within ``MAX_URL_LENGTH``. Everything else goes to the
Flask app untouched, as does any error of the store, a refusal or a bug:
the view then gives the documented answer or problem. It shares the view's
cache (``views.CACHE_EXTENSION``, the same key: the raw query string), its body
encoder and its headers, and writes the same access/EMF line.
tests/api/test_api_fast_path.py holds both paths to the same status, body and
headers for generated requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from api import metrics
from api.availability_cache import AvailabilityCache
from api.logs import REQUEST_ID_HEADER, client_request_id, new_request_id
from api.views import (
    AVAILABILITY_CACHE,
    CACHE_EXTENSION,
    availability_body,
    valid_ids,
    wants_fresh,
)

if TYPE_CHECKING:
    from flask import Flask

PATH = "/api/v1/availability"
PREFIX = "ids="
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class AvailabilityFastPath:
    """WSGI middleware: answers the plain availability read itself, passes the rest on."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.config = app.config
        self.cache: AvailabilityCache = app.extensions[CACHE_EXTENSION]

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        query = environ.get("QUERY_STRING", "")
        if (
            environ.get("PATH_INFO") != PATH
            or environ.get("REQUEST_METHOD") != "GET"
            or not query.startswith(PREFIX)
            or len(PATH) + len(query) > self.config["MAX_URL_LENGTH"]
        ):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        key = query.encode("latin-1")  # what Flask's request.query_string is
        body = None if wants_fresh(environ) else self.cache.get(key)
        if body is None:
            ids = valid_ids(query[len(PREFIX) :], self.config["MAX_IDS"])
            if ids is None:
                return self.wsgi_app(environ, start_response)
            generation = self.cache.generation
            try:
                body = availability_body(self.app, ids)
            except Exception:  # a refusal or a bug: the view answers it
                # The view gives the documented problem (a bug's 500 too) and writes
                # its access line: escaping here, gunicorn would send its own page
                # with no metrics line, and the 5xx alarm would never see it.
                return self.wsgi_app(environ, start_response)
            self.cache.put(key, body, generation)
        request_id = new_request_id()
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", AVAILABILITY_CACHE),
                (REQUEST_ID_HEADER, request_id),
            ],
        )
        metrics.write_request_line(
            service=self.config["SERVICE_NAME"],
            started=started,
            status=200,
            counters=None,
            method="GET",
            path=PATH,
            request_id=request_id,
            client_request_id=client_request_id(environ),
        )
        return [body]


def init_app(app: Flask) -> None:
    """Put the shortcut in front of the app (after the blueprints made the cache)."""
    app.wsgi_app = AvailabilityFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
