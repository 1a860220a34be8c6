"""Liveness, readiness and the graceful-shutdown flag they share.

``/healthz`` answers while the process can serve at all: a failing liveness
check gets a task replaced, so it must not depend on the database. ``/readyz``
also asks the store, and turns unready the moment shutdown begins: gunicorn's
SIGTERM handler is wrapped (see ``install_shutdown_hook``, called from
gunicorn.conf.py) so the flag flips before the worker stops accepting, and the
requests already in flight finish normally within the graceful timeout. With a
drain (``GUNICORN_DRAIN_SECONDS``) the arbiter flips a flag shared with every
worker first and keeps serving until the load balancer has stopped sending.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from flask import Blueprint, current_app, jsonify

from api.problems import Problem
from api.stores import get_store
from api.stores.interface import StoreError

bp = Blueprint("health", __name__)
log = logging.getLogger("api.health")
_shutting_down = threading.Event()
# The arbiter's drain flag (one shared byte), when gunicorn.conf.py hands it over.
_draining: Any = None


def begin_shutdown() -> None:
    """Mark this process as going away: readiness fails from now on."""
    if not _shutting_down.is_set():
        _shutting_down.set()
        log.info("shutdown begun: readiness now fails, in-flight requests finish")


def shutting_down() -> bool:
    return _shutting_down.is_set() or (_draining is not None and _draining[0] == 1)


def install_shutdown_hook(draining: Any = None) -> None:
    """Run ``begin_shutdown`` first on SIGTERM, then whatever handler was installed.

    ``draining`` is the arbiter's shared flag: set, it fails readiness as well.
    """
    global _draining
    _draining = draining
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: Any) -> None:
        begin_shutdown()
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_sigterm)


def _no_store(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz() -> Any:
    return _no_store(jsonify(status="ok"))


@bp.get("/readyz")
def readyz() -> Any:
    if shutting_down():
        raise Problem(503, "shutting-down", "This process is shutting down.")
    try:
        get_store(current_app).ping()
    except StoreError as error:
        log.warning("store unreachable", extra={"error": str(error)})
        raise Problem(503, "store-unavailable", "The availability store is unreachable.") from None
    return _no_store(jsonify(status="ready"))
