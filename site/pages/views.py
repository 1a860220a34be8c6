"""The catalog's page types. Every URL ends in '/', so each freezes to index.html.

Each function returns a page's context: the data its template shows, chosen
from the catalog index, never the index itself (see registry). Formatting
(URLs, JSON-LD, prices) happens in the templates and their helpers, so the
contexts stay cheap to make for every page of the site at each freeze.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from flask import abort
from storefront.content.current import get_index
from storefront.content.index import CatalogIndex, Term
from storefront.content.models import SiteConfig
from storefront.pages.registry import SITE, Context, Values
from storefront.pages.urls import external

bp = SITE.blueprint
HOME = ("Início", "pages.home", {})


def _newest(index: CatalogIndex, **_values: Any) -> dt.date:
    return index.updated


def _listing_pages(items: tuple, index: CatalogIndex, **values: Any) -> Iterator[Values]:
    for number in range(1, index.page_count(items) + 1):
        yield {**values, "page": number}


@SITE.page("/", template="home.html", lastmod=_newest)
def home(index: CatalogIndex) -> Context:
    return {
        "count": len(index.published),
        "featured": index.cards(index.featured),
        "newest": index.cards(index.newest),
    }


@SITE.page(
    ("/esculturas/", {"page": 1}),
    "/esculturas/pagina/<int:page>/",
    template="listing.html",
    each=lambda index: _listing_pages(index.published, index),
    lastmod=_newest,
)
def catalog(index: CatalogIndex, page: int) -> Context:
    return _listing(index, index.published, page, "pages.catalog", {}, "Todas as esculturas", [])


def _term_pages(terms: dict[str, Term], index: CatalogIndex) -> Iterator[Values]:
    for slug, term in terms.items():
        yield from _listing_pages(term.sculptures, index, slug=slug)


@SITE.page(
    ("/temas/<slug>/", {"page": 1}),
    "/temas/<slug>/pagina/<int:page>/",
    template="listing.html",
    each=lambda index: _term_pages(index.tags, index),
    lastmod=_newest,
)
def tag(index: CatalogIndex, slug: str, page: int) -> Context:
    term = _term(index.tags, slug)
    trail = [("Temas", "pages.tags", {})]
    return _listing(index, term.sculptures, page, "pages.tag", {"slug": slug}, term.label, trail)


@SITE.page(
    ("/materiais/<slug>/", {"page": 1}),
    "/materiais/<slug>/pagina/<int:page>/",
    template="listing.html",
    each=lambda index: _term_pages(index.materials, index),
    lastmod=_newest,
)
def material(index: CatalogIndex, slug: str, page: int) -> Context:
    term = _term(index.materials, slug)
    trail = [("Materiais", "pages.materials", {})]
    values = {"slug": slug}
    return _listing(index, term.sculptures, page, "pages.material", values, term.label, trail)


def _term(terms: dict[str, Term], slug: str) -> Term:
    term = terms.get(slug)
    if term is None:
        abort(404)
    return term


def _listing(
    index: CatalogIndex,
    items: tuple,
    number: int,
    endpoint: str,
    values: dict[str, str],
    title: str,
    trail: list[tuple[str, str, dict[str, Any]]],
) -> Context:
    page = index.page(items, number)
    if page is None:
        abort(404)
    return {
        "page": page,
        "endpoint": endpoint,
        "values": values,
        "title": title if number == 1 else f"{title} — página {number}",
        "count": len(items),
        "crumbs": [HOME, *trail, (title, endpoint, values)],
    }


def _sculpture_added(index: CatalogIndex, slug: str) -> dt.date:
    return index.by_slug[slug].added_on


@SITE.page(
    "/esculturas/<slug>/",
    template="sculpture.html",
    each=lambda index: ({"slug": slug} for slug in index.by_slug),
    lastmod=_sculpture_added,
)
def sculpture(index: CatalogIndex, slug: str) -> Context:
    piece = index.by_slug.get(slug)
    if piece is None:
        abort(404)
    return {
        "piece": piece,
        "artist": index.catalog.artists[piece.artist],
        "related": index.cards(index.related(piece)),
    }  # its trail is made by the template, from the piece


@SITE.page("/artistas/", template="artists.html", lastmod=_newest)
def artists(index: CatalogIndex) -> Context:
    people = index.catalog.artists
    return {"artists": [(people[slug], len(works)) for slug, works in index.works.items()]}


def _artist_updated(index: CatalogIndex, slug: str) -> dt.date:
    return max(s.added_on for s in index.works[slug])


@SITE.page(
    "/artistas/<slug>/",
    template="artist.html",
    each=lambda index: ({"slug": slug} for slug in index.works),
    lastmod=_artist_updated,
)
def artist(index: CatalogIndex, slug: str) -> Context:
    person = index.catalog.artists.get(slug)
    if person is None or slug not in index.works:
        abort(404)
    return {
        "person": person,
        "works": index.cards(index.works[slug]),
        "crumbs": [
            HOME,
            ("Artistas", "pages.artists", {}),
            (person.name, "pages.artist", {"slug": slug}),
        ],
    }


def _terms(terms: dict[str, Term], endpoint: str, title: str) -> Context:
    shown = [(slug, term.label, len(term.sculptures)) for slug, term in terms.items()]
    return {"terms": shown, "endpoint": endpoint, "title": title}


@SITE.page("/temas/", template="terms.html", lastmod=_newest)
def tags(index: CatalogIndex) -> Context:
    return _terms(index.tags, "pages.tag", "Temas")


@SITE.page("/materiais/", template="terms.html", lastmod=_newest)
def materials(index: CatalogIndex) -> Context:
    return _terms(index.materials, "pages.material", "Materiais")


@SITE.page("/sobre/", template="about.html", lastmod=_newest)
def about(index: CatalogIndex) -> Context:
    return {}


@SITE.page("/404.html", template="404.html")
def not_found_page(index: CatalogIndex) -> Context:
    return {}


@bp.app_errorhandler(404)
def not_found(_error: Exception) -> tuple[str, int]:
    page = SITE.page_type("pages.not_found_page").render(get_index(), {})
    return str(page), 404


def _robots(site: SiteConfig, _context: Context) -> str:
    sitemap = external("pages.sitemap", str(site.base_url))
    return f"User-agent: *\nDisallow: /api/\nAllow: /\n\nSitemap: {sitemap}\n"


@SITE.page("/robots.txt", template=_robots, mimetype="text/plain")
def robots(index: CatalogIndex) -> Context:
    return {}


@SITE.page("/sitemap.xml", template="sitemap.xml", mimetype="application/xml")
def sitemap(index: CatalogIndex) -> Context:
    """Every page a type lists in the sitemap, with when it last changed."""
    return {"entries": list(SITE.sitemap(index))}


@SITE.page("/feed.atom", template="feed.xml", mimetype="application/atom+xml")
def feed(index: CatalogIndex) -> Context:
    return {"entries": index.cards(index.feed), "updated": index.updated}


def _inventory_json(_site: SiteConfig, context: Context) -> str:
    data = {"version": 1, "sculptures": context["sculptures"]}
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


@SITE.page("/inventory.json", template=_inventory_json, mimetype="application/json")
def inventory(index: CatalogIndex) -> Context:
    """Edition sizes for the availability API (slug -> units), published pieces only."""
    return {"sculptures": {s.slug: s.edition_size for s in index.published}}
