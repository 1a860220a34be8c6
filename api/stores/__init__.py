"""The availability store: the interface and one module per backend.

Layout, and what each module may import:

* ``api.stores.interface`` -- values, refusals and the abstract ``Store``. It
  imports no backend and nothing else of ``api``.
* ``api.stores.sqlite`` and ``api.stores.dynamodb`` -- one backend each. They
  import the interface modules, never this package and never each other.
* this package -- ``open_store`` picks a backend by URL scheme (imported lazily,
  so a SQLite-only process never loads boto3) and attaches it to the app.

Adding a backend: a module implementing ``Store`` that passes the shared
contract suite (tests/api run every store-backed test on each backend), and one
entry in ``BACKENDS``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from api.stores.interface import DEFAULT_TIME_BUDGET_SECONDS, Store

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["BACKENDS", "Store", "get_store", "init_app", "open_store"]

#: URL scheme -> (module, factory taking the parsed URL). Factories check the URL's shape.
BACKENDS = {
    "sqlite": ("api.stores.sqlite", "from_url"),
    "dynamodb": ("api.stores.dynamodb", "from_url"),
}
EXTENSION = "availability_store"


def open_store(url: str, *, time_budget_seconds: float = DEFAULT_TIME_BUDGET_SECONDS) -> Store:
    """Build the store named by ``sqlite:///path`` or ``dynamodb://table``."""
    scheme = urlsplit(url).scheme
    if scheme not in BACKENDS:
        raise ValueError(f"STORE_URL {url!r}: scheme must be one of {', '.join(BACKENDS)}")
    module, factory = BACKENDS[scheme]
    return getattr(import_module(module), factory)(url, time_budget_seconds=time_budget_seconds)


def init_app(app: Flask) -> None:
    """Open the configured store once per app."""
    app.extensions[EXTENSION] = open_store(
        app.config["STORE_URL"], time_budget_seconds=app.config["STORE_TIME_BUDGET_SECONDS"]
    )


def get_store(app: Flask) -> Store:
    return app.extensions[EXTENSION]
