"""One pagefind record per sculpture: what search finds, filters and shows.

pagefind's cost grows with the HTML it parses, and a sculpture page carries a
gallery, related works and the store's chrome that search never shows. So the
index is not built from the frozen pages but from a record per sculpture: the
URL of its page; as text its title, artist, year, price, materials, themes and
description; its filters (artist, material, theme, price band), meta (title,
price, image) and sort key (price).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask
from storefront.content.index import CatalogIndex, price_band
from storefront.content.models import Sculpture
from storefront.pages.filters import markdown, money
from storefront.pages.images import image_url
from storefront.pages.urls import SiteUrls, path_prefix


@dataclass(frozen=True)
class ShardRecords:
    """A shard's records, made one by one as they are sent to pagefind."""

    app: Flask
    slugs: list[str]

    def __len__(self) -> int:
        return len(self.slugs)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return records(self.app, self.slugs)


def records(app: Flask, slugs: Collection[str]) -> Iterator[dict[str, Any]]:
    """The pagefind record of each sculpture: what search finds, filters and shows."""
    index: CatalogIndex = app.extensions["catalog_index"]
    prefix = path_prefix(index.site.base_url)
    urls = SiteUrls(prefix)  # from the site root, as pagefind reads a page's path
    with app.test_request_context(base_url=prefix or None):
        for slug in slugs:
            url = urls("pages.sculpture", {"slug": slug})
            yield _record(app, index, index.by_slug[slug], url)


def _record(app: Flask, index: CatalogIndex, piece: Sculpture, url: str) -> dict[str, Any]:
    language = index.site.language
    first = piece.images[0]
    artist = index.artist_name(piece)
    price = money(piece.price.amount, piece.price.currency, language)
    text = [f"{piece.title}.", f"{artist}, {piece.year}.", f"{price}."]
    text.append(f"Materiais: {', '.join(piece.materials)}.")
    if piece.tags:
        text.append(f"Temas: {', '.join(piece.tags)}.")
    text.append(markdown(piece.description).striptags())
    filters = {"artista": [artist], "material": list(piece.materials)}
    if piece.tags:
        filters["tema"] = list(piece.tags)
    filters["faixa de preço"] = [price_band(piece.price.amount)]
    return {
        "url": url,
        "content": " ".join(text),
        "language": language,
        "meta": {
            "title": piece.title,
            "image": image_url(app.extensions["images"].get(first.file).of("jpg")[0]),
            "image_alt": first.alt,
            "preço": price,
        },
        "filters": filters,
        "sort": {"preço": f"{piece.price.amount:012.2f}"},
    }
