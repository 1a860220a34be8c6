"""The freeze's plan: every file of the site with a key, a digest of what it shows.

A page whose key and file are unchanged since the last freeze is not rendered
again. The pages are those the page types of the registry list; a page's key
is a digest of the code that renders pages and of its context, the data its
template receives (see storefront.pages.keys). Nothing here says what a page
shows, so nothing here can fall behind a template.

Keying every page means making every page's context at each freeze. Contexts
select data (a piece, its artist, the cards of a listing) and leave the
formatting to the templates, and the text of a shared object (a piece, a card)
is made once per plan, so ten thousand sculpture pages and their listings are
keyed in a fraction of a second.
"""

from __future__ import annotations

import json
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

from flask import Flask
from storefront import common, content, freeze, pages
from storefront.common.code_version import code_version
from storefront.common.state_files import write_atomically
from storefront.content.index import CatalogIndex
from storefront.pages.keys import Fingerprints, page_key
from storefront.pages.registry import SITE
from storefront.pages.urls import SiteUrls, path_prefix

_FORMAT = 2


class PlannedPage(NamedTuple):
    url: str  # relative to the site root, as Frozen-Flask writes it
    endpoint: str
    values: dict[str, Any]
    key: str  # a digest of what the page shows: unchanged key, unchanged file


@dataclass(frozen=True)
class PlanState:
    """What the last build wrote: its pages and their keys. Saved when a build completes;
    a missing or damaged state means a full build."""

    pages: list[PlannedPage]

    def save(self, path: Path) -> None:
        data = (_FORMAT, [tuple(p) for p in self.pages])
        write_atomically(path, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))

    @classmethod
    def load(cls, path: Path) -> PlanState | None:
        """The last build's plan; None when there is none or it cannot be read (a full plan)."""
        try:
            version, pages = pickle.loads(path.read_bytes())
            if version != _FORMAT:
                return None
            return cls([PlannedPage(*page) for page in pages])
        except (OSError, pickle.UnpicklingError, EOFError, TypeError, ValueError):
            return None


def page_code(index: CatalogIndex) -> str:
    """What every page depends on besides its context: the code that renders pages (the
    content models, the pages stage with its templates and assets, the freeze's rendering,
    the modules that define page types) and the store's settings, shown on every page."""
    modules = {_module_of(page_type.context) for page_type in SITE.pages}
    version = code_version([common, content, pages, freeze], sorted(modules, key=str))
    return f"{version}:{index.site.model_dump_json()}"


def photo_fingerprints(app: Flask, index: CatalogIndex) -> Fingerprints:
    """Fingerprints whose photo tokens are their variants' names (hashes of their bytes)."""
    images = app.extensions["images"]
    return Fingerprints(index, lambda name: images.get(name).fallback.name)


def _module_of(function: Any) -> ModuleType:
    return sys.modules[function.__module__]


def plan(
    app: Flask,
    index: CatalogIndex,
    code: str | None = None,
    fingerprints: Fingerprints | None = None,
) -> list[PlannedPage]:
    """Every file of the site, with the key that says when it must be rendered again.

    The images of the catalog must be prepared (their variants are in the keys).
    """
    code = code or page_code(index)
    fingerprints = fingerprints or photo_fingerprints(app, index)
    prefix = path_prefix(index.site.base_url)
    planned = []
    with app.test_request_context(base_url=prefix or None):
        urls = SiteUrls(prefix)
        for page_type in SITE.pages:
            endpoint = page_type.endpoint
            for values in page_type.each(index):
                shown = fingerprints(page_type.context(index, **values))
                key = page_key(code, endpoint, shown)
                planned.append(PlannedPage(urls(endpoint, values), endpoint, values, key))
        for file_type in SITE.files:
            for values in file_type.each():
                # Content-addressed: the name is the key, whatever the code.
                key = page_key("", file_type.endpoint, json.dumps(values, sort_keys=True))
                planned.append(
                    PlannedPage(urls(file_type.endpoint, values), file_type.endpoint, values, key)
                )
    return planned
