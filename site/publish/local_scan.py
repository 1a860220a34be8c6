"""The frozen site on disk: every file with its hash and headers, and the URL it is for.

A build knows its own URL: the home page's canonical link is the base URL it
was frozen for (production's, or a preview's when frozen with the preview's
base URL). Publish reads it there, so a preview build can never be published
as production, nor the other way round (see layout.Area.key_root).

Hashing is what a publish of an unchanged build spends its time on (a
10,000-sculpture site is 23,000 files, 340 MB): digests are kept between runs
in the cache folder and reused while a file's inode, size, mtime and ctime are
unchanged (storefront.common.file_digests, git's rule, racily clean files read
again). A fresh checkout or a restored cache hashes everything once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from storefront.common.file_digests import FileDigests
from storefront.publish.errors import PublishError
from storefront.publish.headers import CachePolicy, UnknownFileType, headers_for
from storefront.publish.plan import FileEntry


@dataclass(frozen=True, slots=True)
class LocalFile:
    entry: FileEntry
    path: str


@dataclass(frozen=True)
class Build:
    """A frozen site: its base URL and files by key (the URL path below the area's base)."""

    url: str
    files: dict[str, LocalFile]

    @property
    def url_root(self) -> str:
        return urlsplit(self.url).path or "/"

    def entries(self) -> dict[str, FileEntry]:
        return {key: file.entry for key, file in self.files.items()}


class _Canonical(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "link" and self.href is None and (values.get("rel") or "").lower() == "canonical":
            self.href = values.get("href")


def site_url(build_dir: Path) -> str:
    """The base URL the build was frozen for: its home page's canonical link."""
    if not build_dir.is_dir():
        raise PublishError(f"no build at {build_dir}: run `flask --app storefront freeze` first")
    index = build_dir / "index.html"
    if not index.is_file():
        raise PublishError(f"refusing to publish {build_dir}: it has no index.html")
    parser = _Canonical()
    parser.feed(index.read_text(encoding="utf-8", errors="replace"))
    href = parser.href or ""
    parts = urlsplit(href)
    if parts.scheme not in {"http", "https"} or not parts.netloc or not href.endswith("/"):
        raise PublishError(
            f"cannot tell which URL {index} was frozen for: its <link rel=canonical> is "
            f"{href or 'missing'} (an absolute URL ending in / is needed)"
        )
    return href


def scan_build(
    build_dir: Path,
    policy: CachePolicy,
    *,
    key_root: str | None = None,
    digests_file: Path | None = None,
    jobs: int = 8,
) -> Build:
    """Every file of the frozen site with its hash and headers; refuse a broken build.

    `key_root`: what to put before each file's path to make its key (the URL
    root below the area's base); None: the URL root from the build itself.
    """
    url = site_url(build_dir)
    if key_root is None:
        key_root = (urlsplit(url).path or "/").lstrip("/")
    folders = _walk(build_dir)
    headers: dict[str, tuple[str, str]] = {}
    unknown = []
    for folder, names in folders:
        for name in names:
            relative = f"{folder}/{name}" if folder else name
            try:
                headers[relative] = headers_for(relative, policy)
            except UnknownFileType as error:
                unknown.extend(error.keys)
    if unknown:
        raise UnknownFileType(unknown)
    digests = FileDigests(digests_file)
    root = str(build_dir)

    def describe(batch: list[tuple[str, list[str]]]) -> list[tuple[str, LocalFile]]:
        described = []
        for folder, names in batch:
            path = os.path.join(root, folder) if folder else root
            stated = digests.digests_and_sizes(Path(path), names)
            for name, (digest, size) in zip(names, stated, strict=True):
                relative = f"{folder}/{name}" if folder else name
                content_type, cache_control = headers[relative]
                entry = FileEntry(digest, size, content_type, cache_control)
                described.append((key_root + relative, LocalFile(entry, os.path.join(path, name))))
        return described

    # Two threads at most: describing a file whose digest is known is Python under the GIL
    # (a stat and some bookkeeping), so two overlap the system calls and the hashing of
    # changed files, and more only contend for the lock (a one-edit publish of 10,000
    # pieces: 3.3 s with 8 threads and a second stat per file, 2.4 s with neither).
    with ThreadPoolExecutor(max_workers=min(jobs, 2)) as pool:
        found = pool.map(describe, _batches(folders, 500))
        files = dict(pair for batch in found for pair in batch)
    digests.save()
    return Build(url, dict(sorted(files.items())))


def _batches(
    folders: list[tuple[str, list[str]]], size: int
) -> Iterator[list[tuple[str, list[str]]]]:
    """Folders in groups of about `size` files: a thread per page folder costs more than
    the page (a 10,000-sculpture site has 12,000 folders)."""
    batch: list[tuple[str, list[str]]] = []
    count = 0
    for folder in folders:
        batch.append(folder)
        count += len(folder[1])
        if count >= size:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch


def _walk(build_dir: Path) -> list[tuple[str, list[str]]]:
    """(folder relative to the build, sorted file names) for every folder with files.

    os.scandir's entry types, not os.walk: with a folder per page, os.walk's
    lstat and relpath of each of 12,000 folders cost more than the listing.
    """
    found = []
    pending = [("", str(build_dir))]
    while pending:
        relative, path = pending.pop()
        names = []
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(
                        (f"{relative}/{entry.name}" if relative else entry.name, entry.path)
                    )
                elif entry.is_file():
                    names.append(entry.name)
        if names:
            found.append((relative, sorted(names)))
    return sorted(found)
