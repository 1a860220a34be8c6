"""Render planned pages with Frozen-Flask, in forked workers when it pays."""

from __future__ import annotations

import multiprocessing
import sys
import warnings
from collections.abc import Iterator

from flask import Flask
from flask_frozen import Freezer, FrozenFlaskWarning, MissingURLGeneratorWarning
from storefront.common.heap import shared_heap
from storefront.freeze.client import FreezeClient
from storefront.freeze.plan import PlannedPage
from storefront.pages import fragments
from storefront.pages.urls import path_prefix

PARALLEL_THRESHOLD = 64


CARD_WARM_UP_PAGES = 1000  # a build this big shows (nearly) every card


_WORKER_APP: Flask | None = None


def render(app: Flask, pages: list[PlannedPage], workers: int) -> None:
    """Render pages with Frozen-Flask, in forked workers when it pays."""
    global _WORKER_APP
    if not pages:
        return
    if len(pages) < PARALLEL_THRESHOLD or workers < 2 or sys.platform != "linux":
        _freeze_share(app, pages)
        return
    _warm_up(app, pages)
    shares = [pages[i::workers] for i in range(workers)]
    _WORKER_APP = app
    try:
        with shared_heap():
            pool = multiprocessing.get_context("fork").Pool(workers)
        with pool:
            pool.map(_freeze_worker, shares, chunksize=1)
    finally:
        _WORKER_APP = None


def _warm_up(app: Flask, pages: list[PlannedPage]) -> None:
    """Compile every template once, before forking, so workers inherit them.

    One HTML page per endpoint also fills the per-process fragment memos (page
    chrome, macros) that every page uses. Feeds and the sitemap share nothing
    and the sitemap is dear, so they are left to the workers.
    """
    client = app.test_client()
    seen = set()
    base = path_prefix(app.config["FREEZER_BASE_URL"])
    for page in pages:
        if page.endpoint in seen or not page.url.endswith("/"):
            continue
        seen.add(page.endpoint)
        client.get(base + page.url, base_url=app.config["FREEZER_BASE_URL"]).close()
    if len(pages) >= CARD_WARM_UP_PAGES:
        # Every listing shows cards: render each once here, not once per worker.
        index = app.extensions["catalog_index"]
        with app.test_request_context(base + "/", base_url=app.config["FREEZER_BASE_URL"]):
            fragments.cards(index.published, index)


def _freeze_worker(pages: list[PlannedPage]) -> int:
    assert _WORKER_APP is not None
    return _freeze_share(_WORKER_APP, pages)


def _freeze_share(app: Flask, pages: list[PlannedPage]) -> int:
    freezer = Freezer(app, with_static_files=False, with_no_argument_rules=False, log_url_for=False)

    @freezer.register_generator
    def share() -> Iterator[str]:
        # The planned URLs, which are url_for's (a test checks): no second url_for per page.
        for page in pages:
            yield page.url

    client_class = app.test_client_class
    app.test_client_class = FreezeClient
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", FrozenFlaskWarning)
            # Each worker sees only its share; coverage is checked on the whole plan.
            warnings.simplefilter("ignore", MissingURLGeneratorWarning)
            return len(freezer.freeze())
    finally:
        app.test_client_class = client_class
