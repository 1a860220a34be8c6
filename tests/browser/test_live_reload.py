"""`flask run --debug` in a real browser: an open page follows the editor's changes by itself.

The server is `flask run --debug` as an editor starts it (code reloader,
debugger and live reload on), in a folder holding a copy of the fixture
catalog. The test only edits files; it never touches the browser after
opening the page.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser.harness import SiteServer, Visitor
from playwright.sync_api import Frame, Page, expect
from support.paths import FIXTURE_CATALOG
from support.servers import ServerProcess, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def live_site(tmp_path: Path, image_cache: Path) -> Iterator[SiteServer]:
    work = tmp_path / "live"
    shutil.copytree(FIXTURE_CATALOG, work / "content")
    port = free_port()
    flask = Path(sys.executable).with_name("flask")
    env = {
        "FLASK_APP": "storefront",
        "STOREFRONT_IMAGE_CACHE_DIR": str(image_cache),
        "API_STORE_URL": f"sqlite:///{work / 'availability.sqlite3'}",
    }
    server = ServerProcess.start(
        [str(flask), "run", "--debug", "--port", str(port)],
        port=port,
        env=env,
        cwd=work,
        ready_path="/robots.txt",
        log_path=tmp_path / "flask-run.log",
        timeout=60,
    )
    try:
        yield SiteServer(work, server)
    finally:
        server.stop(timeout=10)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def navigations(page: Page) -> list[str]:
    """Every document the page loads from now on (its own reloads included)."""
    seen: list[str] = []

    def navigated(frame: Frame) -> None:
        if frame.parent_frame is None:
            seen.append(frame.url)

    page.on("framenavigated", navigated)
    return seen


def test_an_open_page_follows_edits_and_shows_content_errors_by_itself(
    live_site: SiteServer, visit: Callable[..., Visitor]
) -> None:
    visitor = visit(live_site)
    page = visitor.goto("/esculturas/onda/")
    loads = navigations(page)
    heading = page.locator("main h1")
    expect(heading).to_have_text("Onda")
    onda = live_site.work / "content" / "sculptures" / "onda.yaml"

    edit(onda, "title: Onda\n", "title: Onda Nova\n")
    expect(heading).to_have_text("Onda Nova")
    expect(page).to_have_title(re.compile(r"^Onda Nova, "))

    edit(onda, "year: 2020\n", 'year: "dois mil"\n')  # the catalog stops validating
    year_line = onda.read_text(encoding="utf-8").splitlines().index('year: "dois mil"') + 1
    problem = page.locator("tr.problem")
    expect(problem).to_have_count(1)
    cells = problem.locator("td")
    expect(cells).to_have_text(
        [
            "content/sculptures/onda.yaml",
            str(year_line),
            "7",
            "year",
            "Input should be a valid integer",
        ]
    )
    expect(page.get_by_text("Traceback")).to_have_count(0)

    edit(onda, 'year: "dois mil"\n', "year: 2020\n")
    expect(heading).to_have_text("Onda Nova")
    assert len(loads) >= 3 and all(url.endswith("/esculturas/onda/") for url in loads)
    assert visitor.watch.page_errors == [] and visitor.watch.outside == []
