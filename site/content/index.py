"""Derived views of the catalog: taxonomies, artist works, pages of listings.

Computed once per catalog and shared by every page, because each listing page
would otherwise re-scan ten thousand sculptures to find its dozen.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, lru_cache

from storefront.content.catalog import Catalog
from storefront.content.models import Sculpture

EPOCH = dt.date(2000, 1, 1)  # "updated" of an empty catalog
RELATED_LIMIT = 4
FEATURED_LIMIT = 6
NEWEST_LIMIT = 8
FEED_LIMIT = 30
PRICE_BANDS: tuple[tuple[Decimal | None, str], ...] = (
    (Decimal(2000), "Até R$ 2.000"),
    (Decimal(10000), "De R$ 2.000 a R$ 10.000"),
    (Decimal(30000), "De R$ 10.000 a R$ 30.000"),
    (None, "Acima de R$ 30.000"),
)


@lru_cache(maxsize=65536)
def slugify(text: str) -> str:
    """ASCII URL segment for a tag or material: 'pedra-sabão' -> 'pedra-sabao'."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-") or "item"


def price_band(amount: Decimal) -> str:
    for limit, label in PRICE_BANDS:
        if limit is None or amount <= limit:
            return label
    raise AssertionError("the last band has no limit")


@dataclass(frozen=True)
class Term:
    """A tag or a material and the published pieces that carry it."""

    slug: str
    label: str
    sculptures: tuple[Sculpture, ...]


@dataclass(frozen=True)
class Card:
    """What a listing shows of a piece: the piece and its artist's name."""

    piece: Sculpture
    artist_name: str


class Cards(Sequence[Card]):
    """The cards of a list of pieces, as one object: a related-works list is the same object
    on every page that shows it, so a page key can stand for it whole (see pages.keys)."""

    __slots__ = ("items",)

    def __init__(self, items: tuple[Card, ...]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, position: int) -> Card:  # type: ignore[override]
        return self.items[position]

    def __iter__(self) -> Iterator[Card]:
        return iter(self.items)


@dataclass(frozen=True)
class Page:
    number: int
    total: int
    items: Cards


class CatalogIndex:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.site = catalog.site
        self.published = catalog.published
        self.by_slug = {s.slug: s for s in self.published}
        works: dict[str, list[Sculpture]] = defaultdict(list)
        for sculpture in self.published:
            works[sculpture.artist].append(sculpture)
        self.works = {slug: tuple(items) for slug, items in works.items()}
        # artist -> (their newest works, their slugs, what every other piece shows): one
        # tuple shared by all the pieces not among the newest, so its cards are made once.
        self._nearby = {
            artist: (
                items[: RELATED_LIMIT + 1],
                frozenset(s.slug for s in items[: RELATED_LIMIT + 1]),
                items[:RELATED_LIMIT],
            )
            for artist, items in self.works.items()
        }
        self.featured = tuple(s for s in self.published if s.featured)[:FEATURED_LIMIT]
        self.newest = self.published[:NEWEST_LIMIT]
        self.feed = self.published[:FEED_LIMIT]
        # When the catalog last changed, as far as a visitor can tell: its newest piece.
        self.updated = max((s.added_on for s in self.published), default=EPOCH)
        self._cards: dict[str, Card] = {}
        self._card_lists: dict[int, tuple[tuple[Sculpture, ...], Cards]] = {}

    def cards(self, pieces: tuple[Sculpture, ...]) -> Cards:
        """The cards of pieces: one object per piece, and one tuple per tuple of pieces the
        index holds (related works, an artist's works), for the life of the index."""
        known = self._card_lists.get(id(pieces))
        if known is not None and known[0] is pieces:
            return known[1]
        cards = self._cards
        found = []
        for piece in pieces:
            card = cards.get(piece.slug)
            if card is None:
                card = cards[piece.slug] = Card(piece, self.artist_name(piece))
            found.append(card)
        result = Cards(tuple(found))
        self._card_lists[id(pieces)] = (pieces, result)  # holding `pieces` keeps its id unique
        return result

    # Worked out on first use: a freeze's search indexer, forked before the pages
    # are planned, never needs them.
    @cached_property
    def tags(self) -> dict[str, Term]:
        return self._terms(lambda s: s.tags)

    @cached_property
    def materials(self) -> dict[str, Term]:
        return self._terms(lambda s: s.materials)

    def _terms(self, values) -> dict[str, Term]:  # type: ignore[no-untyped-def]
        grouped: dict[str, list[Sculpture]] = defaultdict(list)
        labels: dict[str, str] = {}
        for sculpture in self.published:
            for value in values(sculpture):
                slug = slugify(value)
                labels.setdefault(slug, value)
                grouped[slug].append(sculpture)
        return {
            slug: Term(slug, labels[slug], tuple(grouped[slug]))
            for slug in sorted(grouped, key=lambda k: labels[k].casefold())
        }

    def artist_name(self, sculpture: Sculpture) -> str:
        return self.catalog.artists[sculpture.artist].name

    def related(self, sculpture: Sculpture) -> tuple[Sculpture, ...]:
        """The artist's newest other works; one shared tuple for every piece not among them."""
        nearby, slugs, shared = self._nearby.get(sculpture.artist, ((), frozenset(), ()))
        if sculpture.slug not in slugs:
            return shared
        return tuple(s for s in nearby if s.slug != sculpture.slug)[:RELATED_LIMIT]

    def page_count(self, items: tuple[Sculpture, ...]) -> int:
        return max(1, -(-len(items) // self.site.page_size))

    def page(self, items: tuple[Sculpture, ...], number: int) -> Page | None:
        total = self.page_count(items)
        if not 1 <= number <= total:
            return None
        size = self.site.page_size
        return Page(number, total, self.cards(items[(number - 1) * size : number * size]))
