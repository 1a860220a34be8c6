"""URLs, and what search engines and link previews read: canonical URLs and JSON-LD."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import flask
from flask import Flask, request
from flask.globals import _cv_request
from markupsafe import Markup

from .indexes import CatalogIndex
from .models import Sculpture

SCHEMA_AVAILABILITY = {
    "available": "https://schema.org/InStock",
    "reserved": "https://schema.org/Reserved",
    "sold_out": "https://schema.org/SoldOut",
}


_URLS = "storefront.urls"  # app.extensions key of the app's URL memo
_MAX_URLS = 100_000
_PLAIN_VALUES = (str, int)
# One encoder for every block: json.dumps would build a new one per call.
_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def init_app(app: Flask) -> None:
    app.extensions[_URLS] = {}
    app.jinja_env.globals["url_for"] = url_for


def script_root() -> str:
    """request.script_root, read from the request context without the proxy (hot path)."""
    context = _cv_request.get(None)
    if context is None:
        return request.script_root  # raises Flask's "outside of request context" error
    return context.request.root_path


def url_for(endpoint: str, **values: Any) -> str:
    """flask.url_for, remembered per app for in-app paths: pages link the same URLs.

    A page links some twenty URLs (nav, footer, crumbs, terms, pagination) and
    werkzeug would build each one afresh, at several times the cost of a dict
    lookup. A path depends only on the endpoint, its values and the root the
    app is served under, which the live preview may change from one request to
    the next, so that root is part of the key. This holds because the site has no host or
    subdomain rules and no url_defaults; anything else (options like _external
    or _anchor, relative endpoints, values other than str and int, no request)
    goes to Flask every time.
    """
    context = _cv_request.get(None)
    if context is None or endpoint[:1] == ".":
        return flask.url_for(endpoint, **values)
    for name, value in values.items():
        # type() and not isinstance(): True == 1, but the two build different URLs.
        if name[:1] == "_" or type(value) not in _PLAIN_VALUES:
            return flask.url_for(endpoint, **values)
    urls: dict[tuple[Any, ...], str] = context.app.extensions[_URLS]
    key = (context.request.root_path, endpoint, *values.items())
    url = urls.get(key)
    if url is None:
        if len(urls) >= _MAX_URLS:
            urls.clear()
        url = urls[key] = flask.url_for(endpoint, **values)
    return url


def path_prefix(base_url: object) -> str:
    """The path a site's base URL puts before every page: "" at a domain's root, else "/loja"."""
    return urlsplit(str(base_url)).path.rstrip("/")


class SiteUrls:
    """Paths from the site root for ten thousand slugs: url_for once per route shape.

    Slugs are validated to [a-z0-9-], which URL quoting leaves as they are, so
    the URL of /esculturas/<slug>/ is the URL built for a placeholder slug with
    the placeholder replaced; anything else goes through url_for. Use inside a
    request context whose root is `prefix`.
    """

    PLACEHOLDER = "0slug0"
    SAFE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.shapes: dict[tuple[str, tuple[tuple[str, Any], ...]], str] = {}

    def __call__(self, endpoint: str, values: dict[str, Any]) -> str:
        slug = values.get("slug")
        if not isinstance(slug, str) or not self.SAFE.match(slug):
            return flask.url_for(endpoint, **values)[len(self.prefix) :]
        rest = (
            () if len(values) == 1 else tuple(sorted(i for i in values.items() if i[0] != "slug"))
        )
        shape = self.shapes.get((endpoint, rest))
        if shape is None:
            shape = flask.url_for(endpoint, slug=self.PLACEHOLDER, **dict(rest))
            shape = self.shapes[(endpoint, rest)] = shape[len(self.prefix) :]
        return shape.replace(self.PLACEHOLDER, slug)


def absolute_url(path: str, base_url: str) -> str:
    """Public URL of an app path (as url_for returns it), under the site's base URL."""
    root = script_root()
    relative = path[len(root) :] if path.startswith(root) else path
    return base_url + relative.lstrip("/")


def external(endpoint: str, base_url: str, **values: Any) -> str:
    return absolute_url(url_for(endpoint, **values), base_url)


def json_ld(data: dict[str, Any]) -> Markup:
    """A JSON-LD block; `<` is escaped so the data can never close the script."""
    text = _JSON.encode(data).replace("<", "\\u003c")
    return Markup('<script type="application/ld+json">' + text + "</script>")


def product_ld(index: CatalogIndex, sculpture: Sculpture, image_urls: list[str]) -> Markup:
    base = str(index.site.base_url)
    url = external("pages.sculpture", base, slug=sculpture.slug)
    artist = index.catalog.artists[sculpture.artist]
    return json_ld(
        {
            "@context": "https://schema.org",
            "@type": "Product",
            "@id": url + "#product",
            "name": sculpture.title,
            "url": url,
            "sku": sculpture.slug,
            "image": image_urls,
            "description": sculpture.description.split("\n\n")[0].strip(),
            "material": ", ".join(sculpture.materials),
            "brand": {"@type": "Brand", "name": index.site.name},
            "creator": {
                "@type": "Person",
                "name": artist.name,
                "url": external("pages.artist", base, slug=artist.slug),
            },
            "height": _quantity(sculpture.dimensions.height_cm, "CMT"),
            "width": _quantity(sculpture.dimensions.width_cm, "CMT"),
            "depth": _quantity(sculpture.dimensions.depth_cm, "CMT"),
            "weight": _quantity(sculpture.weight_kg, "KGM"),
            "offers": {
                "@type": "Offer",
                "url": url,
                "price": f"{sculpture.price.amount:.2f}",
                "priceCurrency": sculpture.price.currency,
                "availability": SCHEMA_AVAILABILITY["available"],
                "itemCondition": "https://schema.org/NewCondition",
                "seller": {"@type": "Organization", "name": index.site.name},
            },
        }
    )


def _quantity(value: Decimal, unit: str) -> dict[str, Any]:
    return {"@type": "QuantitativeValue", "value": float(value), "unitCode": unit}


def breadcrumbs_ld(trail: list[tuple[str, str]], base_url: str) -> Markup:
    """BreadcrumbList for a trail of (name, app path)."""
    return json_ld(
        {
            "@context": "https://schema.org",
            "@type": "BreadcrumbList",
            "itemListElement": [
                {
                    "@type": "ListItem",
                    "position": position,
                    "name": name,
                    "item": absolute_url(path, base_url),
                }
                for position, (name, path) in enumerate(trail, start=1)
            ],
        }
    )
