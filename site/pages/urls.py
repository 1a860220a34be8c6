"""URLs of the site's pages: url_for remembered per app, path prefixes, slug URLs at scale."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import flask
from flask import Flask, request
from flask.globals import _cv_request

_URLS = "storefront.urls"  # app.extensions key of the app's URL memo


_MAX_URLS = 100_000


_PLAIN_VALUES = (str, int)


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
