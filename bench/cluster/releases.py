"""The builds the drill deploys: the real API, and two broken releases of it.

``GOOD`` is the production entry point itself (``api.wsgi:app``). The broken
ones are the real app with one defect planted in its store layer, the code a
release most often changes, as gunicorn app factories
(``bench.cluster.releases:reads_fail()``):

* ``reads_fail``: every availability read raises. ``/readyz`` still answers
  (it only pings the store), so the targets turn healthy, but the test-traffic
  hook's availability probe fails: the deployment must stop before any visitor
  meets it (scenario 4).
* ``fails_under_load``: every second read or hold the process sends to its
  store raises. ``/readyz`` and the hook's probes pass (the hook retries a
  failed probe); under real traffic a steady share of reads and holds answer
  500, which only the 5xx-rate alarm can catch (scenario 5).

A defect is an unexpected exception (``ReleaseDefect``), not one of the store's
documented refusals: that is what a bug looks like to the app.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from flask import Flask

from api import create_app
from api.stores import EXTENSION

GOOD = "api.wsgi:app"


class ReleaseDefect(RuntimeError):
    """The planted bug."""


class DefectiveStore:
    """The app's store, with ``methods`` raising on every ``every``-th call of this process."""

    def __init__(self, store: Any, methods: set[str], every: int) -> None:
        self._store = store
        self._methods = methods
        self._every = every
        self._calls = itertools.count(1)
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if name not in self._methods:
            return attribute

        def defective(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                call = next(self._calls)
            if call % self._every == 0:
                raise ReleaseDefect(f"planted defect in {name} (call {call})")
            return attribute(*args, **kwargs)

        return defective


def _with_defect(methods: set[str], every: int) -> Flask:
    app = create_app()
    app.extensions[EXTENSION] = DefectiveStore(app.extensions[EXTENSION], methods, every)
    return app


def reads_fail() -> Flask:
    return _with_defect({"availability"}, every=1)


def fails_under_load() -> Flask:
    return _with_defect({"availability", "create_hold"}, every=2)


#: Release name -> gunicorn app spec.
RELEASES = {
    "good": GOOD,
    "reads-fail": "bench.cluster.releases:reads_fail()",
    "fails-under-load": "bench.cluster.releases:fails_under_load()",
}
