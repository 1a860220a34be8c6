"""The app's catalog: loaded once (validated, all or nothing) and its index."""

from __future__ import annotations

from flask import Flask, current_app

from storefront.content.catalog import load_catalog, with_base_url
from storefront.content.index import CatalogIndex


def init_app(app: Flask) -> None:
    app.extensions["catalog_index"] = None


def load(app: Flask) -> CatalogIndex:
    """Load and index the catalog now (raises ContentError when content is invalid).

    BASE_URL (`freeze --base-url`, STOREFRONT_BASE_URL) builds the site for
    another address than site.yaml's, as a pull request's preview is.
    """
    catalog = load_catalog(app.config["CONTENT_DIR"], app.config.get("PARSE_CACHE_FILE"))
    if app.config.get("BASE_URL"):
        catalog = with_base_url(catalog, str(app.config["BASE_URL"]))
    index = CatalogIndex(catalog)
    app.extensions["catalog_index"] = index
    return index


def get_index() -> CatalogIndex:
    index = current_app.extensions["catalog_index"]
    if index is None or current_app.debug:
        index = load(current_app._get_current_object())  # type: ignore[attr-defined]
    return index
