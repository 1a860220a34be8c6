"""Static search (pagefind UI) on the frozen site: one bundle, and several merged."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser.harness import SiteServer, Visitor, serve_fixture_site
from playwright.sync_api import Page, expect
from storefront.search import shards as search_index

pytestmark = pytest.mark.slow

FILTERS = ["Artista", "Faixa de preço", "Material", "Tema"]
RESULT_TITLES = ".pagefind-ui__result-title"


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory, image_cache: Path) -> Iterator[SiteServer]:
    """The fixture catalog indexed one page per shard, so the search page merges bundles."""
    work = tmp_path_factory.mktemp("sharded")
    with serve_fixture_site(work, images=image_cache, shard_size=1) as server:
        yield server


def search(visitor: Visitor, query: str) -> Page:
    page = visitor.goto(f"/busca/?q={query}")
    expect(page.locator(".pagefind-ui__message")).to_contain_text("resultado")
    visitor.settle()
    return page


def titles(page: Page) -> list[str]:
    return sorted(page.locator(RESULT_TITLES).all_inner_texts())


def check_results_and_filters(visitor: Visitor) -> None:
    page = search(visitor, "bronze")
    expect(page.locator(RESULT_TITLES)).to_have_count(2)
    assert titles(page) == ["Onda", "Vela"]
    expect(page.locator(".pagefind-ui__filter-name")).to_have_text(FILTERS)
    for link in page.locator(f"{RESULT_TITLES} a").all():
        assert link.get_attribute("href") in {"/esculturas/onda/", "/esculturas/vela/"}
    for image in page.locator(".pagefind-ui__result-image").all():
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
        assert image.get_attribute("alt") in {"Foto de Onda.", "Foto de Vela."}

    page = search(visitor, "abstrato")
    expect(page.locator(RESULT_TITLES)).to_have_count(3)
    page.get_by_text("Material", exact=True).click()
    page.get_by_label("madeira").check()
    expect(page.locator(RESULT_TITLES)).to_have_count(1)
    assert titles(page) == ["Raiz"]
    visitor.watch.assert_clean()


def test_search_shows_results_and_filters(site: SiteServer, visit: Callable[..., Visitor]) -> None:
    assert search_index.bundles_for(["onda", "raiz", "vela"]) == ["pagefind"]
    check_results_and_filters(visit(site))


def test_search_merges_several_shards(sharded: SiteServer, visit: Callable[..., Visitor]) -> None:
    bundles = sorted(p.name for p in sharded.build.glob("pagefind*") if p.is_dir())
    assert len(bundles) > 1, bundles
    html = (sharded.build / "busca" / "index.html").read_text(encoding="utf-8")
    assert f'data-bundles="{" ".join(f"/{b}/" for b in bundles)}"' in html
    visitor = visit(sharded)
    check_results_and_filters(visitor)
    loaded = {url.split("/")[3] for url in visitor.watch.requests if "/pagefind" in url}
    assert set(bundles) <= loaded


def test_merged_bundles_share_one_download_of_pagefinds_webassembly(
    sharded: SiteServer, visit: Callable[..., Visitor]
) -> None:
    """Each bundle adds its own small index files, not another copy of the search engine.

    pagefind's mergeIndex initialises merged bundles without loading their
    WebAssembly: the shard size is a trade between an edit's re-index and
    index files, not between that and megabytes of engine.
    """
    html = (sharded.build / "busca" / "index.html").read_text(encoding="utf-8")
    primary, *others = html.split('data-bundles="', 1)[1].split('"', 1)[0].split()
    assert others
    visitor = visit(sharded)
    search(visitor, "bronze")
    engines = [url for url in visitor.watch.requests if "/wasm." in url]
    assert engines == [f"{sharded.base_url}{primary}wasm.pt-BR.pagefind"], engines
    for bundle in others:  # each merged bundle was searched, from its own index files
        assert any(url.startswith(sharded.base_url + bundle) for url in visitor.watch.requests)
