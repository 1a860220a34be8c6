"""The freeze's plan: every file of the site with a key, a hash of what it shows.

A page whose key and file are unchanged since the last freeze is not rendered
again. Keying ten thousand sculpture pages and two thousand listings means
building and hashing some ten megabytes of text, a third of a second, most of
a rebuild after a one-file edit. So the plan is kept between builds
(PlanState) and the next one keys only what may have changed:

- the catalog's *structure* is everything a page's existence, URL or data
  depends on besides the pieces it shows: the code and settings (`shared`),
  the order of the published pieces, the featured and newest, each artist's
  works and artist data, each tag's and material's pieces, the asset and image
  variant files. When it differs from the last build's, every page is keyed;
- otherwise each piece has an *input*, the hash of its file and its images'
  variants (its card and its page show nothing else of it), and only the pages
  that show a piece whose input changed are keyed again, plus the summaries
  (sitemap, feed, inventory, lists), which are cheap to key and depend on the
  whole catalog. Every other page keeps the key it had.

Both paths key a page from the same function (the specs below), and a test
checks that they agree on every kind of edit.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

from flask import Flask, current_app
from storefront.common.state_files import write_atomically
from storefront.content.index import FEED_LIMIT, CatalogIndex
from storefront.content.models import Sculpture
from storefront.pages.assets import STATIC_DIR, asset_urls
from storefront.pages.images import variant_urls
from storefront.pages.urls import SiteUrls, path_prefix
from storefront.search.shards import bundles_for

STATE_NAME = "plan-state.pickle"
_SLUG = attrgetter("slug")
_FORMAT = 1


class PlannedPage(NamedTuple):
    url: str  # relative to the site root, as Frozen-Flask writes it
    endpoint: str
    values: dict[str, Any]
    key: str  # a hash of what the page shows: unchanged key, unchanged file


# (endpoint, values, the pieces it shows or None for "the whole catalog", its data as text)
Spec = tuple[str, dict[str, Any], tuple[Sculpture, ...] | None, Callable[[], str]]


@dataclass(frozen=True)
class PlanState:
    """What the last build wrote (its pages and their keys), and what the next one needs
    to key only what changed. Saved when a build completes; a missing or damaged
    state means a full build."""

    structure: str
    inputs: dict[str, str]  # slug -> the piece's input
    pages: list[PlannedPage]

    def save(self, path: Path) -> None:
        data = (_FORMAT, self.structure, self.inputs, [tuple(p) for p in self.pages])
        write_atomically(path, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))

    @classmethod
    def load(cls, path: Path) -> PlanState | None:
        """The last build's plan; None when there is none or it cannot be read (a full plan)."""
        try:
            version, structure, inputs, pages = pickle.loads(path.read_bytes())
            if version != _FORMAT:
                return None
            return cls(structure, inputs, [PlannedPage(*page) for page in pages])
        except (OSError, pickle.UnpicklingError, EOFError, TypeError, ValueError):
            return None


def shared_key(index: CatalogIndex) -> str:
    """What every page depends on: code, templates, assets, the store's settings."""
    digest = hashlib.sha256(index.site.model_dump_json().encode())
    here = Path(__file__).resolve().parent.parent
    for path in sorted((here / "pages" / "templates").rglob("*")) + sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    for path in sorted(here.rglob("*.py")):  # any code may change what a page shows
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def plan(
    app: Flask,
    index: CatalogIndex,
    shared: str | None = None,
    previous: PlanState | None = None,
    inputs: dict[str, str] | None = None,
) -> tuple[list[PlannedPage], PlanState]:
    """Every file of the site, with the key that says when it must be rendered again.

    `inputs` are piece_inputs(app, index), when the caller has them already.
    """
    shared = shared or shared_key(index)
    # First: it prepares every image the structure lists.
    inputs = inputs if inputs is not None else piece_inputs(app, index)
    artist_json = {slug: a.model_dump_json() for slug, a in index.catalog.artists.items()}
    prefix = path_prefix(index.site.base_url)
    with app.test_request_context(base_url=prefix or None):
        structure = _structure_key(index, shared, artist_json)
        specs = _page_specs(index, inputs, artist_json)
        if previous is not None and previous.structure == structure:
            pages = _replan(shared, specs, inputs, previous)
            if pages is not None:
                return pages, PlanState(structure, inputs, pages)
            specs = _page_specs(index, inputs, artist_json)
        urls = SiteUrls(prefix)
        pages = [
            PlannedPage(urls(endpoint, values), endpoint, values, _digest(shared, data()))
            for endpoint, values, _, data in specs
        ]
    return pages, PlanState(structure, inputs, pages)


def _replan(
    shared: str, specs: Iterator[Spec], inputs: dict[str, str], previous: PlanState
) -> list[PlannedPage] | None:
    """Key again only the pages showing a changed piece; None if the pages are not the same."""
    old = previous.inputs
    changed = {slug for slug, value in inputs.items() if old.get(slug) != value}
    pages = []
    last = previous.pages
    for n, (endpoint, values, shows, data) in enumerate(specs):
        if n >= len(last) or last[n].endpoint != endpoint or last[n].values != values:
            return None  # the structure key should make this impossible; never trust it blindly
        page = last[n]
        if shows is None or not changed.isdisjoint(map(_SLUG, shows)):
            page = page._replace(key=_digest(shared, data()))
        pages.append(page)
    return pages if len(pages) == len(last) else None


def _structure_key(index: CatalogIndex, shared: str, artist_json: dict[str, str]) -> str:
    """Everything pages depend on besides the pieces they show (see the module's docstring)."""
    parts = [
        shared,
        " ".join(piece.slug for piece in index.published),
        " ".join(piece.slug for piece in index.featured),
        " ".join(piece.slug for piece in index.newest),
    ]
    for slug, works in index.works.items():
        parts.append(f"{slug} {artist_json[slug]} " + " ".join(w.slug for w in works))
    for group in (index.tags, index.materials):
        for slug, term in group.items():
            parts.append(f"{slug} {term.label} " + " ".join(p.slug for p in term.sculptures))
    parts.append(json.dumps([*asset_urls(), *variant_urls()], sort_keys=True))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def piece_inputs(app: Flask, index: CatalogIndex) -> dict[str, str]:
    """slug -> what of the piece its pages show: its file's hash and its images' variants.

    Cards and search records show less of it (one image); a page shows it all.
    """
    images = app.extensions["images"]
    files = {image.file for piece in index.published for image in piece.images}
    fallback = {name: images.get(name).fallback.name for name in files}
    sources = index.catalog.sources
    return {
        piece.slug: " ".join([sources[piece.slug], *[fallback[i.file] for i in piece.images]])
        for piece in index.published
    }


def _page_specs(
    index: CatalogIndex, inputs: dict[str, str], artist_json: dict[str, str]
) -> Iterator[Spec]:
    """Every file of the site, in a fixed order, with what it shows and how to key it."""
    images = current_app.extensions["images"]
    cards: dict[str, str] = {}

    def card(piece: Sculpture) -> str:
        """What a card shows, made once per piece and only when a page is keyed."""
        text = cards.get(piece.slug)
        if text is None:
            text = cards[piece.slug] = _card_data(index, images, piece)
        return text

    def card_list(pieces: tuple[Sculpture, ...]) -> str:
        return "".join([card(piece) for piece in pieces])

    def listing(items: tuple[Sculpture, ...], title: str) -> Iterator[tuple[int, Spec]]:
        total = index.page_count(items)
        size = index.site.page_size
        for number in range(1, total + 1):
            shown = items[(number - 1) * size : number * size]
            head = json.dumps([title, len(items), number, total], ensure_ascii=False)
            yield number, (shown, lambda head=head, shown=shown: head + card_list(shown))

    home = index.featured + index.newest
    yield (
        "pages.home",
        {},
        home,
        lambda: card_list(index.featured) + "|" + card_list(index.newest),
    )
    for number, (shown, data) in listing(index.published, "catalog"):
        yield "pages.catalog", {"page": number}, shown, data

    def sculpture_data(piece: Sculpture, related: tuple[Sculpture, ...]) -> str:
        own = inputs[piece.slug]
        return "|".join([own, artist_json[piece.artist], card_list(related)])

    for piece in index.published:
        related = index.related(piece)
        yield (
            "pages.sculpture",
            {"slug": piece.slug},
            (piece, *related),
            lambda piece=piece, related=related: sculpture_data(piece, related),
        )
    for slug, works in index.works.items():
        yield (
            "pages.artist",
            {"slug": slug},
            works,
            lambda slug=slug, works=works: artist_json[slug] + card_list(works),
        )
    for endpoint, terms in (("pages.tag", index.tags), ("pages.material", index.materials)):
        for slug, term in terms.items():
            for number, (shown, data) in listing(term.sculptures, term.label):
                yield endpoint, {"slug": slug, "page": number}, shown, data
    for endpoint, values, data in _summary_specs(index, artist_json):
        yield endpoint, values, None, lambda data=data: data
    for endpoint, values in [*asset_urls(), *variant_urls()]:
        yield endpoint, values, None, lambda values=values: "immutable:" + json.dumps(values)


def _card_data(index: CatalogIndex, images: Any, piece: Sculpture) -> str:
    """What a card shows, as text: the repr of a tuple of strings and numbers, unambiguous."""
    first = piece.images[0]
    return repr(
        (
            piece.slug, piece.title, index.artist_name(piece), piece.year,
            str(piece.price.amount), piece.price.currency, piece.edition_size,
            first.file, first.alt, images.get(first.file).fallback.name,
        )
    )  # fmt: skip


def _summary_specs(
    index: CatalogIndex, artist_json: dict[str, str]
) -> Iterator[tuple[str, dict[str, Any], str]]:
    """Pages that summarise the whole catalog, keyed by exactly what they list.

    Each is cheap to key and dear to render at scale (the sitemap lists every
    page), so an edit that changes none of what they show skips them too.
    """
    pieces = index.published
    terms = {
        name: [(slug, t.label, len(t.sculptures)) for slug, t in group.items()]
        for name, group in (("tags", index.tags), ("materials", index.materials))
    }
    works = [(slug, artist_json[slug], len(items)) for slug, items in index.works.items()]
    dated = "\n".join(f"{s.slug} {s.added_on}" for s in pieces)
    shape = json.dumps([index.page_count(pieces), terms, works], ensure_ascii=False)
    feed = json.dumps(
        [
            [p.slug, p.title, index.artist_name(p), str(p.added_on), p.description]
            for p in pieces[:FEED_LIMIT]
        ],
        ensure_ascii=False,
    )
    inventory = "\n".join(f"{s.slug} {s.edition_size}" for s in pieces)
    yield "pages.artists", {}, json.dumps(works, ensure_ascii=False)
    yield "pages.tags", {}, json.dumps(terms["tags"], ensure_ascii=False)
    yield "pages.materials", {}, json.dumps(terms["materials"], ensure_ascii=False)
    for endpoint in ("pages.about", "pages.not_found_page", "pages.robots"):
        yield endpoint, {}, ""  # the store's settings only, already in the shared key
    yield "pages.search", {}, " ".join(bundles_for(index.by_slug))
    yield "pages.sitemap", {}, shape + dated
    yield "pages.feed", {}, feed
    yield "pages.inventory", {}, inventory


def _digest(shared: str, data: str) -> str:
    return hashlib.sha256((shared + data).encode()).hexdigest()[:24]
