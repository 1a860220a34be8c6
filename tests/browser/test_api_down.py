"""With the availability API failing for real, pages stay usable and say so."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser.harness import SiteServer, Visitor, serve_fixture_site
from playwright.sync_api import Route, expect
from support.servers import request

pytestmark = pytest.mark.slow

UNKNOWN = "Disponibilidade desconhecida no momento"


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory, image_cache: Path) -> Iterator[SiteServer]:
    """The store URL names a folder, so the API cannot open its store: every call fails."""
    work = tmp_path_factory.mktemp("api-down")
    store = work / "not-a-database"
    store.mkdir()
    with serve_fixture_site(work, images=image_cache, store_url=f"sqlite:///{store}") as server:
        yield server


def api_failures(visitor: Visitor) -> tuple[list[str], list[str]]:
    """(failed requests other than the API's, console errors other than its failed loads)."""
    others = [f for f in visitor.watch.failed if "/api/v1/availability?" not in f]
    console = [c for c in visitor.watch.console_errors if "Failed to load resource" not in c]
    return others, console


def test_the_api_really_fails(broken: SiteServer) -> None:
    assert request("GET", broken.url("/api/v1/availability?ids=raiz")).status >= 500
    assert request("GET", broken.url("/esculturas/raiz/")).status == 200


@pytest.mark.parametrize("path", ["/", "/esculturas/raiz/"])
def test_pages_say_availability_is_unknown_and_stay_usable(
    broken: SiteServer, visit: Callable[..., Visitor], path: str
) -> None:
    visitor = visit(broken)
    page = visitor.goto(path)
    badges = page.locator("[data-availability]")
    assert badges.count() > 0
    for i in range(badges.count()):
        expect(badges.nth(i)).to_have_text(UNKNOWN)
        expect(badges.nth(i)).to_have_attribute("data-state", "unknown")
    expect(page.get_by_role("button", name="Reservar por 30 minutos")).to_be_hidden()
    visitor.settle()
    assert visitor.watch.page_errors == []
    assert visitor.watch.outside == []
    assert any("/api/v1/availability?" in f for f in visitor.watch.failed)
    assert api_failures(visitor) == ([], [])
    expect(page.locator(".price").first).to_contain_text("R$")

    page.get_by_role("link", name="Esculturas", exact=True).first.click()
    expect(page).to_have_url(broken.url("/esculturas/"))
    expect(page.locator("li.card")).not_to_have_count(0)
    expect(page.locator("[data-availability]").first).to_have_text(UNKNOWN)


def test_product_json_ld_keeps_the_frozen_availability(
    broken: SiteServer, visit: Callable[..., Visitor]
) -> None:
    visitor = visit(broken)
    page = visitor.goto("/esculturas/onda/")
    expect(page.locator("article.piece [data-availability]")).to_have_text(UNKNOWN)
    assert visitor.product_availability() == "https://schema.org/InStock"
    assert visitor.watch.page_errors == []


def test_a_failing_api_is_asked_a_few_times_then_the_page_says_unknown(
    broken: SiteServer, visit: Callable[..., Visitor]
) -> None:
    visitor = visit(broken)
    page = visitor.goto("/esculturas/raiz/")
    expect(page.locator("article.piece [data-availability]")).to_have_text(UNKNOWN)
    rules = page.evaluate("() => sculptureStoreClient.RETRY")
    reads = [url for url in visitor.watch.requests if "/api/v1/availability?" in url]
    assert len(reads) == rules["attempts"]  # an error answer: a few tries, then give up


def test_a_read_that_gets_no_answer_is_tried_again_and_the_page_shows_live_availability(
    site: SiteServer, visit: Callable[..., Visitor]
) -> None:
    """As when the load balancer still sends connections to a node that just died."""
    visitor = visit(site)
    lost: list[str] = []

    def drop_two(route: Route) -> None:
        if len(lost) < 2:
            lost.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    visitor.page.route("**/api/v1/availability?*", drop_two)
    page = visitor.goto("/esculturas/vela/")
    badge = page.locator("article.piece [data-availability]")
    expect(badge).to_have_attribute("data-state", "available")
    expect(badge).to_contain_text("Disponível")
    reads = [url for url in visitor.watch.requests if "/api/v1/availability?" in url]
    assert len(reads) == 3 and len(set(reads)) == 1
    assert page.get_by_role("button", name="Reservar por 30 minutos").is_visible()
