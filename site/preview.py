"""Local previews: the live app with the API mounted, and the frozen build as the CDN serves it.

Both keep the production shape: one origin, the site at `/` and the
availability API at `/api/...` (plus its health checks), with the API receiving
the full path exactly as CloudFront forwards it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import click
from flask import Flask, abort, current_app, send_from_directory
from flask.cli import with_appcontext
from storefront.publish.headers import CachePolicy, UnknownFileType, headers_for
from werkzeug.routing import BaseConverter
from werkzeug.serving import run_simple
from werkzeug.utils import send_file
from werkzeug.wrappers import Request, Response

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
API_PATHS = ("/api/", "/healthz", "/readyz")
_log = logging.getLogger(__name__)


class SearchBundleConverter(BaseConverter):
    """Matches the search bundles' folder names: pagefind, pagefind-1, ..."""

    regex = r"pagefind(?:-\d+)?"


def init_app(app: Flask) -> None:
    app.url_map.converters["search_bundle"] = SearchBundleConverter
    app.add_url_rule("/<search_bundle:bundle>/<path:filename>", "preview.pagefind", _pagefind)
    app.cli.add_command(serve_command)
    if app.config["MOUNT_API"]:
        app.wsgi_app = ApiDispatcher(app.wsgi_app, lambda: _create_api(app))  # type: ignore[method-assign]


def _pagefind(bundle: str, filename: str):  # type: ignore[no-untyped-def]
    """Serve the last freeze's search index, so search works in `flask run` too."""
    folder = current_app.config["BUILD_DIR"] / bundle
    if not folder.is_dir():
        abort(404)
    return send_from_directory(folder, filename)


def _create_api(site: Flask) -> WSGIApp | None:
    """The availability API on an embedded SQLite store, synced from the last freeze."""
    try:
        from api import create_app
    except ImportError:
        return None
    store = site.config["CACHE_DIR"].parent / "availability.sqlite3"
    store.parent.mkdir(parents=True, exist_ok=True)
    config = {"STORE_URL": os.environ.get("API_STORE_URL", f"sqlite:///{store}")}
    api = create_app(config)
    inventory = site.config["BUILD_DIR"] / "inventory.json"
    if not inventory.is_file():  # live `flask run` before any freeze: ask the live site
        inventory = site.config["CACHE_DIR"] / "inventory.json"
        with site.test_client() as client:
            response = client.get("/inventory.json")
            if response.status_code != 200:
                raise RuntimeError(f"the site could not list its inventory: {response.status}")
            inventory.parent.mkdir(parents=True, exist_ok=True)
            inventory.write_bytes(response.data)
    result = api.test_cli_runner().invoke(args=["sync-inventory", str(inventory)])
    if result.exit_code != 0:
        raise RuntimeError(f"sync-inventory failed: {result.output}")
    return api.wsgi_app


class ApiDispatcher:
    """Send /api/* and the health checks to the API app, everything else to the site."""

    def __init__(self, site: WSGIApp, api_factory: Callable[[], WSGIApp | None]) -> None:
        self.site = site
        self.api_factory = api_factory
        self._api: WSGIApp | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):  # type: ignore[no-untyped-def]
        path = environ.get("PATH_INFO", "")
        if path.startswith(API_PATHS[0]) or path in API_PATHS[1:]:
            if self._api is None:
                try:
                    self._api = self.api_factory()
                except Exception as error:  # the site stays up; the page says "unknown"
                    _log.warning("availability API could not start: %s", error)
            if self._api is None:
                return _unavailable()(environ, start_response)
            return self._api(environ, start_response)
        return self.site(environ, start_response)


def _unavailable() -> Response:
    body = {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "The availability API is not available in this preview.",
    }
    return Response(json.dumps(body), status=503, mimetype="application/problem+json")


class FrozenSite:
    """Serve build/site like S3 + CloudFront: index.html for directories, 404.html for misses."""

    def __init__(self, root: Path, policy: CachePolicy | None = None) -> None:
        self.root = root.resolve()
        self.policy = policy or CachePolicy()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):  # type: ignore[no-untyped-def]
        request = Request(environ)
        response = self.respond(request)
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response("method not allowed\n", status=405, headers={"Allow": "GET, HEAD"})
        path = unquote(request.path)
        target = self._resolve(path)
        if target is None:
            if self._resolve(path + "/") is not None:
                return Response(status=301, headers={"Location": path + "/"})
            return self._not_found(request)
        relative = target.relative_to(self.root).as_posix()
        # The headers publish stores on each object, so the preview behaves like the CDN.
        try:
            content_type, cache_control = headers_for(relative, self.policy)
        except UnknownFileType:
            content_type, cache_control = None, self.policy.revalidate
        response = send_file(target, request.environ, mimetype=content_type, conditional=True)
        response.headers["Cache-Control"] = cache_control
        return response

    def _resolve(self, path: str) -> Path | None:
        relative = path.lstrip("/")
        if relative.endswith("/") or relative == "":
            relative += "index.html"
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    def _not_found(self, request: Request) -> Response:
        page = self.root / "404.html"
        body = page.read_bytes() if page.is_file() else b"not found\n"
        return Response(body, status=404, mimetype="text/html")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Serve the frozen build the way CloudFront will, with the API at /api."""
    site = current_app._get_current_object()  # type: ignore[attr-defined]
    build_dir = site.config["BUILD_DIR"]
    if not (build_dir / "index.html").is_file():
        raise click.ClickException(f"no build in {build_dir}: run `flask --app storefront freeze`")
    app = ApiDispatcher(FrozenSite(build_dir), lambda: _create_api(site))
    click.echo(f"Serving {build_dir} on http://{host}:{port}/ (API at /api/)")
    run_simple(host, port, app, threaded=True)
