"""The frozen site is complete, valid, deterministic, and rebuilt incrementally."""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import html5lib
import pytest
from storefront.content.problems import ContentError
from storefront.freeze.build import freeze_site
from support.paths import FIXTURE_CATALOG
from support.site_build import freeze, site_app
from support.spying import record_calls

BASE = "https://teste.example/loja/"
PUBLISHED = {"onda", "raiz", "vela"}


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "pagefind" not in p.parts)


def tree_bytes(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def links_of(html: str) -> list[str]:
    found = re.findall(r'(?:href|src)="([^"]+)"', html)
    for srcset in re.findall(r'srcset="([^"]+)"', html):
        found += [part.strip().split(" ")[0] for part in srcset.split(",")]
    return found


def resolve(site: Path, page: Path, link: str) -> Path | None:
    """The frozen file a same-site link points to, or None for external links."""
    page_url = "/loja/" + page.relative_to(site).as_posix()
    absolute = urljoin("https://teste.example" + page_url, link)
    parts = urlsplit(absolute)
    if parts.netloc != "teste.example" or parts.scheme not in ("http", "https"):
        return None
    assert parts.path.startswith("/loja/"), f"{link} in {page} escapes the base path"
    path = parts.path[len("/loja/") :]
    return site / (path + "index.html" if path.endswith("/") or path == "" else path)


def test_every_internal_link_and_image_resolves_to_a_frozen_file(frozen: Path) -> None:
    broken = []
    for page in pages(frozen):
        for link in links_of(page.read_text(encoding="utf-8")):
            if link.startswith(("mailto:", "tel:")):
                continue
            target = resolve(frozen, page, link)
            if target is not None and not target.is_file():
                broken.append(f"{page.relative_to(frozen)} -> {link}")
    assert broken == []


def test_every_page_parses_as_html5_without_errors(frozen: Path) -> None:
    for page in pages(frozen):
        parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
        parser.parse(page.read_bytes())
        assert parser.errors == [], page


def test_sculpture_pages_carry_product_json_ld(frozen: Path) -> None:
    for slug in PUBLISHED:
        html = (frozen / "esculturas" / slug / "index.html").read_text(encoding="utf-8")
        blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
        products = [d for d in map(json.loads, blocks) if d["@type"] == "Product"]
        assert len(products) == 1
        product = products[0]
        assert product["name"]
        assert product["image"] and all(i.startswith(BASE + "img/") for i in product["image"])
        offer = product["offers"]
        assert offer["priceCurrency"] == "BRL"
        assert float(offer["price"]) > 0
        assert offer["availability"] == "https://schema.org/InStock"
        assert any(d["@type"] == "BreadcrumbList" for d in map(json.loads, blocks))


def test_product_price_matches_the_content(frozen: Path) -> None:
    html = (frozen / "esculturas/raiz/index.html").read_text(encoding="utf-8")
    assert '"price":"800.50"' in html
    assert "R$\xa0800,50" in html


def test_sitemap_lists_exactly_the_published_pages(frozen: Path) -> None:
    root = ET.fromstring((frozen / "sitemap.xml").read_bytes())
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = {loc.text for loc in root.findall("s:url/s:loc", ns)}
    assert all(u.findtext("s:lastmod", namespaces=ns) for u in root.findall("s:url", ns))
    indexable = set()
    for page in pages(frozen):
        html = page.read_text(encoding="utf-8")
        canonical = re.search(r'<link rel="canonical" href="([^"]+)">', html)
        if canonical and 'content="noindex' not in html:
            indexable.add(canonical.group(1))
    sculptures = {loc for loc in locs if "/esculturas/" in loc and "/pagina/" not in loc}
    assert sculptures == {BASE + "esculturas/"} | {f"{BASE}esculturas/{s}/" for s in PUBLISHED}
    assert indexable <= locs
    for loc in locs:
        assert resolve(frozen, frozen / "index.html", loc) is not None
        assert resolve(frozen, frozen / "index.html", loc).is_file(), loc  # type: ignore[union-attr]


def test_drafts_and_archived_pieces_are_never_published(frozen: Path) -> None:
    everything = b"".join(tree_bytes(frozen).values())
    for slug, title in (("rascunho", b"Rascunho"), ("antiga", b"Antiga")):
        assert not (frozen / "esculturas" / slug).exists()
        assert slug.encode() not in everything
        assert title not in everything
    inventory = json.loads((frozen / "inventory.json").read_text())
    assert inventory == {"version": 1, "sculptures": {"onda": 1, "raiz": 3, "vela": 5}}


def test_urls_live_under_the_base_path_prefix(frozen: Path) -> None:
    html = (frozen / "index.html").read_text(encoding="utf-8")
    assert 'href="/loja/esculturas/"' in html
    assert f'<link rel="canonical" href="{BASE}">' in html
    assert "Sitemap: https://teste.example/loja/sitemap.xml" in (frozen / "robots.txt").read_text()


def test_pages_have_metadata_a_store_needs(frozen: Path) -> None:
    html = (frozen / "esculturas/onda/index.html").read_text(encoding="utf-8")
    for needle in (
        f'<link rel="canonical" href="{BASE}esculturas/onda/">',
        '<meta property="og:type" content="product">',
        '<meta property="og:image" content="https://teste.example/loja/img/',
        '<meta name="twitter:card" content="summary_large_image">',
        'aria-label="Trilha de navegação"',
        '<html lang="pt-BR">',
    ):
        assert needle in html


def test_images_are_responsive_with_avif_webp_and_jpeg(frozen: Path) -> None:
    html = (frozen / "esculturas/onda/index.html").read_text(encoding="utf-8")
    picture = re.search(r"<picture>.*?</picture>", html, re.S).group(0)  # type: ignore[union-attr]
    assert '<source type="image/avif"' in picture
    assert '<source type="image/webp"' in picture
    assert re.search(
        r'<img src="[^"]+\.jpg" srcset="[^"]+" sizes="[^"]+" width="\d+" height="\d+"', picture
    )
    assert 'fetchpriority="high"' in picture  # the first image is the largest paint
    home = (frozen / "index.html").read_text(encoding="utf-8")
    assert 'loading="lazy"' in home


def test_assets_are_fingerprinted(frozen: Path) -> None:
    names = sorted(p.name for p in (frozen / "static").iterdir())
    assert all(re.fullmatch(r"[a-z-]+\.[0-9a-f]{10}\.(css|js|svg)", n) for n in names), names


def test_atom_feed_lists_new_pieces(frozen: Path) -> None:
    root = ET.fromstring((frozen / "feed.atom").read_bytes())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    ids = [e.findtext("a:id", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert ids == [f"{BASE}esculturas/{s}/" for s in ("vela", "raiz", "onda")]


def test_search_index_covers_the_sculpture_pages(frozen: Path) -> None:
    assert (frozen / "pagefind/pagefind.js").is_file()
    assert (frozen / "pagefind/pagefind-ui.js").is_file()
    fragments = list((frozen / "pagefind/fragment").glob("*.pf_fragment"))
    assert len(fragments) == len(PUBLISHED)


def test_an_unchanged_image_is_never_encoded_again(
    content_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    def variants(cache: Path) -> dict[str, int]:
        return {p.name: p.stat().st_mtime_ns for p in cache.iterdir() if p.name[0] != "."}

    cache = tmp_path / "images"
    freeze_site(site_app(content_dir, tmp_path / "first", IMAGE_CACHE_DIR=cache))
    before = variants(cache)
    with Image.open(content_dir / "images/raiz.jpg") as photo:  # new bytes, same picture
        photo.convert("RGB").save(content_dir / "images/raiz.jpg", quality=70)
    real_open = Image.open

    def only_raiz(source: Path, *args: object, **kwargs: object) -> Image.Image:
        assert Path(source).name == "raiz.jpg", f"{source} was encoded again"
        return real_open(source, *args, **kwargs)

    monkeypatch.setattr(Image, "open", only_raiz)
    freeze_site(site_app(content_dir, tmp_path / "second", IMAGE_CACHE_DIR=cache))
    after = variants(cache)
    assert {name: after[name] for name in before} == before
    new = set(after) - set(before)
    assert new and all(name.startswith("raiz-") for name in new)


@pytest.mark.usefixtures("no_racy_window")
def test_an_unchanged_photo_is_not_even_read_again(
    content_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gallery's photos run to gigabytes: a rebuild looks at their stat, not their bytes."""
    from storefront.common import file_digests

    cache = tmp_path / "images"
    freeze_site(site_app(content_dir, tmp_path / "first", IMAGE_CACHE_DIR=cache))
    read = record_calls(monkeypatch, file_digests, "_sha256")
    second = tmp_path / "second"
    freeze_site(site_app(content_dir, second, IMAGE_CACHE_DIR=cache))
    assert [name for name in read if name.endswith(".jpg")] == []
    assert tree_bytes(second / "site") == tree_bytes(tmp_path / "first/site")


def test_home_page_with_its_css_and_js_is_under_30_kb_compressed(frozen: Path) -> None:
    html = (frozen / "index.html").read_bytes()
    assets = re.findall(rb'(?:href|src)="/loja/(static/[^"]+\.(?:css|js))"', html)
    assert {Path(a.decode()).suffix for a in assets} == {".css", ".js"}
    total = sum(
        len(gzip.compress(b)) for b in [html, *((frozen / a.decode()).read_bytes() for a in assets)]
    )
    assert total < 30 * 1024


def test_two_freezes_are_byte_identical(frozen: Path, tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(FIXTURE_CATALOG, content)
    freeze(content, tmp_path)
    assert tree_bytes(tmp_path / "site") == tree_bytes(frozen)


def test_an_edit_rerenders_only_the_pages_that_show_it(content_dir: Path, tmp_path: Path) -> None:
    first = freeze(content_dir, tmp_path)
    again = freeze(content_dir, tmp_path)
    assert first.rendered == first.pages
    assert again.rendered == 0
    assert not again.search_indexed
    path = content_dir / "sculptures/raiz.yaml"
    path.write_text(path.read_text().replace("800.50", "800.90"), encoding="utf-8")
    edited = freeze(content_dir, tmp_path)
    # its page, home (newest), a catalog page, two material pages, two tag pages, its artist,
    # and the feed, which lists the piece (a key covers the whole piece, price included)
    assert edited.rendered == 9
    assert edited.search_indexed
    html = (tmp_path / "site/esculturas/raiz/index.html").read_text(encoding="utf-8")
    assert "R$\xa0800,90" in html


def _retitle(content: Path) -> None:
    path = content / "sculptures/vela.yaml"
    path.write_text(path.read_text().replace("title: Vela", "title: Vela Acesa"), encoding="utf-8")


def _redate(content: Path) -> None:
    """New dates in the same order: only the sitemap's lastmods and the feed show them."""
    for name, date in (("vela", "2031-01-02"), ("raiz", "2025-02-15")):
        path = content / f"sculptures/{name}.yaml"
        path.write_text(re.sub(r"added_on: .*", f"added_on: {date}", path.read_text()))


def _resize_edition(content: Path) -> None:
    """Changes the inventory the API reads, and nothing else a visitor sees but the label."""
    path = content / "sculptures/vela.yaml"
    path.write_text(path.read_text().replace("edition_size: 5", "edition_size: 7"))


def _remove_piece(content: Path) -> None:
    (content / "sculptures/onda.yaml").unlink()
    (content / "images/onda.jpg").unlink()


@pytest.mark.parametrize("edit", [_retitle, _redate, _resize_edition, _remove_piece])
def test_incremental_build_equals_a_full_build(
    edit: Callable[[Path], None], content_dir: Path, tmp_path: Path
) -> None:
    freeze(content_dir, tmp_path / "inc")
    edit(content_dir)
    incremental = freeze(content_dir, tmp_path / "inc")
    freeze(content_dir, tmp_path / "full")
    assert 0 < incremental.rendered < incremental.pages
    assert tree_bytes(tmp_path / "inc/site") == tree_bytes(tmp_path / "full/site")


def test_a_removed_piece_leaves_no_files_behind(content_dir: Path, tmp_path: Path) -> None:
    freeze(content_dir, tmp_path)
    _remove_piece(content_dir)
    report = freeze(content_dir, tmp_path)
    assert report.removed > 0
    assert not (tmp_path / "site/esculturas/onda").exists()


def test_parallel_workers_produce_the_same_site(
    content_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storefront.freeze.workers as freezing
    from storefront.common import parallel

    serial = freeze(content_dir, tmp_path / "serial", workers=1)
    monkeypatch.setattr(parallel, "MIN_PARALLEL_SECONDS", 0)
    monkeypatch.setattr(freezing, "CARD_WARM_UP_PAGES", 1)  # cards rendered before the fork
    freeze(content_dir, tmp_path / "parallel", workers=2)
    assert serial.rendered > 0
    assert tree_bytes(tmp_path / "serial/site") == tree_bytes(tmp_path / "parallel/site")


def test_invalid_content_is_refused_and_the_previous_build_is_untouched(
    content_dir: Path, tmp_path: Path
) -> None:
    freeze(content_dir, tmp_path)
    before = tree_bytes(tmp_path / "site")
    path = content_dir / "sculptures/onda.yaml"
    path.write_text(path.read_text().replace("edition_size: 1", "edition_size: 0"))
    with pytest.raises(ContentError):
        freeze(content_dir, tmp_path)
    assert tree_bytes(tmp_path / "site") == before


def test_freeze_command_reports_problems_and_exits_1(content_dir: Path, tmp_path: Path) -> None:
    path = content_dir / "sculptures/onda.yaml"
    path.write_text(path.read_text().replace("edition_size: 1", "edition_size: 0"))
    app = site_app(content_dir, tmp_path)
    result = app.test_cli_runner().invoke(args=["freeze"])
    assert result.exit_code == 1
    assert "edition_size: Input should be greater than or equal to 1" in result.stderr
    assert "refusing to build" in result.stderr
    assert not (tmp_path / "site").exists()


def test_a_catalog_with_nothing_published_yet_builds(content_dir: Path, tmp_path: Path) -> None:
    """No piece, artist, tag or photo shown: those page types have no pages, and that is fine."""
    for path in (content_dir / "sculptures").glob("*.yaml"):
        path.write_text(path.read_text().replace("status: published", "status: draft"))
    report = freeze(content_dir, tmp_path)
    home = (tmp_path / "site/index.html").read_text(encoding="utf-8")
    assert "Ver todas as 0 esculturas" in home
    assert not (tmp_path / "site/esculturas/onda").exists()
    assert report.pages == report.rendered > 0


def test_a_missing_url_generator_is_an_error(content_dir: Path, tmp_path: Path) -> None:
    app = site_app(content_dir, tmp_path)
    app.add_url_rule("/orfa/", "orphan", lambda: "órfã")
    with pytest.raises(RuntimeError, match="no page type registered for endpoints orphan"):
        freeze_site(app)
    # the search index, already being built, is stopped and leaves nothing behind
    assert not multiprocessing.active_children()
    assert not (tmp_path / "cache/search-scratch").exists()


def test_a_failed_search_index_keeps_the_previous_one_and_is_retried(
    content_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storefront.search import indexer as search_index

    freeze(content_dir, tmp_path)
    before = tree_bytes(tmp_path / "site/pagefind")
    path = content_dir / "sculptures/raiz.yaml"
    path.write_text(path.read_text().replace("title: Raiz", "title: Raiz Funda"), encoding="utf-8")
    failing = (sys.executable, "-c", "import sys; sys.exit('sem espaço em disco')")
    monkeypatch.setattr(search_index, "PAGEFIND", failing)
    with pytest.raises(RuntimeError, match=r"(?s)pagefind failed on shard 0.*sem espaço em disco"):
        freeze(content_dir, tmp_path)
    assert tree_bytes(tmp_path / "site/pagefind") == before
    monkeypatch.undo()
    assert freeze(content_dir, tmp_path).search_indexed
    freeze(content_dir, tmp_path / "full")
    assert tree_bytes(tmp_path / "site") == tree_bytes(tmp_path / "full/site")


def test_search_index_is_sharded_and_an_edit_reindexes_only_its_shard(
    content_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storefront.search import shards as search_index

    monkeypatch.setattr(search_index, "SHARD_SIZE", 1)  # three shards for three pieces
    freeze(content_dir, tmp_path)
    site = tmp_path / "site"
    bundles = search_index.bundles_for(PUBLISHED)
    assert len(bundles) > 1
    assert all((site / b / "pagefind.js").is_file() for b in bundles)
    search = (site / "busca/index.html").read_text(encoding="utf-8")
    assert 'data-bundles="{}"'.format(" ".join(f"/loja/{b}/" for b in bundles)) in search
    shard = search_index.shard_of("raiz", 3)
    untouched = next(b for b in bundles if b != search_index.bundle_name(shard))
    before = tree_bytes(site / untouched)
    stamp = {p: p.stat().st_mtime_ns for p in (site / untouched).rglob("*") if p.is_file()}
    path = content_dir / "sculptures/raiz.yaml"
    path.write_text(path.read_text().replace("title: Raiz", "title: Raiz Funda"), encoding="utf-8")
    freeze(content_dir, tmp_path)
    assert tree_bytes(site / untouched) == before
    assert stamp == {p: p.stat().st_mtime_ns for p in (site / untouched).rglob("*") if p.is_file()}
    fragments = (site / search_index.bundle_name(shard) / "fragment").glob("*")
    assert any(b"Raiz Funda" in gzip.decompress(f.read_bytes()) for f in fragments)


def _search_records(bundle: Path) -> dict[str, dict]:
    """The records a pagefind bundle holds, by URL (each fragment: a signature, then JSON)."""
    found = {}
    for path in (bundle / "fragment").glob("*.pf_fragment"):
        record = json.loads(gzip.decompress(path.read_bytes()).removeprefix(b"pagefind_dcd"))
        found[record["url"]] = record
    return found


def test_search_records_carry_text_filters_meta_and_sort(frozen: Path) -> None:
    raiz = _search_records(frozen / "pagefind")["/esculturas/raiz/"]
    assert raiz["content"] == (
        "Raiz. Bruno Reis, 2020. R$ 800,50. Materiais: madeira, ferro. "
        "Temas: abstrato, teste. Descrição de Raiz."
    )
    assert raiz["filters"] == {
        "artista": ["Bruno Reis"],
        "faixa de preço": ["Até R$ 2.000"],
        "material": ["madeira", "ferro"],
        "tema": ["abstrato", "teste"],
    }
    assert raiz["meta"]["title"] == "Raiz"
    assert raiz["meta"]["preço"] == "R$\xa0800,50"
    assert raiz["meta"]["image_alt"] == "Foto de Raiz."
    assert raiz["meta"]["image"].startswith("/loja/img/raiz-")
    assert (frozen / raiz["meta"]["image"].removeprefix("/loja/")).is_file()


def test_an_edit_and_a_removal_reach_the_search_index(content_dir: Path, tmp_path: Path) -> None:
    freeze(content_dir, tmp_path)
    path = content_dir / "sculptures/raiz.yaml"
    path.write_text(path.read_text().replace("title: Raiz", "title: Raiz Funda"), encoding="utf-8")
    _remove_piece(content_dir)
    assert freeze(content_dir, tmp_path).search_indexed
    records = _search_records(tmp_path / "site/pagefind")
    assert set(records) == {"/esculturas/raiz/", "/esculturas/vela/"}
    assert records["/esculturas/raiz/"]["meta"]["title"] == "Raiz Funda"


def test_an_edit_writes_only_the_search_files_that_changed(
    content_dir: Path, tmp_path: Path
) -> None:
    freeze(content_dir, tmp_path)
    bundle = tmp_path / "site/pagefind"

    def inodes() -> dict[str, int]:
        return {
            str(p.relative_to(bundle)): p.stat().st_ino for p in bundle.rglob("*") if p.is_file()
        }

    def fragment_of(slug: str) -> str:
        for path in (bundle / "fragment").glob("*.pf_fragment"):
            if f'"url":"/esculturas/{slug}/"'.encode() in gzip.decompress(path.read_bytes()):
                return str(path.relative_to(bundle))
        raise AssertionError(f"no fragment for {slug}")

    before, vela = inodes(), fragment_of("vela")
    path = content_dir / "sculptures/raiz.yaml"
    path.write_text(path.read_text().replace("title: Raiz", "title: Raiz Funda"), encoding="utf-8")
    assert freeze(content_dir, tmp_path).search_indexed
    after = inodes()
    assert fragment_of("vela") == vela and after[vela] == before[vela]
    assert after["pagefind.js"] == before["pagefind.js"]
    assert fragment_of("raiz") not in before


def test_planned_urls_are_the_urls_flask_builds(content_dir: Path, tmp_path: Path) -> None:
    from flask import url_for
    from storefront.content import current as content
    from storefront.freeze.plan import plan

    app = site_app(content_dir, tmp_path)
    with app.app_context():
        index = content.load(app)
        pages = plan(app, index)
        with app.test_request_context(base_url="/loja"):
            expected = [url_for(p.endpoint, **p.values)[len("/loja") :] for p in pages]
    assert [p.url for p in pages] == expected
    assert {"/esculturas/raiz/", "/materiais/bronze/"} <= set(expected)


def test_a_full_build_removes_files_no_page_owns(content_dir: Path, tmp_path: Path) -> None:
    freeze(content_dir, tmp_path)
    site = tmp_path / "site"
    stray = site / "esculturas/vendida-ha-anos/index.html"
    stray.parent.mkdir()
    stray.write_text("<p>antiga</p>", encoding="utf-8")
    (site / "rascunho.txt").write_text("?", encoding="utf-8")
    report = freeze(content_dir, tmp_path, full=True)
    assert report.removed == 2
    assert not stray.parent.exists() and not (site / "rascunho.txt").exists()
    assert (site / "pagefind/pagefind.js").is_file()
    assert (site / "esculturas/raiz/index.html").is_file()


@pytest.mark.skipif(
    len(getattr(os, "sched_getaffinity", lambda _: ())(0)) < 2, reason="needs two CPUs"
)
def test_pagefind_keeps_to_one_cpu_beside_the_render(
    content_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pagefind spread over every core costs more CPU than on one, taken from the render."""
    from storefront.search import indexer as search_index
    from storefront.search.pagefind_client import service_command

    seen = tmp_path / "cpus.txt"
    recorder = (
        "import os, sys; "
        f"open({str(seen)!r}, 'a').write(f'{{len(os.sched_getaffinity(0))}}\\n'); "
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    monkeypatch.setattr(
        search_index, "PAGEFIND", (sys.executable, "-c", recorder, *service_command())
    )
    assert freeze(content_dir, tmp_path).search_indexed
    assert seen.read_text().split() == ["1"]
    assert len(os.sched_getaffinity(0)) >= 2  # the freeze itself still has every CPU


def test_a_preview_is_frozen_for_its_own_address(content_dir: Path, tmp_path: Path) -> None:
    app = site_app(content_dir, tmp_path)
    preview = "https://loja.example/previews/pr-12/"
    result = app.test_cli_runner().invoke(args=["freeze", "--base-url", preview])
    assert result.exit_code == 0, result.output
    home = (tmp_path / "site/index.html").read_text(encoding="utf-8")
    assert f'<link rel="canonical" href="{preview}">' in home
    assert '<a class="brand" href="/previews/pr-12/">' in home
    sitemap = (tmp_path / "site/sitemap.xml").read_text(encoding="utf-8")
    assert f"<loc>{preview}esculturas/raiz/</loc>" in sitemap
    assert "teste.example" not in sitemap  # site.yaml's address appears nowhere


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://loja.example/previews/pr-12", "must end with '/'"),
        ("ftp://loja.example/", "URL scheme should be 'http' or 'https'"),
        ("https://loja.example/#/", "must not have a query or fragment"),
    ],
)
def test_a_bad_preview_address_is_refused_before_anything_is_built(
    content_dir: Path, tmp_path: Path, url: str, why: str
) -> None:
    app = site_app(content_dir, tmp_path)
    result = app.test_cli_runner().invoke(args=["freeze", "--base-url", url])
    assert result.exit_code == 1
    assert "--base-url:1:1: base_url:" in result.stderr
    assert why in result.stderr
    assert not (tmp_path / "site").exists()
