"""The search page, registered by the search stage: it loads the bundles the index has."""

from __future__ import annotations

from storefront.content.index import CatalogIndex
from storefront.pages.registry import SITE, Context
from storefront.search.shards import bundles_for


@SITE.page("/busca/", template="search.html", lastmod=lambda index: index.updated)
def search(index: CatalogIndex) -> Context:
    return {"bundles": bundles_for(index.by_slug)}
