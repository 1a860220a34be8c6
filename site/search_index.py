"""The static search index: pagefind over one record per sculpture.

pagefind's cost grows with the HTML it parses, and a sculpture page carries a
gallery, related works and the store's chrome that search never shows. So the
index is not built from the frozen pages but from a record per sculpture,
given to pagefind's indexing service as data (see pagefind_service): the URL
of its page; as text its title, artist, year, price, materials, themes and
description; its filters (artist, material, theme, price band), meta (title,
price, image) and sort key (price). Nothing is parsed and nothing is written
but the index itself, and because the records need only the content, the
index is built in a forked process while the pages render.

The sculptures are split into shards of about SHARD_SIZE records by a stable
hash of their slug; each shard is its own pagefind bundle (`pagefind/`,
`pagefind-1/`, ...) and the search page merges them in the browser
(`mergeIndex`). Each shard has a key, a hash of what its records show; a
shard whose key is unchanged since the last build keeps its bundle, so an edit
re-indexes one shard. Small catalogs have one shard.

The shard size trades an edit's re-index against the search page's first
query. pagefind indexes about 1,600 records a second on one core here, so a
shard of 500 is re-indexed in about 0.3 s. Merged bundles share the primary's
WebAssembly engine (mergeIndex does not load theirs), so each bundle adds only
its own small files to a first query: its entry, metadata, filter values and
one index chunk per word, some 15 KB. On 10,000 pieces, 20 bundles cost a
first query about 800 KB in 160 requests, against 640 KB in 90 for 10.

pagefind (shipped as a wheel with its binary; works offline) writes filter
values in hash-map order, which changes from run to run, so two builds of the
same content would differ and every publish would upload a "new" index. After
it runs, each filter file is rewritten with its values sorted and renamed by a
hash of its content, and the metadata file that lists the filters is updated
the same way. The files are pagefind's own format: a signature, then CBOR,
gzip-compressed; the JavaScript finds files by the names the metadata gives.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import sys
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import cbor2
from flask import Flask

from .filters import markdown, money
from .forking import shared_heap
from .images import image_url
from .indexes import CatalogIndex, price_band
from .models import Sculpture
from .pagefind_service import PagefindService, service_command
from .seo import SiteUrls, path_prefix
from .state_files import read_json_object, write_json

SEARCH_DIR = "pagefind"
SHARD_SIZE = 500
PAGEFIND: tuple[str, ...] | None = None  # the service's command; None: the wheel's binary
STATE_NAME = "search-manifest.json"
_BUNDLE_RE = re.compile(r"^pagefind(-\d+)?$")
_SIGNATURE = b"pagefind_dcd"


def shard_count(pages: int) -> int:
    return max(1, -(-pages // SHARD_SIZE))


@lru_cache(maxsize=1 << 16)  # every plan asks for every slug's shard
def shard_of(slug: str, count: int) -> int:
    return int(hashlib.sha256(slug.encode()).hexdigest()[:8], 16) % count


def bundle_name(shard: int) -> str:
    return SEARCH_DIR if shard == 0 else f"{SEARCH_DIR}-{shard}"


def is_search_file(relative: str) -> bool:
    """Whether a path under the build folder belongs to a search bundle."""
    return bool(_BUNDLE_RE.match(relative.split("/", 1)[0]))


def shards_of(slugs: Collection[str]) -> dict[int, list[str]]:
    """Shard number -> its slugs, for the non-empty shards only."""
    count = shard_count(len(slugs))
    shards: dict[int, list[str]] = {}
    for slug in sorted(slugs):
        shards.setdefault(shard_of(slug, count), []).append(slug)
    return dict(sorted(shards.items()))


def bundles_for(slugs: Collection[str]) -> list[str]:
    """The bundle folders the search page loads; the first one is the primary."""
    return [bundle_name(k) for k in shards_of(slugs)]


@dataclass(frozen=True)
class Shard:
    """One search bundle: its records, (slug, key) by slug, and a key for them all."""

    number: int
    records: tuple[tuple[str, str], ...]
    key: str

    @property
    def bundle(self) -> str:
        return bundle_name(self.number)

    @property
    def slugs(self) -> list[str]:
        return [slug for slug, _ in self.records]


def record_data(piece_input: str, artist_name: str) -> str:
    """What a search record shows that content can change (hashed by plan_shards).

    `piece_input` is the piece's file hash and image variants (page_plan.piece_inputs).
    """
    return f"{piece_input}\0{artist_name}"


def plan_shards(records_data: Mapping[str, str], shared: str) -> list[Shard]:
    """The catalog's shards; `shared` covers the code every record depends on."""
    shards = []
    for number, slugs in shards_of(records_data).items():
        records = tuple(
            (slug, hashlib.sha256(f"{shared}\0{records_data[slug]}".encode()).hexdigest()[:24])
            for slug in slugs
        )
        digest = hashlib.sha256("".join(f"{s} {k}\n" for s, k in records).encode())
        shards.append(Shard(number, records, digest.hexdigest()[:24]))
    return shards


class SearchBuild:
    """Re-index the shards whose key changed, in a forked process beside the render.

    Use as a context manager: leaving it before `wait()` (the render failed)
    stops the indexer, and the previous bundles and state stay as they were.
    Each shard's bundle is written to a scratch folder and moved into the build
    only when complete; the state file is written only when every shard is.
    """

    def __init__(self, app: Flask, shards: list[Shard], build_dir: Path, cache_dir: Path) -> None:
        self.app = app
        self.shards = shards
        self.build_dir = build_dir
        self.state_path = cache_dir / STATE_NAME
        self.scratch = cache_dir / "search-scratch"
        self._stale: list[Shard] = []
        self._process: BaseProcess | None = None
        self._receiver: Connection | None = None

    def start(self, *, force: bool = False) -> SearchBuild:
        bundles = {} if force else read_json_object(self.state_path).get("bundles", {})
        self._stale = [
            shard
            for shard in self.shards
            if bundles.get(shard.bundle) != shard.key
            or not (self.build_dir / shard.bundle / "pagefind.js").is_file()
        ]
        if self._stale and sys.platform == "linux":  # else wait() runs them
            context = multiprocessing.get_context("fork")
            self._receiver, sender = context.Pipe(duplex=False)
            self._process = context.Process(
                target=_index_in_child, args=(self, sender), name="search-index", daemon=True
            )
            with shared_heap():
                self._process.start()
            sender.close()
        return self

    def wait(self) -> bool:
        """Block until the index is complete; True if any shard was re-indexed."""
        if self._process is not None and self._receiver is not None:
            try:
                failure = self._receiver.recv()
            except EOFError:
                failure = "the search indexer died"
            self._process.join()
            self._process = None
            if failure:
                raise RuntimeError(f"search index not built: {failure}")
        elif self._stale:
            self.run()
        self._remove_stale_bundles()
        write_json(self.state_path, {"bundles": {s.bundle: s.key for s in self.shards}})
        return bool(self._stale)

    def __enter__(self) -> SearchBuild:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join()
            shutil.rmtree(self.scratch, ignore_errors=True)

    def run(self) -> None:
        """Index the stale shards one after another, each by its own pagefind service.

        A service keeps the memory of the indexes it has built (about 100 MB
        after a few shards); a fresh one per shard holds one shard at most.
        """
        shutil.rmtree(self.scratch, ignore_errors=True)
        command = PAGEFIND or service_command()
        for shard in self._stale:
            try:
                with _start_on_one_cpu(command) as service:
                    self._index_shard(service, shard)
            except Exception as error:
                message = f"pagefind failed on shard {shard.number}: {error}"
                raise RuntimeError(message) from error
        shutil.rmtree(self.scratch, ignore_errors=True)

    def _index_shard(self, service: PagefindService, shard: Shard) -> None:
        index_id = service.new_index({"force_language": self._language()})
        service.add_records(index_id, _ShardRecords(self.app, shard.slugs))
        files = canonicalize(service.get_files(index_id))
        if "pagefind.js" not in files:
            raise RuntimeError("pagefind gave no pagefind.js")
        output = self.scratch / shard.bundle
        bundle = self.build_dir / shard.bundle
        for folder in {(output / path).parent for path in files}:
            folder.mkdir(parents=True, exist_ok=True)
        for path, data in sorted(files.items()):
            target = output / path
            if not _link_if_same(bundle / path, target, data):
                target.write_bytes(data)
        if bundle.exists():
            shutil.rmtree(bundle)
        bundle.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(output, bundle)

    def _language(self) -> str:
        index: CatalogIndex = self.app.extensions["catalog_index"]
        return index.site.language

    def _remove_stale_bundles(self) -> None:
        expected = {shard.bundle for shard in self.shards}
        for path in self.build_dir.glob(f"{SEARCH_DIR}*"):
            if _BUNDLE_RE.match(path.name) and path.name not in expected:
                shutil.rmtree(path)


def _link_if_same(existing: Path, target: Path, data: bytes) -> bool:
    """Link `target` to the previous bundle's file when that holds exactly `data`.

    An edit changes one record of a shard, so all but one of its fragments are
    the files the bundle already has. Reading one to compare costs a fraction
    of creating a file, and a link keeps its inode alive when the old bundle is
    deleted, so the file system has fewer inodes to free and allocate.
    """
    try:
        if existing.stat().st_size != len(data) or existing.read_bytes() != data:
            return False
        os.link(existing, target)
    except OSError:
        return False
    return True


def _index_in_child(build: SearchBuild, sender: Connection) -> None:
    """Forked entry point: report "" on success, else what went wrong."""
    try:
        build.run()
        sender.send("")
    except Exception as error:  # reported to the parent, which raises it
        sender.send(f"{type(error).__name__}: {error}")
    finally:
        sender.close()


def _start_on_one_cpu(command: tuple[str, ...]) -> PagefindService:
    """Start a pagefind service that keeps to one CPU, leaving this process free to move.

    pagefind spreads a shard over every core and spends 40% more CPU doing so
    (0.78 CPU-s against 0.55 for a thousand records), time taken from the
    pages being planned and rendered beside it; on one core it is also faster
    in wall time. A process inherits the affinity of the thread that starts
    it, so this thread keeps to one CPU just while it starts the service.
    """
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    if len(allowed) < 2:
        return PagefindService(command)
    os.sched_setaffinity(0, {max(allowed)})
    try:
        return PagefindService(command)
    finally:
        os.sched_setaffinity(0, allowed)


@dataclass(frozen=True)
class _ShardRecords:
    """A shard's records, made one by one as they are sent to pagefind."""

    app: Flask
    slugs: list[str]

    def __len__(self) -> int:
        return len(self.slugs)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return records(self.app, self.slugs)


def records(app: Flask, slugs: Collection[str]) -> Iterator[dict[str, Any]]:
    """The pagefind record of each sculpture: what search finds, filters and shows."""
    index: CatalogIndex = app.extensions["catalog_index"]
    prefix = path_prefix(index.site.base_url)
    urls = SiteUrls(prefix)  # from the site root, as pagefind reads a page's path
    with app.test_request_context(base_url=prefix or None):
        for slug in slugs:
            url = urls("pages.sculpture", {"slug": slug})
            yield _record(app, index, index.by_slug[slug], url)


def _record(app: Flask, index: CatalogIndex, piece: Sculpture, url: str) -> dict[str, Any]:
    language = index.site.language
    first = piece.images[0]
    artist = index.artist_name(piece)
    price = money(piece.price.amount, piece.price.currency, language)
    text = [f"{piece.title}.", f"{artist}, {piece.year}.", f"{price}."]
    text.append(f"Materiais: {', '.join(piece.materials)}.")
    if piece.tags:
        text.append(f"Temas: {', '.join(piece.tags)}.")
    text.append(markdown(piece.description).striptags())
    filters = {"artista": [artist], "material": list(piece.materials)}
    if piece.tags:
        filters["tema"] = list(piece.tags)
    filters["faixa de preço"] = [price_band(piece.price.amount)]
    return {
        "url": url,
        "content": " ".join(text),
        "language": language,
        "meta": {
            "title": piece.title,
            "image": image_url(app.extensions["images"].get(first.file).of("jpg")[0]),
            "image_alt": first.alt,
            "preço": price,
        },
        "filters": filters,
        "sort": {"preço": f"{piece.price.amount:012.2f}"},
    }


def canonicalize(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The bundle with its filter values sorted, and the files that changes renamed."""
    files = dict(files)
    entry = json.loads(files["pagefind-entry.json"])
    for language, info in entry["languages"].items():
        meta = _decode(files, f"pagefind.{info['hash']}.pf_meta")
        filters = []
        for name, old_hash in meta[3]:
            data = _decode(files, f"filter/{old_hash}.pf_filter")
            data[1] = sorted(data[1], key=lambda value: value[0])
            new_hash = _encode(files, "filter/{}.pf_filter", language, data, digits=7)
            filters.append([name, new_hash])
        meta[3] = sorted(filters)
        info["hash"] = _encode(files, "pagefind.{}.pf_meta", language, meta, digits=13)
    files["pagefind-entry.json"] = json.dumps(
        entry, ensure_ascii=False, separators=(",", ":")
    ).encode()
    return files


def _decode(files: dict[str, bytes], path: str) -> list:
    """Take a file out of the bundle and read it: a signature, then CBOR, gzip-compressed."""
    raw = gzip.decompress(files.pop(path))
    if not raw.startswith(_SIGNATURE):
        raise RuntimeError(f"{path} is not a pagefind file this build understands")
    return cbor2.loads(raw[len(_SIGNATURE) :])


def _encode(files: dict[str, bytes], path: str, language: str, data: list, *, digits: int) -> str:
    """Put a file into the bundle under a name made from its content; returns that name."""
    body = _SIGNATURE + cbor2.dumps(data)
    name = f"{language}_{hashlib.sha256(body).hexdigest()[:digits]}"
    files[path.format(name)] = gzip.compress(body, 9, mtime=0)
    return name
