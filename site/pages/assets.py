"""Fingerprinted static assets: the file's hash in its URL, cached for a year.

A CSS or JS file is served as `static/<name>.<hash>.<ext>`; pages always link to
the current hash, so a browser or CDN can keep any version forever and still
never show a page with a stale stylesheet.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app, send_file
from storefront.pages.urls import url_for

STATIC_DIR = Path(__file__).resolve().parent / "static"
bp = Blueprint("assets", __name__)


@dataclass(frozen=True)
class AssetManifest:
    """Logical name (e.g. `site.css`) <-> fingerprinted name (`site.1a2b3c4d5e.css`)."""

    folder: Path
    hashed: dict[str, str]

    @classmethod
    def scan(cls, folder: Path) -> AssetManifest:
        hashed = {}
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            logical = path.relative_to(folder).as_posix()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
            stem, dot, ext = logical.rpartition(".")
            hashed[logical] = f"{stem}.{digest}.{ext}" if dot else f"{logical}.{digest}"
        return cls(folder, hashed)

    def source_of(self, fingerprinted: str) -> Path | None:
        for logical, name in self.hashed.items():
            if name == fingerprinted:
                return self.folder / logical
        return None

    def read_text(self, logical: str) -> str:
        return (self.folder / logical).read_text(encoding="utf-8")


def init_app(app: Flask) -> None:
    app.extensions["assets"] = AssetManifest.scan(STATIC_DIR)
    app.register_blueprint(bp)
    app.jinja_env.globals["asset_url"] = asset_url


def manifest() -> AssetManifest:
    return current_app.extensions["assets"]


def asset_url(logical: str) -> str:
    """URL of a static file by its logical name, with the content hash in it."""
    return url_for("assets.static_file", filename=manifest().hashed[logical])


def asset_urls() -> Iterator[tuple[str, dict[str, str]]]:
    """Every fingerprinted asset, for the freezer."""
    for name in manifest().hashed.values():
        yield "assets.static_file", {"filename": name}


def send_immutable(path: Path | None) -> Response:
    """A content-addressed file: cacheable for a year, never revalidated (404 if None)."""
    if path is None:
        abort(404)
    response = send_file(path, max_age=31_536_000, etag=False, last_modified=None)
    response.cache_control.immutable = True
    return response


@bp.route("/static/<path:filename>")
def static_file(filename: str) -> Response:
    return send_immutable(manifest().source_of(filename))
