"""Template helpers shared by every page: filters, canonical URL, image markup."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from babel import Locale
from flask import Flask, request
from storefront.content.current import get_index
from storefront.content.index import Page, slugify
from storefront.pages import filters, fragments, urls
from storefront.pages.urls import external


def init_app(app: Flask) -> None:
    filters.init_app(app)
    fragments.init_app(app)
    urls.init_app(app)
    app.jinja_env.filters["term_slug"] = slugify
    app.jinja_env.filters["country_name"] = country_name
    app.jinja_env.globals["external"] = _external
    app.jinja_env.globals["pagination_window"] = pagination_window
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.context_processor(_page_context)


@lru_cache(maxsize=512)
def country_name(code: str, language: str) -> str:
    return Locale.parse(filters.locale_of(language)).territories.get(code, code)


def pagination_window(page: Page) -> list[int]:
    """The page numbers a listing's pagination may show: first, last and the current's neighbours.

    The pagination macro decides how each one is shown; handing it only these
    instead of every page number keeps a 400-page catalog's pagination cheap.
    """
    near = range(max(1, page.number - 3), min(page.total, page.number + 3) + 1)
    return sorted({1, page.total, *near})


def _external(endpoint: str, **values: Any) -> str:
    return external(endpoint, str(get_index().site.base_url), **values)


def _page_context() -> dict[str, Any]:
    if request.endpoint in (None, "pages.not_found_page"):
        return {"canonical": None}
    base = str(get_index().site.base_url)
    return {"canonical": base + request.path.lstrip("/")}
