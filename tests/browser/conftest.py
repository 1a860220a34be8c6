"""Browser fixtures: one chromium per session, one served fixture site per need.

Chromium is Debian's (`apt-get install chromium`, in mk/browser.mk): Playwright
cannot download its own browser here. A missing chromium fails the suite, it
does not skip it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser.harness import CHROMIUM, CHROMIUM_ARGS, SiteServer, Visitor, serve_fixture_site
from playwright.sync_api import Browser, expect, sync_playwright

# Generous: the suite also runs on busy two-core CI machines.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install the Debian package (make system-deps)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def image_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Encoded images, shared by every build of the fixture catalog in the session."""
    return tmp_path_factory.mktemp("images")


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, image_cache: Path) -> Iterator[SiteServer]:
    """The fixture catalog with a working API, shared by the suites that only read."""
    with serve_fixture_site(tmp_path_factory.mktemp("site"), images=image_cache) as server:
        yield server


@pytest.fixture
def visit(browser: Browser) -> Iterator[Callable[..., Visitor]]:
    """``visit(site, **context_options)``: a new visitor (browser context), closed afterwards."""
    visitors: list[Visitor] = []

    def new_visitor(site: SiteServer, **context_options: Any) -> Visitor:
        visitor = Visitor(browser, site, **context_options)
        visitors.append(visitor)
        return visitor

    yield new_visitor
    for visitor in visitors:
        visitor.close()
