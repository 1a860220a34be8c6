"""Build, serve and visit the fixture catalog in a real browser (Debian's chromium).

A ``SiteServer`` is the fixture catalog frozen with its ``base_url`` rewritten to
``http://127.0.0.1:PORT/`` (so every absolute URL points at the local server),
served by ``python -m storefront serve`` in a subprocess that is stopped by its
PID. A ``Visitor`` is one browser context (one visitor: own cache, cookies and
storage) whose requests are watched: console errors, uncaught exceptions,
failed requests, HTTP errors, and any request to a host other than the local
server, which is aborted before it leaves the machine.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    Route,
)
from storefront.freeze.build import freeze_site
from storefront.search import shards as search_index
from support.paths import FIXTURE_CATALOG
from support.servers import ServerProcess, free_port
from support.site_build import site_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # A second guard besides the per-context routes: no host name resolves.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
LOCAL_SCHEMES = {"data", "blob", "about"}
_BASE_URL_LINE = re.compile(r"^base_url:.*$", re.M)


@dataclass
class SiteServer:
    """A frozen copy of the fixture catalog, served like CloudFront serves the real one."""

    work: Path
    server: ServerProcess

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def build(self) -> Path:
        return self.work / "site"

    def url(self, path: str) -> str:
        return self.server.url(path)


def build_fixture_site(
    work: Path, port: int, *, images: Path, shard_size: int | None = None
) -> Path:
    """Freeze the fixture catalog into ``work/site`` for a server on ``port``."""
    content = work / "content"
    shutil.copytree(FIXTURE_CATALOG, content)
    site_yaml = content / "site.yaml"
    text = site_yaml.read_text(encoding="utf-8")
    site_yaml.write_text(
        _BASE_URL_LINE.sub(f"base_url: http://127.0.0.1:{port}/", text, count=1), encoding="utf-8"
    )
    with pytest.MonkeyPatch.context() as patch:
        if shard_size is not None:
            patch.setattr(search_index, "SHARD_SIZE", shard_size)
        freeze_site(site_app(content, work, IMAGE_CACHE_DIR=images))
    return work / "site"


@contextmanager
def serve_fixture_site(
    work: Path,
    *,
    images: Path | None = None,
    shard_size: int | None = None,
    store_url: str | None = None,
) -> Iterator[SiteServer]:
    """Freeze, then serve with the availability API on ``store_url`` (default: a fresh file).

    ``images`` is the image cache, which builds of the same catalog can share.
    """
    port = free_port()
    images = images or work / "images"
    build_fixture_site(work, port, images=images, shard_size=shard_size)
    env = {
        "STOREFRONT_CONTENT_DIR": str(work / "content"),
        "STOREFRONT_BUILD_DIR": str(work / "site"),
        "STOREFRONT_CACHE_DIR": str(work / "cache"),
        "STOREFRONT_PARSE_CACHE_FILE": str(work / "cache" / "content.pickle"),
        "STOREFRONT_IMAGE_CACHE_DIR": str(images),
        "API_STORE_URL": store_url or f"sqlite:///{work / 'availability.sqlite3'}",
    }
    argv = [sys.executable, "-m", "storefront", "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = ServerProcess.start(
        argv, port=port, env=env, cwd=work, ready_path="/", log_path=work / "server.log"
    )
    try:
        yield SiteServer(work, server)
    finally:
        server.stop(timeout=10)


@dataclass
class Watch:
    """What a visitor's pages did that a clean page load must not do."""

    origin: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def is_local(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in LOCAL_SCHEMES or f"{parts.scheme}://{parts.netloc}" == self.origin

    def on_request(self, request: Request) -> None:
        self.requests.append(request.url)
        if not self.is_local(request.url):
            self.outside.append(request.url)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url')})")

    def on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.request.method} {response.url}")

    def on_request_failed(self, request: Request) -> None:
        if self.is_local(request.url):  # outside requests are aborted on purpose, listed apart
            self.failed.append(f"{request.failure} {request.method} {request.url}")

    def assert_clean(self) -> None:
        """No console error, uncaught exception, failed request or request off 127.0.0.1."""
        assert self.requests, "no request was seen"
        problems = {
            "outside": self.outside,
            "page_errors": self.page_errors,
            "failed": self.failed,
            "console_errors": self.console_errors,
        }
        assert {k: v for k, v in problems.items() if v} == {}


class Visitor:
    """One browser context with a page, its requests kept on 127.0.0.1 and watched.

    Requests to any other host are aborted by a route. Playwright turns the HTTP
    cache off in a context with routes, so ``http_cache=True`` leaves the route
    out (and relies on the browser's host-resolver rules) when a test is about
    what a real visitor's cache does; other hosts are recorded either way.
    """

    def __init__(
        self, browser: Browser, site: SiteServer, *, http_cache: bool = False, **options: Any
    ) -> None:
        self.site = site
        self.watch = Watch(site.base_url)
        self.context: BrowserContext = browser.new_context(
            base_url=site.base_url, service_workers="block", **options
        )
        if not http_cache:
            self.context.route(lambda url: not self.watch.is_local(url), _abort)
        self.context.on("request", self.watch.on_request)
        self.context.on("response", self.watch.on_response)
        self.context.on("requestfailed", self.watch.on_request_failed)
        self.page: Page = self.context.new_page()
        self.page.on("console", self.watch.on_console)
        self.page.on("pageerror", lambda error: self.watch.page_errors.append(str(error)))

    def goto(self, path: str) -> Page:
        response = self.page.goto(path, wait_until="load")
        assert response is not None and response.status == 200, (path, response)
        return self.page

    def settle(self) -> None:
        """Wait until the page has no request in flight (badges fetched, search loaded)."""
        self.page.wait_for_load_state("networkidle")

    def product_availability(self) -> str:
        """offers.availability of the page's Product JSON-LD, as the page holds it now."""
        return self.product_ld()["offers"]["availability"]

    def product_ld(self) -> dict[str, Any]:
        blocks: Sequence[str] = self.page.locator(
            'script[type="application/ld+json"]'
        ).all_text_contents()
        products = [d for d in map(json.loads, blocks) if d.get("@type") == "Product"]
        assert len(products) == 1, blocks
        return products[0]

    def close(self) -> None:
        self.context.close()


def _abort(route: Route) -> None:
    route.abort("blockedbyclient")
