"""Placing a hold in the browser, and what the next visitor sees (own server and store)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from browser.harness import SiteServer, Visitor, serve_fixture_site
from playwright.sync_api import Page, Request, Route, expect

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


# --------------------------------------------------------------------------- retries and refusals
#
# A server behind a pretend CloudFront: the API trusts one proxy hop, so each
# browser context, sending its own X-Forwarded-For, is a visitor of its own; and
# a visitor may hold one piece at once, so the hold policy's refusals are
# reachable with the fixture catalog's three pieces.

MESSAGES = {
    "too-many-holds": (
        "Você já tem 3 peças reservadas. Espere uma reserva terminar para reservar outra."
    ),
    "piece-held-recently": (
        "Você já reservou esta peça há pouco; ela fica livre para outras pessoas por um tempo."
    ),
    "rate-limited": "Muitas tentativas; tente de novo em alguns minutos.",
}


@pytest.fixture(scope="module")
def cdn_shop(tmp_path_factory: pytest.TempPathFactory, image_cache: Path) -> Iterator[SiteServer]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("API_TRUSTED_PROXY_HOPS", "1")
        patch.setenv("API_HOLDS_PER_VISITOR", "1")
        with serve_fixture_site(tmp_path_factory.mktemp("cdn-hold"), images=image_cache) as server:
            yield server


def visitor_at(visit: Callable[..., Visitor], shop: SiteServer, address: str) -> Visitor:
    return visit(shop, extra_http_headers={"X-Forwarded-For": address})


def hold_requests(page: Page) -> list[Request]:
    seen: list[Request] = []
    page.on("request", lambda r: seen.append(r) if r.url.endswith("/api/v1/holds") else None)
    return seen


def test_a_hold_whose_answer_was_lost_is_sent_again_and_makes_one_hold(
    cdn_shop: SiteServer, visit: Callable[..., Visitor]
) -> None:
    visitor = visitor_at(visit, cdn_shop, "198.51.100.11")
    page = visitor.goto("/esculturas/raiz/")
    badge = page.locator("article.piece [data-availability]")
    expect(badge).to_have_text("Disponível: 3 de 3")
    answers: list[int] = []

    def lose_the_first_answer(route: Route) -> None:
        if not answers:
            answers.append(route.fetch().status)  # the API made the hold...
            route.abort("connectionreset")  # ...and the page never heard of it
        else:
            route.continue_()

    page.route("**/api/v1/holds", lose_the_first_answer)
    sent = hold_requests(page)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/holds") and r.ok) as placed:
        page.get_by_role("button", name=HOLD_BUTTON).click()
    assert answers == [201]
    assert placed.value.headers.get("idempotent-replayed") == "true"
    assert len({r.headers["idempotency-key"] for r in sent}) == 1 and len(sent) == 2
    expect(page.locator("[data-hold-status]")).to_contain_text("Reservada para você até")
    expect(badge).to_have_text("Disponível: 2 de 3")  # one hold, not two


def test_a_busy_answer_with_retry_after_is_waited_for_then_tried_again(
    cdn_shop: SiteServer, visit: Callable[..., Visitor]
) -> None:
    visitor = visitor_at(visit, cdn_shop, "198.51.100.12")
    page = visitor.goto("/esculturas/vela/")
    expect(page.locator("article.piece [data-availability]")).to_have_text("Disponível: 5 de 5")
    busy = {"answered": 0}

    def busy_once(route: Route) -> None:
        if busy["answered"]:
            route.continue_()
            return
        busy["answered"] += 1
        route.fulfill(
            status=503,
            headers={"Retry-After": "1", "Content-Type": "application/problem+json"},
            body='{"type": "tag:sculpture-store,2025:problem:busy", "status": 503}',
        )

    page.route("**/api/v1/holds", busy_once)
    sent = hold_requests(page)
    page.get_by_role("button", name=HOLD_BUTTON).click()
    expect(page.locator("[data-hold-status]")).to_contain_text("Reservada para você até")
    first, second = sent
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert second.timing["startTime"] - first.timing["startTime"] >= 1000


def test_the_hold_policy_refusals_say_what_the_visitor_can_do(
    cdn_shop: SiteServer, visit: Callable[..., Visitor]
) -> None:
    import json

    from support.servers import request

    visitor = visitor_at(visit, cdn_shop, "198.51.100.13")
    page = visitor.goto("/esculturas/vela/")
    with page.expect_response("**/api/v1/holds") as placed:
        page.get_by_role("button", name=HOLD_BUTTON).click()
    hold = placed.value.json()

    page = visitor.goto("/esculturas/raiz/")  # a second piece, over this visitor's one
    with page.expect_response("**/api/v1/holds") as refused:
        page.get_by_role("button", name=HOLD_BUTTON).click()
    assert refused.value.status == 429
    expect(page.locator("[data-hold-status]")).to_have_text(MESSAGES["too-many-holds"])
    expect(page.get_by_role("button", name=HOLD_BUTTON)).to_be_enabled()

    released = request(
        "DELETE",
        cdn_shop.url(f"/api/v1/holds/{hold['id']}"),
        headers={"Authorization": f"Bearer {hold['release_token']}"},
    )
    assert released.status == 204
    again = visitor_at(visit, cdn_shop, "198.51.100.13")  # a new tab: no hold remembered
    page = again.goto("/esculturas/vela/")
    with page.expect_response("**/api/v1/holds") as refused:
        page.get_by_role("button", name=HOLD_BUTTON).click()
    assert json.loads(refused.value.body())["type"].endswith(":piece-held-recently")
    expect(page.locator("[data-hold-status]")).to_have_text(MESSAGES["piece-held-recently"])


def test_the_cdns_own_429_asks_for_a_few_minutes_and_is_not_retried(
    cdn_shop: SiteServer, visit: Callable[..., Visitor]
) -> None:
    visitor = visitor_at(visit, cdn_shop, "198.51.100.14")
    page = visitor.goto("/esculturas/vela/")
    page.route(
        "**/api/v1/holds",
        lambda route: route.fulfill(
            status=429, content_type="application/json", body='{"message": "Too Many Requests"}'
        ),
    )
    sent = hold_requests(page)
    page.get_by_role("button", name=HOLD_BUTTON).click()
    expect(page.locator("[data-hold-status]")).to_have_text(MESSAGES["rate-limited"])
    assert len(sent) == 1
