"""The catalog's pages. Every URL ends in '/', so each freezes to index.html."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

from flask import Blueprint, Response, abort, render_template
from storefront.content.current import get_index
from storefront.content.index import FEED_LIMIT, CatalogIndex, Term
from storefront.pages.images import image_url, responsive_image
from storefront.pages.seo import breadcrumbs_ld, json_ld, product_ld
from storefront.pages.urls import absolute_url, external, url_for
from storefront.search.shards import bundles_for

bp = Blueprint("pages", __name__)


def _render(template: str, **context: object) -> str:
    index = get_index()
    return render_template(template, index=index, site=index.site, **context)


@bp.route("/")
def home() -> str:
    index = get_index()
    base = str(index.site.base_url)
    organization = json_ld(
        {
            "@context": "https://schema.org",
            "@type": "ArtGallery",
            "name": index.site.name,
            "url": base,
            "email": index.site.contact.email,
            "telephone": index.site.contact.phone,
        }
    )
    return _render("home.html", organization=organization)


@bp.route("/esculturas/", defaults={"page": 1})
@bp.route("/esculturas/pagina/<int:page>/")
def catalog(page: int) -> str:
    index = get_index()
    return _listing(index, index.published, page, "pages.catalog", {}, "Todas as esculturas", [])


@bp.route("/temas/<slug>/", defaults={"page": 1})
@bp.route("/temas/<slug>/pagina/<int:page>/")
def tag(slug: str, page: int) -> str:
    index = get_index()
    term = _term(index.tags, slug)
    trail = [("Temas", url_for("pages.tags"))]
    return _listing(index, term.sculptures, page, "pages.tag", {"slug": slug}, term.label, trail)


@bp.route("/materiais/<slug>/", defaults={"page": 1})
@bp.route("/materiais/<slug>/pagina/<int:page>/")
def material(slug: str, page: int) -> str:
    index = get_index()
    term = _term(index.materials, slug)
    trail = [("Materiais", url_for("pages.materials"))]
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
    trail: list[tuple[str, str]],
) -> str:
    page = index.page(items, number)
    if page is None:
        abort(404)
    first = url_for(endpoint, **values)
    crumbs = [("Início", url_for("pages.home")), *trail, (title, first)]
    heading = title if number == 1 else f"{title} — página {number}"
    return _render(
        "listing.html",
        page=page,
        endpoint=endpoint,
        values=values,
        title=heading,
        count=len(items),
        crumbs=crumbs,
        crumbs_ld=breadcrumbs_ld(crumbs, str(index.site.base_url)),
    )


@bp.route("/esculturas/<slug>/")
def sculpture(slug: str) -> str:
    index = get_index()
    piece = index.by_slug.get(slug)
    if piece is None:
        abort(404)
    artist = index.catalog.artists[piece.artist]
    crumbs = [
        ("Início", url_for("pages.home")),
        ("Esculturas", url_for("pages.catalog")),
        (piece.title, url_for("pages.sculpture", slug=slug)),
    ]
    base = str(index.site.base_url)
    fallbacks = [responsive_image(i.file).fallback for i in piece.images]
    image_urls = [absolute_url(image_url(variant), base) for variant in fallbacks]
    return _render(
        "sculpture.html",
        piece=piece,
        artist=artist,
        related=index.related(piece),
        crumbs=crumbs,
        crumbs_ld=breadcrumbs_ld(crumbs, base),
        product=product_ld(index, piece, image_urls),
        og_image=image_urls[0],
    )


@bp.route("/artistas/")
def artists() -> str:
    return _render("artists.html")


@bp.route("/artistas/<slug>/")
def artist(slug: str) -> str:
    index = get_index()
    person = index.catalog.artists.get(slug)
    if person is None or slug not in index.works:
        abort(404)
    crumbs = [
        ("Início", url_for("pages.home")),
        ("Artistas", url_for("pages.artists")),
        (person.name, url_for("pages.artist", slug=slug)),
    ]
    return _render(
        "artist.html",
        person=person,
        works=index.works[slug],
        crumbs=crumbs,
        crumbs_ld=breadcrumbs_ld(crumbs, str(index.site.base_url)),
    )


@bp.route("/temas/")
def tags() -> str:
    return _render("terms.html", terms=get_index().tags, endpoint="pages.tag", title="Temas")


@bp.route("/materiais/")
def materials() -> str:
    index = get_index()
    return _render(
        "terms.html", terms=index.materials, endpoint="pages.material", title="Materiais"
    )


@bp.route("/sobre/")
def about() -> str:
    return _render("about.html")


@bp.route("/busca/")
def search() -> str:
    return _render("search.html", bundles=bundles_for(get_index().by_slug))


@bp.route("/404.html")
def not_found_page() -> str:
    return _render("404.html")


@bp.app_errorhandler(404)
def not_found(_error: Exception) -> tuple[str, int]:
    return _render("404.html"), 404


@bp.route("/robots.txt")
def robots() -> Response:
    base = str(get_index().site.base_url)
    sitemap = external("pages.sitemap", base)
    body = f"User-agent: *\nDisallow: /api/\nAllow: /\n\nSitemap: {sitemap}\n"
    return Response(body, mimetype="text/plain")


@bp.route("/sitemap.xml")
def sitemap() -> Response:
    index = get_index()
    entries = sorted(_sitemap_entries(index))
    return Response(render_template("sitemap.xml", entries=entries), mimetype="application/xml")


def sitemap_paths() -> Iterator[tuple[str, dict]]:
    """Every canonical page (endpoint, values): the sitemap lists exactly these."""
    index = get_index()
    yield "pages.home", {}
    for number in range(1, index.page_count(index.published) + 1):
        yield "pages.catalog", {"page": number}
    for slug in index.by_slug:
        yield "pages.sculpture", {"slug": slug}
    yield "pages.artists", {}
    for slug in index.works:
        yield "pages.artist", {"slug": slug}
    yield "pages.tags", {}
    yield "pages.materials", {}
    for endpoint, terms in (("pages.tag", index.tags), ("pages.material", index.materials)):
        for slug, term in terms.items():
            for number in range(1, index.page_count(term.sculptures) + 1):
                yield endpoint, {"slug": slug, "page": number}
    yield "pages.about", {}
    yield "pages.search", {}


def _sitemap_entries(index: CatalogIndex) -> Iterator[tuple[str, str]]:
    base = str(index.site.base_url)
    newest = max((s.added_on for s in index.published), default=dt.date(2000, 1, 1))
    for endpoint, values in sitemap_paths():
        lastmod = newest
        if endpoint == "pages.sculpture":
            lastmod = index.by_slug[values["slug"]].added_on
        elif endpoint == "pages.artist":
            lastmod = max(s.added_on for s in index.works[values["slug"]])
        yield external(endpoint, base, **values), lastmod.isoformat()


@bp.route("/feed.atom")
def feed() -> Response:
    index = get_index()
    pieces = index.published[:FEED_LIMIT]
    updated = pieces[0].added_on if pieces else dt.date(2000, 1, 1)
    body = render_template("feed.xml", index=index, site=index.site, pieces=pieces, updated=updated)
    return Response(body, mimetype="application/atom+xml")


@bp.route("/inventory.json")
def inventory() -> Response:
    """Edition sizes for the availability API (slug -> units), published pieces only."""
    index = get_index()
    data = {
        "version": 1,
        "sculptures": {
            s.slug: s.edition_size for s in sorted(index.published, key=lambda s: s.slug)
        },
    }
    body = json.dumps(data, indent=1, sort_keys=True) + "\n"
    return Response(body, mimetype="application/json")
