"""Release operations: publish a build, roll back, list, garbage-collect.

Each operation reads local and remote state, asks the pure core
(`publish_plan`) what to do, and has `ReleaseStore` do it. The order of the
steps is what makes a publish safe to kill at any point:

1. upload or copy every object of the new release under its own prefix
   (assets before documents), then write its manifest, which marks it complete;
2. record the intended switch in `_releases/live.json` (state `switching`, with
   the paths to invalidate);
3. point CloudFront's S3 origin at the new prefix, wait until deployed;
4. invalidate the stale paths, then record the release as `live`;
5. garbage-collect releases beyond the newest N (manifest first, so a
   half-deleted release is never a rollback target).

Killed before 3, the old release is still served and the next run resumes the
same prefix (release ids are content hashes). Killed after 3, the new release is
served complete and the next run finishes the pending invalidation from step 2.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from storefront.publish.headers import CachePolicy, UnknownFileType, headers_for, is_document
from storefront.publish.plan import (
    RELEASE_ID,
    FileEntry,
    Manifest,
    Plan,
    ReleaseRef,
    collapse_paths,
    deletes_refused,
    orphan_prefixes,
    plan_release,
    previous_release,
    releases_to_collect,
    stale_paths,
)
from storefront.publish.remote import Pointer, PublishError, ReleaseStore

#: Test hook: `STOREFRONT_PUBLISH_FAULT=transfers:5` (or manifest, intent, switch,
#: invalidate, gc) makes the process SIGKILL itself at that point, so the tests can
#: prove that an interrupted publish never breaks the live site.
FAULT_VARIABLE = "STOREFRONT_PUBLISH_FAULT"


@dataclass(frozen=True)
class LocalFile:
    entry: FileEntry
    path: Path


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    max_deletes: int = 256
    force: bool = False
    keep_releases: int = 5
    jobs: int = 16
    max_invalidation_paths: int = 300
    wait_timeout: float = 900.0


@dataclass
class Summary:
    """What an operation did (or, with --dry-run, would do); printed or dumped as JSON."""

    action: str
    release: str | None = None
    previous: str | None = None
    dry_run: bool = False
    noop: bool = False
    reused: bool = False
    files: int = 0
    uploaded: int = 0
    uploaded_bytes: int = 0
    copied: int = 0
    resumed: int = 0
    unchanged: int = 0
    changed: int = 0
    added: int = 0
    deleted: int = 0
    carried: int = 0
    switched: bool = False
    invalidation: str | None = None
    invalidated_paths: list[str] = field(default_factory=list)
    collected_releases: list[str] = field(default_factory=list)
    collected_objects: int = 0
    refused: str | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


# -- the local build -----------------------------------------------------------------


def scan_build(
    build_dir: Path, policy: CachePolicy, *, key_prefix: str = "", jobs: int = 8
) -> dict[str, LocalFile]:
    """Every file of the frozen site with its hash and headers; refuse a broken build."""
    if not build_dir.is_dir():
        raise PublishError(f"no build at {build_dir}: run `flask --app storefront freeze` first")
    if not (build_dir / "index.html").is_file():
        raise PublishError(f"refusing to publish {build_dir}: it has no index.html")
    # Plain strings and os.walk: pathlib costs more than hashing on a 20,000-file site.
    root = str(build_dir) + os.sep
    names = []
    for folder, _dirs, files in os.walk(root):
        names.extend(os.path.join(folder, name)[len(root) :] for name in files)
    names.sort()
    headers: dict[str, tuple[str, str]] = {}
    unknown = []
    for name in names:
        key = name.replace(os.sep, "/")
        try:
            headers[name] = headers_for(key, policy)
        except UnknownFileType as error:
            unknown.extend(error.keys)
    if unknown:
        raise UnknownFileType(unknown)

    def describe(batch: list[str]) -> list[tuple[str, LocalFile]]:
        described = []
        for name in batch:
            with open(root + name, "rb") as file:
                data = file.read()
            content_type, cache_control = headers[name]
            digest = hashlib.sha256(data).hexdigest()
            entry = FileEntry(digest, len(data), content_type, cache_control)
            key = key_prefix + name.replace(os.sep, "/")
            described.append((key, LocalFile(entry, build_dir / name)))
        return described

    batches = [names[start : start + 200] for start in range(0, len(names), 200)]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return {key: file for batch in pool.map(describe, batches) for key, file in batch}


# -- progress ------------------------------------------------------------------------


class Progress:
    """Files and bytes done out of the total, on one refreshed line (or a few lines)."""

    def __init__(self, stream: IO[str] | None = None, label: str = "publish") -> None:
        self.stream = stream
        self.label = label
        self.tty = bool(stream and stream.isatty())
        self._lock = threading.Lock()
        self.files = self.bytes = self.total_files = self.total_bytes = 0
        self._last_tenth = -1

    def start(self, files: int, size: int) -> None:
        self.total_files, self.total_bytes = files, size
        self.files = self.bytes = 0
        self._last_tenth = -1
        self._show()

    def advance(self, size: int) -> None:
        with self._lock:
            self.files += 1
            self.bytes += size
            self._show()

    def _show(self) -> None:
        if not self.stream or not self.total_files:
            return
        done = self.files == self.total_files
        line = (
            f"{self.label}: {self.files}/{self.total_files} files, "
            f"{_size(self.bytes)}/{_size(self.total_bytes)} uploaded"
        )
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done else ""))
        else:
            tenth = self.files * 10 // self.total_files
            if tenth == self._last_tenth:
                return
            self._last_tenth = tenth
            self.stream.write(line + "\n")
        self.stream.flush()


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


# -- fault injection (tests only) ------------------------------------------------------


def _checkpoint(point: str, count: int | None = None) -> None:
    fault = os.environ.get(FAULT_VARIABLE, "")
    name, _, limit = fault.partition(":")
    if name == point and (count is None or (limit and count >= int(limit))):
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)


# -- operations ----------------------------------------------------------------------


def stamp_now() -> str:
    """A manifest's creation stamp: UTC, microseconds, sorts chronologically."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


@dataclass(frozen=True)
class LiveState:
    served: str | None  # the release visitors get (CloudFront, or the pointer without one)
    pointer: Pointer | None
    refs: tuple[ReleaseRef, ...]

    def ref(self, release: str | None) -> ReleaseRef | None:
        return next((r for r in reversed(self.refs) if r.release == release), None)


def read_live(store: ReleaseStore) -> LiveState:
    pointer = store.read_pointer()
    if store.target.distribution_id:
        served = store.served_release()
    else:
        served = pointer.release if pointer else None
    return LiveState(served, pointer, tuple(store.list_releases()))


@dataclass(frozen=True)
class Snapshot:
    """What is live, read before planning (it can be read while the build is hashed)."""

    live: LiveState
    manifest: Manifest | None


def read_snapshot(store: ReleaseStore) -> Snapshot:
    live = read_live(store)
    ref = live.ref(live.served)
    return Snapshot(live, store.read_manifest(ref) if ref else None)


def settle(store: ReleaseStore, live: LiveState, summary: Summary, dry_run: bool) -> None:
    """Finish a switch an interrupted run left halfway; make the pointer match CloudFront."""
    pointer, served = live.pointer, live.served
    if served is None or dry_run:
        return
    if pointer and pointer.release == served and pointer.state == "live":
        return
    invalidation = None
    if pointer and pointer.release == served and pointer.invalidate:
        invalidation = store.invalidate(list(pointer.invalidate), f"{served}-{stamp_now()}")
        summary.warnings.append(
            f"finished the switch to {served} an interrupted run left pending "
            f"(invalidation {invalidation})"
        )
    previous = pointer.previous if pointer and pointer.release == served else None
    store.write_pointer(
        Pointer(served, previous, "live", (), invalidation, datetime.now(UTC).isoformat())
    )


def publish(
    store: ReleaseStore,
    local: Mapping[str, LocalFile],
    options: Options,
    *,
    url_root: str = "/",
    progress: Progress | None = None,
    snapshot: Snapshot | None = None,
) -> Summary:
    """Make the build the live release, uploading only what differs from it."""
    started = time.monotonic()
    summary = Summary("publish", dry_run=options.dry_run, files=len(local))
    snapshot = snapshot or read_snapshot(store)
    live = snapshot.live
    settle(store, live, summary, options.dry_run)
    local_entries = {key: file.entry for key, file in local.items()}
    plan = plan_release(local_entries, snapshot.manifest, root=url_root)
    _count(summary, plan)
    summary.refused = deletes_refused(plan, options.max_deletes, options.force)
    paths = _collapse(plan.invalidate, options, url_root)
    summary.invalidated_paths = paths
    if summary.refused:
        summary.release = None
        return _done(summary, started)
    if plan.noop:
        summary.release, summary.previous, summary.noop, summary.copied = plan.live, None, True, 0
        if not options.dry_run:  # finish a garbage collection an interrupted run left
            _collect(store, options.keep_releases, {plan.live}, summary, live.refs)
        return _done(summary, started)
    if options.dry_run:
        return _done(summary, started)

    reuse = live.ref(plan.release)
    if reuse is not None:  # this exact build is a retained release: just switch back to it
        summary.reused = True
        summary.uploaded = summary.uploaded_bytes = summary.copied = 0
    else:
        _transfer(store, plan, local, options, summary, progress)
        store.write_manifest(plan.manifest(datetime.now(UTC).isoformat()), stamp_now())
        _checkpoint("manifest")
    _switch(store, plan.release, plan.live, paths, options, summary)
    _collect(store, options.keep_releases, {plan.release, live.served}, summary)
    return _done(summary, started)


def _count(summary: Summary, plan: Plan) -> None:
    summary.release, summary.previous = plan.release, plan.live
    summary.uploaded, summary.uploaded_bytes = len(plan.upload), plan.upload_bytes
    summary.copied = len(plan.copy)
    summary.unchanged, summary.changed = len(plan.unchanged), len(plan.changed)
    summary.added, summary.deleted = len(plan.added), len(plan.deleted)
    summary.carried = len(plan.carried)


def _collapse(paths: Iterable[str], options: Options, url_root: str) -> list[str]:
    return collapse_paths(paths, max_paths=options.max_invalidation_paths, root=url_root)


def _transfer(
    store: ReleaseStore,
    plan: Plan,
    local: Mapping[str, LocalFile],
    options: Options,
    summary: Summary,
    progress: Progress | None,
) -> None:
    """Upload and copy the release's objects: every asset first, then the documents."""
    present = store.release_objects(plan.release)  # left by an interrupted run
    uploads = set(plan.upload)
    todo = []
    for key in sorted(plan.upload + plan.copy, key=lambda k: (is_document(k), k)):
        if present.get(key) == plan.files[key].size:
            summary.resumed += 1
        else:
            todo.append(key)
    summary.uploaded = sum(1 for key in todo if key in uploads)
    summary.uploaded_bytes = sum(plan.files[key].size for key in todo if key in uploads)
    summary.copied = len(todo) - summary.uploaded
    if progress:
        progress.start(len(todo), summary.uploaded_bytes)
    done = [0]
    lock = threading.Lock()

    def run(key: str) -> None:
        if key in uploads:
            store.upload(plan.release, key, plan.files[key], local[key].path)
        else:
            assert plan.live is not None
            store.copy(plan.live, plan.release, key)
        if progress:
            progress.advance(plan.files[key].size if key in uploads else 0)
        with lock:
            done[0] += 1
            _checkpoint("transfers", done[0])

    assets = [key for key in todo if not is_document(key)]
    documents = [key for key in todo if is_document(key)]
    with ThreadPoolExecutor(max_workers=options.jobs) as pool:
        for batch in (assets, documents):
            for future in [pool.submit(run, key) for key in batch]:
                future.result()


def _switch(
    store: ReleaseStore,
    release: str,
    previous: str | None,
    paths: list[str],
    options: Options,
    summary: Summary,
) -> None:
    """Make `release` live: pointer intent, origin switch, invalidation, pointer live."""
    now = datetime.now(UTC).isoformat()
    summary.release, summary.previous = release, previous
    if not store.target.distribution_id:  # no CDN: the pointer is the switch
        store.write_pointer(Pointer(release, previous, "live", (), None, now))
        summary.switched = True
        summary.invalidated_paths = []
        return
    store.write_pointer(Pointer(release, previous, "switching", tuple(paths), None, now))
    _checkpoint("intent")
    summary.switched = store.switch_origin(release)
    _checkpoint("switch")
    deployed = (
        not summary.switched
        or options.wait_timeout <= 0
        or store.wait_deployed(options.wait_timeout)
    )
    if not deployed:
        summary.warnings.append(
            f"distribution not deployed after {options.wait_timeout:.0f}s; invalidating "
            "anyway (an edge that switches later may serve stale pages until they expire)"
        )
    if paths:
        summary.invalidation = store.invalidate(paths, f"{release}-{stamp_now()}")
    _checkpoint("invalidate")
    store.write_pointer(Pointer(release, previous, "live", (), summary.invalidation, now))


def _collect(
    store: ReleaseStore,
    keep: int,
    protect: set[str | None],
    summary: Summary,
    refs: Iterable[ReleaseRef] | None = None,
) -> None:
    """Delete releases beyond the newest `keep` and prefixes of interrupted runs.

    `refs`: the complete releases, when the caller has just listed them.
    """
    protected = {release for release in protect if release}
    remaining = set(store.list_releases() if refs is None else refs)
    for ref in releases_to_collect(remaining, keep, protected):
        store.delete_manifest(ref)  # first: from now on it is incomplete, never served
        _checkpoint("gc")
        remaining.discard(ref)
        summary.collected_objects += store.delete_release_objects(ref.release)
        summary.collected_releases.append(ref.release)
    complete = {ref.release for ref in remaining}
    for release in orphan_prefixes(store.release_prefixes(), complete, protected):
        summary.collected_objects += store.delete_release_objects(release)
        summary.collected_releases.append(release)


def rollback(store: ReleaseStore, release: str | None, options: Options) -> Summary:
    """Serve an earlier release again (the one before the live one by default)."""
    started = time.monotonic()
    summary = Summary("rollback")
    live = read_live(store)
    settle(store, live, summary, dry_run=False)
    if release is not None and not RELEASE_ID.match(release):
        raise PublishError(f"{release!r} is not a release id (16 hex digits)")
    if release is None:
        target = previous_release(live.refs, live.served)
        if target is None:
            raise PublishError(f"no complete release older than the live one ({live.served})")
    else:
        target = live.ref(release)
        if target is None:
            known = ", ".join(ref.release for ref in live.refs) or "none"
            raise PublishError(f"no complete release {release}; retained releases: {known}")
    if target.release == live.served:
        summary.release, summary.noop = target.release, True
        return _done(summary, started)
    current_ref = live.ref(live.served)
    current = store.read_manifest(current_ref) if current_ref else None
    wanted = store.read_manifest(target)
    summary.files = len(wanted.files)
    paths = _collapse(stale_paths(current, wanted), options, wanted.root)
    _switch(store, target.release, live.served, paths, options, summary)
    return _done(summary, started)


@dataclass(frozen=True)
class ReleaseInfo:
    release: str
    created_at: str
    files: int
    bytes: int
    live: bool


def list_releases(store: ReleaseStore, jobs: int = 8) -> tuple[list[ReleaseInfo], LiveState]:
    """Every retained complete release, newest first."""
    live = read_live(store)
    refs = sorted(live.refs, reverse=True)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        manifests = list(pool.map(store.read_manifest, refs))
    rows = [
        ReleaseInfo(m.release, m.created_at, len(m.own()), m.size, m.release == live.served)
        for m in manifests
    ]
    return rows, live


def _done(summary: Summary, started: float) -> Summary:
    summary.seconds = round(time.monotonic() - started, 3)
    return summary
