"""Build the search index: re-index the shards whose key changed, beside the render.

The records (see records) need only the content, so the index is built in a
forked process while the pages are planned and rendered, one pagefind service
per shard (see pagefind_client). Nothing is parsed and nothing is written but
the index itself; each bundle is canonicalised (see bundles) before it is
moved into the build.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from flask import Flask
from storefront.common.heap import shared_heap
from storefront.common.state_files import read_json_object, write_json
from storefront.content.index import CatalogIndex
from storefront.search.bundles import canonicalize
from storefront.search.pagefind_client import PagefindService, service_command
from storefront.search.records import ShardRecords
from storefront.search.shards import SEARCH_DIR, Shard, is_search_file

PAGEFIND: tuple[str, ...] | None = None  # the service's command; None: the wheel's binary
STATE_NAME = "search-manifest.json"


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
        service.add_records(index_id, ShardRecords(self.app, shard.slugs))
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
            if is_search_file(path.name) and path.name not in expected:
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
