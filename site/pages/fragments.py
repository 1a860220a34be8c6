"""Rendered fragments reused across pages: sculpture cards, pictures' sources, page chrome.

A piece's card appears on a catalog page, its artist's page, its tag and
material pages and as a related work, and each card builds ten image URLs.
Rendering it once per process instead of once per appearance is most of the
freeze's speed on a large catalog. The header and footer are the same on every
page of one catalog under one app root, so they too are rendered once.

Fragments are rendered through the Jinja environment directly: they read only
what they are given, so Flask's context processors and signals, which
render_template runs for every call, would be wasted work. An image's srcsets
are remembered too: a card and its sculpture's page show the same ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from markupsafe import Markup
from storefront.content.index import CatalogIndex
from storefront.content.models import Sculpture, SiteConfig
from storefront.pages.images import ResponsiveImage, image_url_prefix, responsive_image
from storefront.pages.urls import script_root

_MAX_ENTRIES = 200_000


class OwnedMemo:
    """Fragments made from one object (a catalog index, a site config); another starts afresh.

    The memo holds its owner rather than the owner's id(): a catalog reloaded
    by the live preview could otherwise get the address of the one it
    replaced, and be shown that one's fragments.
    """

    def __init__(self) -> None:
        # One (owner, entries) pair, replaced whole: a thread serving another
        # owner can never be handed this owner's entries.
        self._current: tuple[object, dict[tuple[Any, ...], Markup]] = (None, {})

    def entries(self, owner: object) -> dict[tuple[Any, ...], Markup]:
        current_owner, entries = self._current
        if owner is not current_owner or len(entries) > _MAX_ENTRIES:
            entries = {}
            self._current = (owner, entries)
        return entries


@dataclass(frozen=True)
class PictureSources:
    """What a <picture> of one image writes: a srcset per format and the fallback <img>."""

    avif: str
    webp: str
    jpg: str
    src: str
    width: int
    height: int


_cards = OwnedMemo()
_chrome = OwnedMemo()
_pictures: dict[tuple[str, str], tuple[ResponsiveImage, PictureSources]] = {}


def init_app(app: Flask) -> None:
    app.jinja_env.globals["cards"] = cards
    app.jinja_env.globals["chrome"] = chrome
    app.jinja_env.globals["picture_sources"] = picture_sources


def card(piece: Sculpture, index: CatalogIndex, level: int = 2, eager: bool = False) -> Markup:
    """A sculpture's card (<li>) for grids, rendered once per app root.

    Its other forms (a level-3 heading for related works, an eager image above
    the fold) are the same card with one heading or one attribute changed, so
    they are made from it by substitution rather than rendered again.
    """
    cards = _cards.entries(index)
    key = (script_root(), piece.slug, level, eager)
    html = cards.get(key)
    if html is None:
        if (level, eager) != (2, False):
            html = _card_variant(card(piece, index), level, eager)
        if html is None:
            # A macro called directly: no template context to build, no import to resolve.
            render = macro("_card.html", "sculpture_card")
            html = render(piece, level, eager, index, index.site)
        cards[key] = html
    return html


_LAZY_IMAGE = ' loading="lazy" decoding="async">'
_EAGER_IMAGE = ' fetchpriority="high">'


def _card_variant(base: Markup, level: int, eager: bool) -> Markup | None:
    """The level-2, lazy card with its heading level and image loading changed.

    Text in a card is escaped, so these markers only occur where the template
    put them; if the template no longer has them exactly once, None says to render.
    """
    html = str(base)
    changes = [("<h2>", f"<h{level}>"), ("</h2>", f"</h{level}>")] if level != 2 else []
    if eager:
        changes.append((_LAZY_IMAGE, _EAGER_IMAGE))
    for old, new in changes:
        if html.count(old) != 1:
            return None
        html = html.replace(old, new)
    return Markup(html)


def cards(
    pieces: Sequence[Sculpture], index: CatalogIndex, level: int = 2, eager_count: int = 0
) -> list[Markup]:
    """The cards of a grid; the first `eager_count` images load eagerly (above the fold).

    One call per grid rather than one per card: the grid macro then loops
    without Jinja's loop object and a template call per card.
    """
    return [card(piece, index, level, n < eager_count) for n, piece in enumerate(pieces)]


def chrome(template: str, site: SiteConfig) -> Markup:
    """A part of every page that shows only the store's settings and links, like the header."""
    parts = _chrome.entries(site)
    key = (template, script_root())
    html = parts.get(key)
    if html is None:
        rendered = current_app.jinja_env.get_template(template).render(site=site)
        html = parts[key] = Markup(rendered)
    return html


def macro(template: str, name: str) -> Callable[..., Markup]:
    """A macro of a template, to call from Python with exactly the given arguments."""
    return getattr(current_app.jinja_env.get_template(template).module, name)


def picture_sources(file_name: str) -> PictureSources:
    """An image's srcsets and fallback under the current app root, made once.

    One call instead of one per srcset and URL: each call from a template costs
    as much as the string it returns, and a card and its piece's page share it.
    """
    image = responsive_image(file_name)
    key = (script_root(), image.source)
    known = _pictures.get(key)
    if known is not None and known[0] is image:
        return known[1]
    if len(_pictures) > _MAX_ENTRIES:
        _pictures.clear()
    prefix = image_url_prefix()

    def srcset(ext: str) -> str:
        return ", ".join(f"{prefix}{v.name} {v.width}w" for v in image.of(ext))

    sources = PictureSources(
        avif=srcset("avif"),
        webp=srcset("webp"),
        jpg=srcset("jpg"),
        src=prefix + image.fallback.name,
        width=image.width,
        height=image.height,
    )
    _pictures[key] = (image, sources)
    return sources
