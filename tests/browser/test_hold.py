"""Placing a hold in the browser, and what the next visitor sees (own server and store)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from browser.harness import SiteServer, Visitor, serve_fixture_site
from playwright.sync_api import expect

pytestmark = pytest.mark.slow

ZONE = "America/Sao_Paulo"
HOLD_BUTTON = "Reservar por 30 minutos"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, image_cache: Path) -> Iterator[SiteServer]:
    """A server whose store only this module writes to (holds outlive a test)."""
    with serve_fixture_site(tmp_path_factory.mktemp("hold"), images=image_cache) as server:
        yield server


def local_time(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(ZONE)).strftime("%H:%M")


def test_hold_on_a_unique_piece_then_a_second_visitor_sees_it_reserved(
    shop: SiteServer, visit: Callable[..., Visitor]
) -> None:
    first = visit(shop, http_cache=True, timezone_id=ZONE, locale="pt-BR")
    page = first.goto("/esculturas/onda/")
    badge = page.locator("article.piece [data-availability]")
    expect(badge).to_have_text("Disponível")
    assert first.product_availability() == "https://schema.org/InStock"

    with page.expect_response("**/api/v1/holds") as placed:
        page.get_by_role("button", name=HOLD_BUTTON).click()
    assert placed.value.status == 201
    hold = placed.value.json()
    created = datetime.fromisoformat(hold["created_at"])
    expires = datetime.fromisoformat(hold["expires_at"])
    assert expires - created == timedelta(minutes=30)

    # The page then re-reads availability (not its cached copy) and keeps the hold message.
    expect(badge).to_have_text("Reservada no momento")
    first.settle()
    status = page.locator("[data-hold-status]")
    expect(status).to_contain_text(f"Reservada para você até {local_time(hold['expires_at'])}")
    expect(status).to_be_visible()
    expect(page.get_by_role("button", name=HOLD_BUTTON)).to_be_hidden()
    assert first.product_availability() == "https://schema.org/Reserved"
    first.watch.assert_clean()

    second = visit(shop, http_cache=True, timezone_id=ZONE, locale="pt-BR")
    page = second.goto("/esculturas/onda/")
    badge = page.locator("article.piece [data-availability]")
    expect(badge).to_have_text("Reservada no momento")
    expect(badge).to_have_attribute("data-state", "reserved")
    expect(page.locator("[data-hold]")).to_be_hidden()
    expect(page.get_by_role("button", name=HOLD_BUTTON)).to_be_hidden()
    assert second.product_availability() == "https://schema.org/Reserved"
    second.goto("/")
    for card_badge in page.locator('[data-sculpture="onda"] [data-availability]').all():
        expect(card_badge).to_have_text("Reservada no momento")
    second.watch.assert_clean()


def test_hold_on_an_edition_leaves_the_rest_available_to_others(
    shop: SiteServer, visit: Callable[..., Visitor]
) -> None:
    first = visit(shop, http_cache=True, timezone_id=ZONE, locale="pt-BR")
    page = first.goto("/esculturas/vela/")
    badge = page.locator("article.piece [data-availability]")
    expect(badge).to_have_text("Disponível: 5 de 5")
    with page.expect_response("**/api/v1/holds") as placed:
        page.get_by_role("button", name=HOLD_BUTTON).click()
    assert placed.value.status == 201
    expect(badge).to_have_text("Disponível: 4 de 5")
    first.settle()
    expect(page.locator("[data-hold-status]")).to_contain_text("Reservada para você até")
    expect(page.locator("[data-hold-status]")).to_be_visible()
    expect(page.get_by_role("button", name=HOLD_BUTTON)).to_be_hidden()
    assert first.product_availability() == "https://schema.org/InStock"
    first.watch.assert_clean()

    second = visit(shop, http_cache=True)
    page = second.goto("/esculturas/vela/")
    expect(page.locator("article.piece [data-availability]")).to_have_text("Disponível: 4 de 5")
    expect(page.get_by_role("button", name=HOLD_BUTTON)).to_be_visible()
    second.settle()
    second.watch.assert_clean()
