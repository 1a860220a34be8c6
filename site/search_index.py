"""The static search index: pagefind over one small document per sculpture.

pagefind's cost grows with the HTML it parses, and a sculpture page carries a
gallery, related works and the store's chrome that search never shows. So the
index is not built from the frozen pages but from a search document per
sculpture, rendered from the same data (`_search_document.html`): title,
artist, year, price, materials, themes and description, with pagefind's
filter, meta and sort attributes. That halves pagefind's work, and because the
documents need only the content, the index is built in a forked process while
the pages render.

The sculptures are split into shards of about SHARD_SIZE documents by a stable
hash of their slug; each shard is its own pagefind bundle (`pagefind/`,
`pagefind-1/`, ...) and the search page merges them in the browser
(`mergeIndex`). Each shard has a key, a hash of what its documents show; a
shard whose key is unchanged since the last build keeps its bundle, so an edit
re-indexes one shard. Small catalogs have one shard.

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
import subprocess
import sys
import threading
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from urllib.parse import urlsplit

import cbor2
from flask import Flask

from .filters import money
from .forking import shared_heap
from .images import image_url
from .indexes import price_band
from .state_files import read_json_object, write_atomically, write_json

SEARCH_DIR = "pagefind"
SHARD_SIZE = 1000
PAGE_PATH = "esculturas/{slug}/index.html"
DOCUMENT_TEMPLATE = "_search_document.html"
PAGEFIND = (sys.executable, "-m", "pagefind")  # the wheel's CLI: its binary, offline
STATE_NAME = "search-manifest.json"
_BUNDLE_RE = re.compile(r"^pagefind(-\d+)?$")
_SIGNATURE = b"pagefind_dcd"


def shard_count(pages: int) -> int:
    return max(1, -(-pages // SHARD_SIZE))


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
    """One search bundle: its documents, (slug, key) by slug, and a key for them all."""

    number: int
    documents: tuple[tuple[str, str], ...]
    key: str

    @property
    def bundle(self) -> str:
        return bundle_name(self.number)

    @property
    def slugs(self) -> list[str]:
        return [slug for slug, _ in self.documents]


def document_data(piece_key: str, artist_name: str, image_name: str) -> str:
    """Everything a search document shows that content can change (hashed by plan_shards)."""
    return f"{piece_key}\0{artist_name}\0{image_name}"


def plan_shards(documents_data: Mapping[str, str], shared: str) -> list[Shard]:
    """The catalog's shards; `shared` covers the code and templates every document uses."""
    shards = []
    for number, slugs in shards_of(documents_data).items():
        documents = tuple(
            (slug, hashlib.sha256(f"{shared}\0{documents_data[slug]}".encode()).hexdigest()[:24])
            for slug in slugs
        )
        digest = hashlib.sha256("".join(f"{s} {k}\n" for s, k in documents).encode())
        shards.append(Shard(number, documents, digest.hexdigest()[:24]))
    return shards


@dataclass(frozen=True)
class _ShardJob:
    shard: Shard
    stale: tuple[str, ...]  # slugs whose document must be (re)written
    fresh: bool  # the shard's document folder starts empty


class SearchBuild:
    """Re-index the shards whose key changed, in a forked process beside the render.

    Search documents are kept between builds (CACHE_DIR/search-documents/<bundle>/),
    so re-indexing a shard after an edit rewrites one document, not a thousand.
    Use as a context manager: leaving it before `wait()` (the render failed)
    stops the indexer, and the previous bundles and state stay as they were.
    Each shard's bundle is built in a scratch folder and moved into the build
    only when complete; the state file is written only when every shard is.
    """

    def __init__(self, app: Flask, shards: list[Shard], build_dir: Path, cache_dir: Path) -> None:
        self.app = app
        self.shards = shards
        self.build_dir = build_dir
        self.state_path = cache_dir / STATE_NAME
        self.documents_dir = cache_dir / "search-documents"
        self.scratch = cache_dir / "search-scratch"
        self._jobs: list[_ShardJob] = []
        # One pagefind at a time: each is single-threaded and holds its whole shard
        # in memory, and the page render has the other core.
        self._pagefind_slot = threading.Semaphore(1)
        self._process: BaseProcess | None = None
        self._receiver: Connection | None = None

    def start(self, *, force: bool = False) -> SearchBuild:
        state = {} if force else read_json_object(self.state_path)
        bundles, written = state.get("bundles", {}), state.get("documents", {})
        self._jobs = [
            self._job(shard, written, fresh=force)
            for shard in self.shards
            if bundles.get(shard.bundle) != shard.key
            or not (self.build_dir / shard.bundle / "pagefind.js").is_file()
        ]
        if force:
            shutil.rmtree(self.documents_dir, ignore_errors=True)
        if self._jobs and sys.platform == "linux":  # else wait() runs them
            context = multiprocessing.get_context("fork")
            self._receiver, sender = context.Pipe(duplex=False)
            self._process = context.Process(
                target=_index_in_child, args=(self, sender), name="search-index", daemon=True
            )
            with shared_heap():
                self._process.start()
            sender.close()
        return self

    def _job(self, shard: Shard, written: dict[str, str], *, fresh: bool) -> _ShardJob:
        folder = self.documents_dir / shard.bundle
        stale = tuple(
            slug
            for slug, key in shard.documents
            if fresh
            or written.get(slug) != key
            or not os.path.isfile(os.path.join(folder, PAGE_PATH.format(slug=slug)))
        )
        return _ShardJob(shard, stale, fresh)

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
        elif self._jobs:
            self.run()
        self._remove_stale_bundles()
        write_json(
            self.state_path,
            {
                "bundles": {shard.bundle: shard.key for shard in self.shards},
                "documents": {slug: key for shard in self.shards for slug, key in shard.documents},
            },
        )
        return bool(self._jobs)

    def __enter__(self) -> SearchBuild:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join()
            shutil.rmtree(self.scratch, ignore_errors=True)

    def run(self) -> None:
        """Index the shards that need it: one writes its documents while another is indexed."""
        shutil.rmtree(self.scratch, ignore_errors=True)
        with ThreadPoolExecutor(min(len(self._jobs), os.cpu_count() or 1) or 1) as pool:
            list(pool.map(self._index_shard, self._jobs))
        shutil.rmtree(self.scratch, ignore_errors=True)

    def _index_shard(self, job: _ShardJob) -> None:
        shard = job.shard
        folder = self.documents_dir / shard.bundle
        write_documents(self.app, job.stale, folder, atomic=not job.fresh)
        _prune_documents(folder, set(shard.slugs))
        output = self.scratch / shard.bundle
        command = [*PAGEFIND, "--site", str(folder), "--output-path", str(output)]
        with self._pagefind_slot:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not (output / "pagefind.js").is_file():
            raise RuntimeError(
                f"pagefind failed on shard {shard.number}:\n{result.stdout}\n{result.stderr}"
            )
        canonicalize(output)
        target = self.build_dir / shard.bundle
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(output, target)

    def _remove_stale_bundles(self) -> None:
        expected = {shard.bundle for shard in self.shards}
        for root in (self.build_dir, self.documents_dir):
            for path in root.glob(f"{SEARCH_DIR}*"):
                if _BUNDLE_RE.match(path.name) and path.name not in expected:
                    shutil.rmtree(path)


def _index_in_child(build: SearchBuild, sender: Connection) -> None:
    """Forked entry point: report "" on success, else what went wrong."""
    try:
        build.run()
        sender.send("")
    except Exception as error:  # reported to the parent, which raises it
        sender.send(f"{type(error).__name__}: {error}")
    finally:
        sender.close()


def _prune_documents(folder: Path, slugs: set[str]) -> None:
    """Drop documents of pieces no longer in this shard (removed, or moved to another)."""
    pages = folder / PAGE_PATH.split("/", 1)[0]
    if pages.is_dir():
        for name in set(os.listdir(pages)) - slugs:
            shutil.rmtree(pages / name, ignore_errors=True)


def write_documents(app: Flask, slugs: Collection[str], folder: Path, *, atomic: bool) -> None:
    """One small HTML document per sculpture, at the path of its page.

    `atomic` writes through a temporary file: a document that survives an
    interrupted build must never be half-written, since its key says it is done.
    """
    index = app.extensions["catalog_index"]
    images = app.extensions["images"]
    language = index.site.language
    script_root = urlsplit(str(index.site.base_url)).path.rstrip("/")
    with app.test_request_context(base_url=script_root or None):
        template = app.jinja_env.get_template(DOCUMENT_TEMPLATE)
        for slug in slugs:
            piece = index.by_slug[slug]
            first = piece.images[0]
            html = template.render(
                site=index.site,
                piece=piece,
                artist=index.artist_name(piece),
                price=money(piece.price.amount, piece.price.currency, language),
                band=price_band(piece.price.amount),
                image=image_url(images.get(first.file).of("jpg")[0]),
            )
            path = folder / PAGE_PATH.format(slug=slug)
            if atomic:
                write_atomically(path, html.encode())
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(html, encoding="utf-8")


def canonicalize(output: Path) -> None:
    """Sort filter values and rename the files whose bytes that changes."""
    entry_path = output / "pagefind-entry.json"
    entry = json.loads(entry_path.read_text(encoding="utf-8"))
    for language, info in entry["languages"].items():
        meta_path = output / f"pagefind.{info['hash']}.pf_meta"
        meta = _read(meta_path)
        filters = []
        for name, old_hash in meta[3]:
            old_path = output / "filter" / f"{old_hash}.pf_filter"
            data = _read(old_path)
            data[1] = sorted(data[1], key=lambda value: value[0])
            new_hash = _write(output / "filter", language, data, "pf_filter", digits=7)
            if new_hash != old_hash:
                old_path.unlink()
            filters.append([name, new_hash])
        meta[3] = sorted(filters)
        new_meta = _write(output, language, meta, "pf_meta", digits=13, prefix="pagefind.")
        if new_meta != info["hash"]:
            meta_path.unlink()
        info["hash"] = new_meta
    entry_path.write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))


def _read(path: Path) -> list:
    raw = gzip.decompress(path.read_bytes())
    if not raw.startswith(_SIGNATURE):
        raise RuntimeError(f"{path} is not a pagefind file this build understands")
    return cbor2.loads(raw[len(_SIGNATURE) :])


def _write(
    folder: Path, language: str, data: list, suffix: str, *, digits: int, prefix: str = ""
) -> str:
    body = _SIGNATURE + cbor2.dumps(data)
    name = f"{language}_{hashlib.sha256(body).hexdigest()[:digits]}"
    (folder / f"{prefix}{name}.{suffix}").write_bytes(gzip.compress(body, 9, mtime=0))
    return name
