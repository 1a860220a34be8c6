"""Keyboard use in a real browser: landmarks, a skip link, visible focus, search by keyboard."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser.harness import SiteServer, Visitor
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.slow

PAGES = ["/", "/esculturas/raiz/", "/esculturas/", "/artistas/ana-lima/", "/sobre/"]

FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName, text: (el.innerText || el.value || '').trim(), id: el.id,
    outline: style.outlineStyle, width: parseFloat(style.outlineWidth),
    visible: box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0,
  };
}"""


def tab(page: Page) -> dict:
    page.keyboard.press("Tab")
    return page.evaluate(FOCUSED)


@pytest.mark.parametrize("path", PAGES)
def test_landmarks_and_alt_text(site: SiteServer, visit: Callable[..., Visitor], path: str) -> None:
    page = visit(site).goto(path)
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("contentinfo")).to_have_count(1)
    expect(page.get_by_role("navigation", name="Principal")).to_have_count(1)
    expect(page.get_by_role("search")).to_have_count(1)
    assert page.locator("img:not([alt])").count() == 0
    assert page.locator("img[alt='']").count() == 0


@pytest.mark.parametrize("path", PAGES)
def test_every_focus_stop_is_visible(
    site: SiteServer, visit: Callable[..., Visitor], path: str
) -> None:
    page = visit(site).goto(path)
    first = tab(page)
    assert (first["tag"], first["text"]) == ("A", "Pular para o conteúdo")
    seen = 0
    for _ in range(25):
        focused = first if seen == 0 else tab(page)
        if focused["tag"] == "BODY":
            break
        seen += 1
        assert focused["visible"], focused
        assert focused["outline"] == "solid" and focused["width"] >= 2, focused
    assert seen >= 8


def test_the_skip_link_moves_focus_to_the_content(
    site: SiteServer, visit: Callable[..., Visitor]
) -> None:
    page = visit(site).goto("/esculturas/raiz/")
    tab(page)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "conteudo"
    assert page.url.endswith("#conteudo")


def test_search_is_operable_from_the_keyboard(
    site: SiteServer, visit: Callable[..., Visitor]
) -> None:
    visitor = visit(site)
    page = visitor.goto("/esculturas/raiz/")
    for _ in range(25):
        if tab(page)["id"] == "busca-q":
            break
    else:
        pytest.fail("the search field is not reachable with Tab")
    page.keyboard.type("bronze")
    page.keyboard.press("Enter")
    page.wait_for_url("**/busca/?q=bronze")
    expect(page.locator(".pagefind-ui__message")).to_contain_text("resultado")
    visitor.settle()
    visitor.watch.assert_clean()


# axe-core, the engine behind Lighthouse's accessibility score, with every WCAG
# 2.x A and AA rule: contrast of every text against what is behind it, names of
# controls and links, list and heading structure, language, and the rest.
WCAG_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}


def assert_meets_wcag_aa(page: Page) -> None:
    results = Axe().run(page, options=WCAG_AA)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("path", [*PAGES, "/404.html"])
def test_pages_meet_wcag_aa_contrast_included(
    site: SiteServer, visit: Callable[..., Visitor], path: str
) -> None:
    assert_meets_wcag_aa(visit(site).goto(path))


def test_search_results_and_filters_meet_wcag_aa(
    site: SiteServer, visit: Callable[..., Visitor]
) -> None:
    page = visit(site).goto("/busca/?q=bronze")
    expect(page.locator(".pagefind-ui__message")).to_contain_text("resultado")
    expect(page.locator(".pagefind-ui__result").first).to_be_visible()
    assert_meets_wcag_aa(page)
