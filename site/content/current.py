"""The app's catalog: loaded once (validated, all or nothing) and its index."""

from __future__ import annotations

from flask import Flask, current_app

from storefront.content.catalog import load_catalog
from storefront.content.index import CatalogIndex


def init_app(app: Flask) -> None:
    app.extensions["catalog_index"] = None


def load(app: Flask) -> CatalogIndex:
    """Load and index the catalog now (raises ContentError when content is invalid)."""
    catalog = load_catalog(app.config["CONTENT_DIR"], app.config.get("PARSE_CACHE_FILE"))
    index = CatalogIndex(catalog)
    app.extensions["catalog_index"] = index
    return index


def get_index() -> CatalogIndex:
    index = current_app.extensions["catalog_index"]
    if index is None or current_app.debug:
        index = load(current_app._get_current_object())  # type: ignore[attr-defined]
    return index
