"""Catalog pages in a real browser: clean loads, live badges, and no JavaScript at all."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from browser.harness import SiteServer, Visitor
from playwright.sync_api import expect

pytestmark = pytest.mark.slow

IN_STOCK = "https://schema.org/InStock"
PUBLISHED = {"onda": "R$ 1.200,00", "raiz": "R$ 800,50", "vela": "R$ 950,00"}
LIVE_LABELS = {"onda": "Disponível", "raiz": "Disponível: 3 de 3", "vela": "Disponível: 5 de 5"}


@pytest.mark.parametrize("path", ["/", "/esculturas/raiz/", "/esculturas/", "/artistas/ana-lima/"])
def test_page_loads_with_no_errors_and_no_request_off_localhost(
    site: SiteServer, visit: Callable[..., Visitor], path: str
) -> None:
    visitor = visit(site)
    page = visitor.goto(path)
    expect(page.locator("[data-availability]").first).not_to_have_attribute("data-state", "")
    badges = page.locator("[data-availability]")
    for i in range(badges.count()):
        expect(badges.nth(i)).to_have_attribute("data-state", "available")
    visitor.settle()
    visitor.watch.assert_clean()
    assert any("/api/v1/availability?ids=" in url for url in visitor.watch.requests)
    images = page.locator("main img")
    assert images.count() > 0
    for i in range(images.count()):
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0"), i


def test_home_page_badges_show_live_availability(
    site: SiteServer, visit: Callable[..., Visitor]
) -> None:
    page = visit(site).goto("/")
    for slug, label in LIVE_LABELS.items():
        for badge in page.locator(f'[data-sculpture="{slug}"] [data-availability]').all():
            expect(badge).to_have_text(label)


def test_sculpture_page_shows_live_badge_and_keeps_product_in_stock(
    site: SiteServer, visit: Callable[..., Visitor]
) -> None:
    visitor = visit(site)
    page = visitor.goto("/esculturas/raiz/")
    badge = page.locator("article.piece [data-availability]")
    expect(badge).to_have_text("Disponível: 3 de 3")
    expect(badge).to_have_attribute("data-state", "available")
    expect(page.get_by_role("button", name="Reservar por 30 minutos")).to_be_visible()
    product = visitor.product_ld()
    assert product["sku"] == "raiz"
    assert product["offers"]["availability"] == IN_STOCK
    visitor.watch.assert_clean()


def test_pages_work_without_javascript(site: SiteServer, visit: Callable[..., Visitor]) -> None:
    visitor = visit(site, java_script_enabled=False)
    page = visitor.goto("/")
    expect(page.locator("h1")).to_have_text("Uma galeria pequena para os testes")
    for slug, price in PUBLISHED.items():
        card = page.locator(f'li.card[data-sculpture="{slug}"]').first
        expect(card.locator(".price")).to_contain_text(price)
        expect(card.locator("[data-availability]")).to_have_text("Disponibilidade sob consulta")
        expect(card.locator(f'a[href="/esculturas/{slug}/"]')).to_be_visible()

    visitor.settle()  # let the favicon load before navigating away, or it counts as aborted
    page.locator('li.card[data-sculpture="raiz"] a').first.click()
    expect(page).to_have_url(site.url("/esculturas/raiz/"))
    piece = page.locator("article.piece")
    expect(piece.locator("h1")).to_have_text("Raiz")
    expect(piece.locator(".price")).to_have_text("R$ 800,50")
    expect(piece.locator("[data-availability]")).to_have_text("Disponibilidade sob consulta")
    expect(piece.locator("[data-hold]")).to_be_hidden()
    expect(piece.get_by_role("button", name="Reservar por 30 minutos")).to_be_hidden()
    expect(piece.get_by_role("link", name="Bruno Reis")).to_have_attribute(
        "href", "/artistas/bruno-reis/"
    )
    expect(piece.locator(".description")).to_contain_text("Descrição de Raiz.")
    assert visitor.product_availability() == IN_STOCK

    visitor.settle()
    page.get_by_role("link", name="madeira").click()
    expect(page).to_have_url(site.url("/materiais/madeira/"))
    expect(page.locator('li.card[data-sculpture="raiz"]')).to_have_count(1)

    visitor.settle()
    # Chromium with scripting disabled by the DevTools protocol still parses <noscript> as
    # raw text, so its content is checked, not its visibility.
    page.goto("/busca/?q=bronze")
    expect(page.locator("h1")).to_have_text("Buscar no catálogo")
    assert "A busca precisa de JavaScript." in (page.locator("noscript").text_content() or "")
    visitor.watch.assert_clean()
    assert not any("/api/" in url for url in visitor.watch.requests)


@pytest.mark.parametrize("http_cache", [False, True], ids=["route", "resolver"])
def test_requests_to_other_hosts_are_stopped_and_recorded(
    site: SiteServer, visit: Callable[..., Visitor], http_cache: bool
) -> None:
    """The guard the other tests rely on: by a route, or by the browser's resolver rules."""
    visitor = visit(site, http_cache=http_cache)
    page = visitor.goto("/")
    outcome = page.evaluate(
        """() => fetch("http://example.com/x.js", { mode: "no-cors" })
                 .then(() => "loaded", (error) => "stopped: " + error.name)"""
    )
    assert outcome == "stopped: TypeError"
    assert visitor.watch.outside == ["http://example.com/x.js"]
