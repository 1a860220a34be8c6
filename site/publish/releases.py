"""Release operations: publish a build, roll back, list, remove a preview.

Design: one live tree per area, changed in place, in proportion to the change
(docs/decisions.md, "Publish design", has the measurements). Each operation
reads the live pointer and the live release's manifest, asks the pure core
(plan) what differs, and has SiteStore do it. The order of the steps is what
makes a change safe to kill at any point:

1. record the intent in the pointer: state `changing`, the target release, every
   key about to be written or deleted, the paths to invalidate;
2. write objects: assets first, then new pages, then changed pages (uploaded
   from the build, or copied back from their S3 versions for a rollback);
3. delete what the target takes off the site (fingerprinted files are kept:
   pages cached from an older release may link to them);
4. write the target's manifest (each key with the S3 version holding it);
5. invalidate the stale paths, then record the target as `live`;
6. garbage-collect releases beyond the newest N and the fingerprinted files only
   they used (manifest history first, so a half-collected release is never a
   rollback target).

At every point each page is whole and every asset a served page links to
exists; pages are the old or the new version. A run killed anywhere leaves the
pointer saying `changing`: the next publish or rollback looks at the dirty keys
alone (HeadObject), so it resumes without re-sending what is already there,
and finishes the pending invalidation.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from storefront.publish.errors import PublishError
from storefront.publish.headers import is_document
from storefront.publish.local_scan import Build
from storefront.publish.plan import (
    RELEASE_ID,
    FileEntry,
    Manifest,
    Plan,
    collapse_paths,
    deletes_refused,
    plan_change,
    previous_release,
    releases_to_collect,
    served_now,
    unreferenced_files,
)
from storefront.publish.progress import Progress
from storefront.publish.remote import SiteStore
from storefront.publish.state import CHANGING, LIVE, Pointer

#: Test hook: `STOREFRONT_PUBLISH_FAULT=transfers:5` (or intent, deletes, manifest,
#: invalidate, gc) makes the process SIGKILL itself at that point, so the tests can
#: prove that an interrupted publish never breaks the live site.
FAULT_VARIABLE = "STOREFRONT_PUBLISH_FAULT"


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    max_deletes: int = 256
    force: bool = False
    keep_releases: int = 5
    jobs: int = 16
    max_invalidation_paths: int = 300
    wait_timeout: float = 0.0  # seconds to wait for the invalidation to complete


@dataclass
class Summary:
    """What an operation did (or, with --dry-run, would do); printed or dumped as JSON."""

    action: str
    area: str = ""
    url: str | None = None
    release: str | None = None
    previous: str | None = None
    dry_run: bool = False
    noop: bool = False
    reused: bool = False
    files: int = 0
    uploaded: int = 0
    uploaded_bytes: int = 0
    restored: int = 0
    resumed: int = 0
    unchanged: int = 0
    changed: int = 0
    added: int = 0
    deleted: int = 0
    kept: int = 0
    invalidation: str | None = None
    invalidated_paths: list[str] = field(default_factory=list)
    invalidation_completed: bool | None = None
    collected_releases: list[str] = field(default_factory=list)
    collected_objects: int = 0
    refused: str | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


# -- fault injection (tests only) ------------------------------------------------------


def _checkpoint(point: str, count: int | None = None) -> None:
    fault = os.environ.get(FAULT_VARIABLE, "")
    name, _, limit = fault.partition(":")
    if name == point and (count is None or (limit and count >= int(limit))):
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def stamp_now() -> str:
    """A release's creation stamp: UTC, microseconds, sorts chronologically."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


# -- what is served ----------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What an area serves, read before planning (it can be read while the build is hashed)."""

    pointer: Pointer
    manifest: Manifest | None  # the live release's
    found: dict[str, FileEntry | None]  # what the keys of an interrupted change hold now

    def served(self) -> dict[str, FileEntry]:
        return served_now(self.manifest.files if self.manifest else {}, self.found)


def read_snapshot(store: SiteStore, jobs: int = 16) -> Snapshot:
    status = store.versioning()
    if status != "Enabled":
        raise PublishError(
            f"bucket {store.bucket} has versioning {status or 'off'}: publish keeps earlier "
            "versions of each page for rollback, so versioning must be Enabled"
        )
    pointer = store.read_pointer()
    ref = pointer.ref(pointer.release)
    manifest = store.read_manifest(ref) if ref else None
    found: dict[str, FileEntry | None] = {}
    if pointer.changing and pointer.dirty:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            found = dict(zip(pointer.dirty, pool.map(store.head, pointer.dirty), strict=True))
    return Snapshot(pointer, manifest, found)


# -- operations ------------------------------------------------------------------------


def publish(
    store: SiteStore,
    build: Build,
    options: Options,
    *,
    progress: Progress | None = None,
    snapshot: Snapshot | None = None,
) -> Summary:
    """Make the build what the area serves, writing only what differs."""
    started = time.monotonic()
    snapshot = snapshot or read_snapshot(store, options.jobs)
    pointer = snapshot.pointer
    summary = Summary("publish", store.area.name, build.url, dry_run=options.dry_run)
    summary.files = len(build.files)
    served = snapshot.served()
    target = build.entries()
    plan = _plan(target, served, pointer, store)
    retained = pointer.ref(plan.release)
    if retained is not None and plan.write:  # a retained build: copy its versions back
        plan = _plan(store.read_manifest(retained).files, served, pointer, store)
        summary.reused = True
    _count(summary, plan, snapshot)
    summary.refused = deletes_refused(plan, options.max_deletes, options.force)
    paths = _paths(plan, pointer, options, store)
    summary.invalidated_paths = paths
    if summary.refused:
        summary.release = None
        return _done(summary, started)
    if plan.noop and not pointer.changing:
        summary.noop = True
        if not options.dry_run and pointer.collect:  # finish what an interrupted run left
            pointer = _collect(store, pointer, summary)
        return _done(summary, started)
    if options.dry_run:
        return _done(summary, started)
    if summary.reused:
        write = _restorer(store, plan)
    else:
        write = _uploader(store, plan, build)
        summary.uploaded, summary.uploaded_bytes = len(plan.write), plan.write_bytes()
    _change(store, plan, pointer, paths, write, options, summary, progress, new=not retained)
    return _done(summary, started)


def rollback(store: SiteStore, release: str | None, options: Options) -> Summary:
    """Serve an earlier release again (the one before the live one by default; after
    an interrupted publish, the last whole release).

    Only the keys that differ move: each is copied back from the S3 version the
    release's manifest recorded (no upload, no rebuild), and only their paths are
    invalidated.
    """
    started = time.monotonic()
    if release is not None and not RELEASE_ID.match(release):
        raise PublishError(f"{release!r} is not a release id (16 hex digits)")
    snapshot = read_snapshot(store, options.jobs)
    pointer = snapshot.pointer
    summary = Summary("rollback", store.area.name)
    if release is None and pointer.changing:
        # An interrupted change: finish a rollback (its target is retained), or undo a
        # publish (back to the last release that was whole).
        wanted = pointer.ref(pointer.target) or pointer.ref(pointer.release)
        if wanted is None:
            raise PublishError("an interrupted change left no retained release to go back to")
    elif release is None:
        wanted = previous_release(pointer.history, pointer.release)
        if wanted is None:
            raise PublishError(
                f"no retained release older than the live one ({pointer.release or 'none'})"
            )
    else:
        wanted = pointer.ref(release)
        if wanted is None:
            known = ", ".join(ref.release for ref in pointer.history) or "none"
            raise PublishError(f"no retained release {release}; retained releases: {known}")
    manifest = store.read_manifest(wanted)
    plan = _plan(manifest.files, snapshot.served(), pointer, store)
    _count(summary, plan, snapshot)
    summary.files = len(manifest.files)
    paths = _paths(plan, pointer, options, store)
    summary.invalidated_paths = paths
    if plan.noop and not pointer.changing:
        summary.noop = True
        return _done(summary, started)
    write = _restorer(store, plan)
    _change(store, plan, pointer, paths, write, options, summary, None, new=False)
    return _done(summary, started)


@dataclass(frozen=True)
class ReleaseInfo:
    release: str
    created_at: str
    files: int
    bytes: int
    live: bool


def list_releases(store: SiteStore, jobs: int = 8) -> tuple[list[ReleaseInfo], Pointer]:
    """Every retained release, newest first."""
    pointer = store.read_pointer()
    refs = sorted(pointer.history, reverse=True)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        manifests = list(pool.map(store.read_manifest, refs))
    rows = [
        ReleaseInfo(m.release, m.created_at, len(m.files), m.size, m.release == pointer.release)
        for m in manifests
    ]
    return rows, pointer


def unpublish(store: SiteStore) -> Summary:
    """Remove a preview: every object and record of its area (their versions expire)."""
    started = time.monotonic()
    if not store.area.preview:
        raise PublishError("unpublish removes a preview: pass --prefix previews/<name>")
    summary = Summary("unpublish", store.area.name)
    keys = store.list_area()
    summary.deleted = len(keys)
    summary.noop = not keys
    store.delete_object_keys(keys)
    return _done(summary, started)


# -- the steps -------------------------------------------------------------------------


def _plan(
    target: Mapping[str, FileEntry],
    served: Mapping[str, FileEntry],
    pointer: Pointer,
    store: SiteStore,
) -> Plan:
    return plan_change(target, served, live=pointer.release, url_base=store.area.url_base)


def _count(summary: Summary, plan: Plan, snapshot: Snapshot) -> None:
    summary.release, summary.previous = plan.release, plan.live
    summary.unchanged, summary.changed = len(plan.unchanged), len(plan.changed)
    summary.added, summary.deleted, summary.kept = len(plan.added), len(plan.delete), len(plan.kept)
    summary.resumed = sum(
        1
        for key, entry in snapshot.found.items()
        if entry is not None and key in plan.files and entry.same_object(plan.files[key])
    )


def _paths(plan: Plan, pointer: Pointer, options: Options, store: SiteStore) -> list[str]:
    if store.distribution_id is None:
        return []
    pending = pointer.invalidate if pointer.changing else ()
    return collapse_paths(
        set(plan.invalidate) | set(pending),
        max_paths=options.max_invalidation_paths,
        root=store.area.url_base,
    )


Writer = Callable[[str], str | None]


def _uploader(store: SiteStore, plan: Plan, build: Build) -> Writer:
    return lambda key: store.upload(key, plan.files[key], build.files[key].path)


def _restorer(store: SiteStore, plan: Plan) -> Writer:
    return lambda key: store.restore(key, plan.files[key])


def _change(
    store: SiteStore,
    plan: Plan,
    pointer: Pointer,
    paths: list[str],
    write: Writer,
    options: Options,
    summary: Summary,
    progress: Progress | None,
    *,
    new: bool,
) -> None:
    """Steps 1-6 of the module docstring."""
    now = datetime.now(UTC).isoformat()
    dirty = set(plan.write) | set(plan.delete) | (set(pointer.dirty) if pointer.changing else set())
    intent = replace(
        pointer,
        state=CHANGING,
        target=plan.release,
        dirty=tuple(sorted(dirty)),
        invalidate=tuple(paths),
        changed_at=now,
    )
    store.write_pointer(intent)
    _checkpoint("intent")
    if summary.reused or summary.action == "rollback":
        summary.restored = len(plan.write)
    versions = _transfer(plan, write, options, progress)
    if plan.delete:
        store.delete(plan.delete)
        _checkpoint("deletes")
    history = pointer.history
    if new:
        ref = store.write_manifest(plan.manifest(now, versions), stamp_now())
        history = (*history, ref)
    _checkpoint("manifest")
    invalidation = None
    if paths:
        invalidation = store.invalidate(paths, f"{plan.release}-{stamp_now()}")
        _checkpoint("invalidate")
    doomed = releases_to_collect(history, options.keep_releases, {plan.release, pointer.release})
    live = Pointer(
        release=plan.release,
        state=LIVE,
        previous=pointer.release if pointer.release != plan.release else pointer.previous,
        history=tuple(ref for ref in history if ref not in doomed),
        collect=(*pointer.collect, *doomed),
        invalidation=invalidation,
        changed_at=now,
        extra=pointer.extra,
    )
    store.write_pointer(live)
    summary.invalidation = invalidation
    if invalidation and options.wait_timeout > 0:
        summary.invalidation_completed = store.wait_invalidated(invalidation, options.wait_timeout)
        if not summary.invalidation_completed:
            summary.warnings.append(
                f"invalidation {invalidation} not completed after {options.wait_timeout:.0f} s; "
                "some edges may serve the previous pages until it completes"
            )
    if live.collect:
        _collect(store, live, summary)


def _transfer(
    plan: Plan, write: Writer, options: Options, progress: Progress | None
) -> dict[str, str | None]:
    """Write the plan's keys in its order: each batch (assets, new pages, changed pages)
    is complete before the next starts; within a batch, `jobs` at a time."""
    if progress:
        progress.start(len(plan.write), plan.write_bytes())
    versions: dict[str, str | None] = {}
    lock = threading.Lock()

    def run(key: str) -> None:
        version = write(key)
        if progress:
            progress.advance(plan.files[key].size)
        with lock:
            versions[key] = version
            _checkpoint("transfers", len(versions))

    with ThreadPoolExecutor(max_workers=options.jobs) as pool:
        for batch in _batches(plan):
            for future in [pool.submit(run, key) for key in batch]:
                future.result()
    return versions


def _batches(plan: Plan) -> Iterable[list[str]]:
    added = set(plan.added)
    yield [key for key in plan.write if not is_document(key)]
    yield [key for key in plan.write if is_document(key) and key in added]
    yield [key for key in plan.write if is_document(key) and key not in added]


def _collect(store: SiteStore, pointer: Pointer, summary: Summary) -> Pointer:
    """Delete the files only collected releases used, then their manifests."""
    doomed = [store.read_manifest(ref) for ref in pointer.collect]
    retained = [store.read_manifest(ref) for ref in pointer.history]
    files = unreferenced_files(doomed, retained, ())
    summary.collected_objects += store.delete(files)
    _checkpoint("gc")
    store.delete_manifests(pointer.collect)
    summary.collected_releases.extend(ref.release for ref in pointer.collect)
    done = replace(pointer, collect=())
    store.write_pointer(done)
    return done


def _done(summary: Summary, started: float) -> Summary:
    summary.seconds = round(time.monotonic() - started, 3)
    return summary
