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
from .images import image_url
from .indexes import price_band

SEARCH_DIR = "pagefind"
SHARD_SIZE = 1500
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
    """One search bundle: its sculptures and a key for what their documents show."""

    number: int
    slugs: tuple[str, ...]
    key: str

    @property
    def bundle(self) -> str:
        return bundle_name(self.number)


def document_key(piece_json: str, artist_name: str, image_name: str) -> str:
    """Everything a search document shows that content can change."""
    return hashlib.sha256(f"{piece_json}\0{artist_name}\0{image_name}".encode()).hexdigest()


def plan_shards(document_keys: Mapping[str, str], shared: str) -> list[Shard]:
    """The catalog's shards; `shared` covers the code and templates every document uses."""
    shards = []
    for number, slugs in shards_of(document_keys).items():
        digest = hashlib.sha256(shared.encode())
        for slug in slugs:
            digest.update(f"{slug}\0{document_keys[slug]}\n".encode())
        shards.append(Shard(number, tuple(slugs), digest.hexdigest()[:24]))
    return shards


class SearchBuild:
    """Re-index the shards whose key changed, in a forked process beside the render.

    Use as a context manager: leaving it before `wait()` (the render failed)
    stops the indexer, and the previous bundles and state stay as they were.
    Each shard's bundle is built in a scratch folder and moved into the build
    only when complete; the state file is written only when every shard is.
    """

    def __init__(self, app: Flask, shards: list[Shard], build_dir: Path, state_path: Path) -> None:
        self.app = app
        self.shards = shards
        self.build_dir = build_dir
        self.state_path = state_path
        self.staging = state_path.parent / "search-staging"
        self.todo: list[Shard] = []
        self._process: BaseProcess | None = None
        self._receiver: Connection | None = None

    def start(self, *, force: bool = False) -> SearchBuild:
        previous = {} if force else _read_state(self.state_path)
        self.todo = [
            shard
            for shard in self.shards
            if previous.get(shard.bundle) != shard.key
            or not (self.build_dir / shard.bundle / "pagefind.js").is_file()
        ]
        if self.todo and sys.platform == "linux":
            context = multiprocessing.get_context("fork")
            self._receiver, sender = context.Pipe(duplex=False)
            self._process = context.Process(
                target=_index_in_child,
                args=(self.app, self.todo, self.build_dir, self.staging, sender),
                name="search-index",
                daemon=True,
            )
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
        elif self.todo:
            index_shards(self.app, self.todo, self.build_dir, self.staging)
        self._remove_stale_bundles()
        _write_state(self.state_path, {shard.bundle: shard.key for shard in self.shards})
        return bool(self.todo)

    def __enter__(self) -> SearchBuild:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join()
            shutil.rmtree(self.staging, ignore_errors=True)

    def _remove_stale_bundles(self) -> None:
        expected = {shard.bundle for shard in self.shards}
        for path in self.build_dir.glob(f"{SEARCH_DIR}*"):
            if _BUNDLE_RE.match(path.name) and path.name not in expected:
                shutil.rmtree(path)


def _index_in_child(
    app: Flask, shards: list[Shard], build_dir: Path, staging: Path, sender: Connection
) -> None:
    """Forked entry point: report "" on success, else what went wrong."""
    try:
        index_shards(app, shards, build_dir, staging)
        sender.send("")
    except Exception as error:  # reported to the parent, which raises it
        sender.send(f"{type(error).__name__}: {error}")
    finally:
        sender.close()


def index_shards(app: Flask, shards: list[Shard], build_dir: Path, staging: Path) -> None:
    """Write each shard's documents and run pagefind over them, two shards at a time."""
    shutil.rmtree(staging, ignore_errors=True)
    workers = min(len(shards), os.cpu_count() or 1) or 1
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda shard: _index_shard(app, shard, build_dir, staging), shards))
    shutil.rmtree(staging, ignore_errors=True)


def _index_shard(app: Flask, shard: Shard, build_dir: Path, staging: Path) -> None:
    documents = staging / shard.bundle / "site"
    output = staging / shard.bundle / "bundle"
    write_documents(app, shard.slugs, documents)
    command = [*PAGEFIND, "--site", str(documents), "--output-path", str(output)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not (output / "pagefind.js").is_file():
        raise RuntimeError(
            f"pagefind failed on shard {shard.number}:\n{result.stdout}\n{result.stderr}"
        )
    canonicalize(output)
    target = build_dir / shard.bundle
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(output, target)


def write_documents(app: Flask, slugs: Collection[str], folder: Path) -> None:
    """One small HTML document per sculpture, at the path of its page."""
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
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(html, encoding="utf-8")


def _read_state(path: Path) -> dict[str, str]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _write_state(path: Path, state: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
    temporary.replace(path)


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
