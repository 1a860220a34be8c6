"""Response headers of every published file, decided from its path alone.

Every kind of file the freeze emits maps to an explicit Content-Type (text kinds
with ``charset=utf-8``); a file of any other kind is an error that names it,
because S3 would otherwise serve it as ``binary/octet-stream`` and browsers
would download a page instead of showing it.

Cache-Control has two classes. A fingerprinted file (its name carries a hash of
its bytes, so its content can never change under that name) is cached for a
year as immutable, by browsers and CDN alike. Everything else (pages, feeds,
the sitemap, JSON, pagefind's unhashed entry files) is short-lived at the CDN
and revalidated by browsers on every use, so a new release shows at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

UTF8 = "; charset=utf-8"

#: Content-Type by extension (lower case, with the dot).
CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html" + UTF8,
    ".css": "text/css" + UTF8,
    ".js": "text/javascript" + UTF8,  # RFC 9239
    ".json": "application/json" + UTF8,
    ".xml": "application/xml" + UTF8,
    ".atom": "application/atom+xml" + UTF8,
    ".txt": "text/plain" + UTF8,
    ".svg": "image/svg+xml" + UTF8,
    ".webmanifest": "application/manifest+json" + UTF8,
    ".avif": "image/avif",
    ".webp": "image/webp",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    # pagefind's search bundle: opaque, pre-compressed binaries that pagefind.js
    # fetches and decodes itself (no Content-Encoding must be set on them).
    ".pagefind": "application/octet-stream",
    ".pf_meta": "application/octet-stream",
    ".pf_index": "application/octet-stream",
    ".pf_fragment": "application/octet-stream",
    ".pf_filter": "application/octet-stream",
}

#: Files whose type is not their extension's default, by file name.
NAMED_CONTENT_TYPES: dict[str, str] = {
    "feed.xml": "application/atom+xml" + UTF8,
}

#: pagefind names its index chunks by a (short, 7+ hex) hash of their content.
_HASHED_EXTENSIONS = frozenset({".pf_meta", ".pf_index", ".pf_fragment", ".pf_filter"})
#: Documents are never treated as fingerprinted, whatever their name looks like.
_DOCUMENT_EXTENSIONS = frozenset({".html", ".xml", ".atom", ".json", ".txt"})
#: A hash segment: 8-64 hex digits between separators, e.g. `site.1a2b3c4d5e.css`
#: or `onda-0a1b2c3d4e5f-640.webp`. All-digit runs (dates, sizes) do not count.
_HASH_SEGMENT = re.compile(r"(?:^|[._-])([0-9a-f]{8,64})(?=[._-])")


class UnknownFileType(ValueError):
    """Files of a kind publish has no Content-Type for; names every one."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.keys = tuple(sorted(keys))
        listed = ", ".join(self.keys[:20]) + (" ..." if len(self.keys) > 20 else "")
        super().__init__(
            f"no Content-Type known for {len(self.keys)} file(s): {listed} "
            "(add the extension to storefront.publish.headers.CONTENT_TYPES)"
        )


@dataclass(frozen=True)
class CachePolicy:
    """The two Cache-Control values publish sets (configurable per app)."""

    immutable: str = "public, max-age=31536000, immutable"
    revalidate: str = "public, max-age=0, s-maxage=300, must-revalidate"


def _name_and_suffix(key: str) -> tuple[str, str]:
    """The file name and its lower-case suffix (as PurePosixPath has them, without the
    cost of a path object: a 10,000-sculpture site asks for 23,000 files)."""
    name = key.rpartition("/")[2]
    stem, dot, extension = name.rpartition(".")
    suffix = "." + extension.lower() if dot and stem.strip(".") else ""
    return name, suffix


def content_type(key: str) -> str:
    """Content-Type of a file by its path; raise UnknownFileType for an unknown kind."""
    name, suffix = _name_and_suffix(key)
    named = NAMED_CONTENT_TYPES.get(name)
    if named:
        return named
    try:
        return CONTENT_TYPES[suffix]
    except KeyError:
        raise UnknownFileType([key]) from None


def is_fingerprinted(key: str) -> bool:
    """True when the file name carries a content hash, so its bytes never change."""
    name, suffix = _name_and_suffix(key)
    if suffix in _HASHED_EXTENSIONS:
        return True
    if suffix in _DOCUMENT_EXTENSIONS:
        return False
    return any(not run.isdigit() for run in _HASH_SEGMENT.findall(name))


def headers_for(key: str, policy: CachePolicy) -> tuple[str, str]:
    """(Content-Type, Cache-Control) of one file."""
    cache = policy.immutable if is_fingerprinted(key) else policy.revalidate
    return content_type(key), cache


_LINKING = _DOCUMENT_EXTENSIONS | {".webmanifest"}


def is_document(key: str) -> bool:
    """Pages and other files that link to assets: published after those assets."""
    return _name_and_suffix(key)[1] in _LINKING
