"""Page types, each registered once: its route, its pages for the freeze, its sitemap entries.

A page type is a function from the catalog (and the URL's values) to the
page's data: exactly the context its template receives, and nothing else (no
catalog index, no app). The view renders that context; the freeze keys the
page by a digest of the same context (see keys); the sitemap lists the pages
the type says exist. What a page shows and what its key covers therefore
cannot drift apart: a template can only show what its context holds.

Adding a page type is one decorated function:

    @SITE.page("/sobre/", template="about.html")
    def about(index: CatalogIndex) -> dict[str, Any]:
        return {}

`each` lists the URL values of every page of the type (default: one page with
none); `lastmod`, when given, puts the pages in the sitemap. Files that are
not rendered from the catalog (fingerprinted assets, image variants) register
with `files()`: the freeze writes them, keyed by their content-addressed names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, render_template
from storefront.content.current import get_index
from storefront.content.index import CatalogIndex
from storefront.content.models import SiteConfig

Values = dict[str, Any]
Context = Mapping[str, Any]
Body = Callable[[SiteConfig, Context], str]


def _one_page(_index: CatalogIndex) -> Iterable[Values]:
    return ({},)


@dataclass(frozen=True)
class PageType:
    """Pages rendered from the catalog by one view."""

    endpoint: str
    context: Callable[..., Context]  # (index, **values) -> what the template receives
    template: str | Body  # a template name, or a function writing the body
    each: Callable[[CatalogIndex], Iterable[Values]]
    lastmod: Callable[..., dt.date] | None  # (index, **values); None: not in the sitemap
    mimetype: str

    def render(self, index: CatalogIndex, values: Values) -> str | Response:
        context = self.context(index, **values)
        if isinstance(self.template, str):
            body = render_template(self.template, site=index.site, **context)
        else:
            body = self.template(index.site, context)
        return body if self.mimetype == "text/html" else Response(body, mimetype=self.mimetype)


@dataclass(frozen=True)
class FileType:
    """Files served as they are, named by a hash of their bytes: the name is the key."""

    endpoint: str
    each: Callable[[], Iterable[Values]]


class PageSet:
    """The site's page types, on one blueprint (endpoints `<name>.<function>`)."""

    def __init__(self, name: str, import_name: str) -> None:
        self.blueprint = Blueprint(name, import_name)
        self.pages: list[PageType] = []
        self.files: list[FileType] = []

    def page(
        self,
        *rules: str | tuple[str, Values],
        template: str | Body,
        each: Callable[[CatalogIndex], Iterable[Values]] = _one_page,
        lastmod: Callable[..., dt.date] | None = None,
        mimetype: str = "text/html",
    ) -> Callable[[Callable[..., Context]], Callable[..., Context]]:
        """Register a page type; a rule may carry defaults: ("/esculturas/", {"page": 1})."""

        def register(context: Callable[..., Context]) -> Callable[..., Context]:
            name = context.__name__
            page_type = PageType(
                f"{self.blueprint.name}.{name}", context, template, each, lastmod, mimetype
            )

            def view(**values: Any) -> str | Response:
                return page_type.render(get_index(), values)

            for rule in rules:
                path, defaults = (rule, {}) if isinstance(rule, str) else rule
                options = {"defaults": defaults} if defaults else {}
                self.blueprint.add_url_rule(path, name, view, **options)
            self.pages.append(page_type)
            return context

        return register

    def file(self, endpoint: str, each: Callable[[], Iterable[Values]]) -> None:
        self.files.append(FileType(endpoint, each))

    def page_type(self, endpoint: str) -> PageType:
        return next(p for p in self.pages if p.endpoint == endpoint)

    def sitemap(self, index: CatalogIndex) -> Iterator[tuple[str, Values, str]]:
        """(endpoint, values, last modified as YYYY-MM-DD) of every page the sitemap lists."""
        for page_type in self.pages:
            if page_type.lastmod is not None:
                for values in page_type.each(index):
                    lastmod = page_type.lastmod(index, **values)
                    yield page_type.endpoint, values, lastmod.isoformat()


SITE = PageSet("pages", __name__)
