"""Every kind of file the site emits gets an explicit Content-Type and Cache-Control."""

from __future__ import annotations

import pytest
from storefront.publish.headers import (
    CachePolicy,
    UnknownFileType,
    content_type,
    headers_for,
    is_fingerprinted,
)

POLICY = CachePolicy()


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("esculturas/onda/index.html", "text/html; charset=utf-8"),
        ("404.html", "text/html; charset=utf-8"),
        ("static/site.571bb1d0fd.css", "text/css; charset=utf-8"),
        ("static/site.bdec31fe89.js", "text/javascript; charset=utf-8"),
        ("inventory.json", "application/json; charset=utf-8"),
        ("sitemap.xml", "application/xml; charset=utf-8"),
        ("feed.xml", "application/atom+xml; charset=utf-8"),
        ("feed.atom", "application/atom+xml; charset=utf-8"),
        ("robots.txt", "text/plain; charset=utf-8"),
        ("static/favicon.ebeff746d1.svg", "image/svg+xml; charset=utf-8"),
        ("static/site.0a1b2c3d4e.webmanifest", "application/manifest+json; charset=utf-8"),
        ("img/onda-c572fa6a9ef4-120.avif", "image/avif"),
        ("img/onda-c572fa6a9ef4-120.webp", "image/webp"),
        ("img/onda-c572fa6a9ef4-120.jpg", "image/jpeg"),
        ("static/icon.0a1b2c3d4e.png", "image/png"),
        ("favicon.ico", "image/x-icon"),
        ("static/font.0a1b2c3d4e.woff2", "font/woff2"),
        ("pagefind/pagefind.js", "text/javascript; charset=utf-8"),
        ("pagefind/pagefind-ui.css", "text/css; charset=utf-8"),
        ("pagefind/pagefind-entry.json", "application/json; charset=utf-8"),
        ("pagefind/wasm.pt-br.pagefind", "application/octet-stream"),
        ("pagefind/pagefind.pt-br_efad321db23c1.pf_meta", "application/octet-stream"),
        ("pagefind/index/pt-br_fbe35dc.pf_index", "application/octet-stream"),
        ("pagefind/fragment/pt-br_1c7eff4.pf_fragment", "application/octet-stream"),
        ("pagefind/filter/pt-br_5bfc11b.pf_filter", "application/octet-stream"),
        ("STATIC/PHOTO.JPG", "image/jpeg"),
    ],
)
def test_every_kind_the_site_emits_has_an_explicit_content_type(key: str, expected: str) -> None:
    assert content_type(key) == expected


@pytest.mark.parametrize("key", ["notes.md", "archive.zip", "Makefile", ".DS_Store", "x.bin"])
def test_an_unknown_kind_is_an_error_naming_the_file_not_octet_stream(key: str) -> None:
    with pytest.raises(UnknownFileType, match=f"1 file.*{key}"):
        content_type(key)


@pytest.mark.parametrize(
    "key",
    [
        "static/site.571bb1d0fd.css",
        "static/site.bdec31fe89.js",
        "static/favicon.ebeff746d1.svg",
        "img/onda-c572fa6a9ef4-120.avif",
        "img/onda-c572fa6a9ef4-1200.jpg",
        "pagefind/index/pt-br_fbe35dc.pf_index",  # pagefind's hashes are only 7 digits
        "pagefind/pagefind.pt-br_efad321db23c1.pf_meta",
        "loja/static/site.571bb1d0fd.css",
    ],
)
def test_fingerprinted_files_are_cached_for_a_year_as_immutable(key: str) -> None:
    assert is_fingerprinted(key)
    assert headers_for(key, POLICY)[1] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    "key",
    [
        "index.html",
        "esculturas/0a1b2c3d4e/index.html",  # a page is never immutable, whatever its path
        "feed.atom",
        "sitemap.xml",
        "inventory.json",
        "robots.txt",
        "favicon.ico",
        "pagefind/pagefind.js",
        "pagefind/pagefind-entry.json",  # names the current index chunks: must stay fresh
        "pagefind/wasm.pt-br.pagefind",
        "img/foto-20250101-640.jpg",  # a date is not a hash
        "static/site.css",
    ],
)
def test_everything_else_is_short_lived_at_the_cdn_and_revalidated(key: str) -> None:
    assert not is_fingerprinted(key)
    cache_control = headers_for(key, POLICY)[1]
    assert "max-age=0" in cache_control and "must-revalidate" in cache_control
    assert "s-maxage=" in cache_control


def test_the_cache_policy_is_configurable() -> None:
    policy = CachePolicy(immutable="public, max-age=600", revalidate="no-cache")
    assert headers_for("index.html", policy) == ("text/html; charset=utf-8", "no-cache")
    assert headers_for("static/a.0a1b2c3d4e.css", policy)[1] == "public, max-age=600"
