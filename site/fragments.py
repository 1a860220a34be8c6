"""Rendered fragments reused across pages: sculpture cards and image srcsets.

A piece's card appears on a catalog page, its artist's page, its tag and
material pages and as a related work, and each card builds ten image URLs.
Rendering it once per process instead of once per appearance is most of the
freeze's speed on a large catalog.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, request
from markupsafe import Markup

from .content import get_index
from .images import ResponsiveImage, image_url
from .models import Sculpture

_MAX_ENTRIES = 200_000
_cards: dict[tuple[Any, ...], Markup] = {}
_srcsets: dict[tuple[Any, ...], str] = {}


def init_app(app: Flask) -> None:
    app.jinja_env.globals["card"] = card
    app.jinja_env.globals["srcset"] = srcset


def card(piece: Sculpture, level: int = 2, eager: bool = False) -> Markup:
    index = get_index()
    key = (id(index), request.script_root, piece.slug, level, eager)
    html = _cards.get(key)
    if html is None:
        if len(_cards) > _MAX_ENTRIES:
            _cards.clear()
        html = Markup(
            render_template(
                "_card.html", piece=piece, level=level, eager=eager, index=index, site=index.site
            )
        )
        _cards[key] = html
    return html


def srcset(image: ResponsiveImage, ext: str) -> str:
    key = (request.script_root, image.source, image.variants, ext)
    value = _srcsets.get(key)
    if value is None:
        if len(_srcsets) > _MAX_ENTRIES:
            _srcsets.clear()
        value = ", ".join(f"{image_url(v)} {v.width}w" for v in image.of(ext))
        _srcsets[key] = value
    return value
