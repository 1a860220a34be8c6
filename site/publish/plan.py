"""The pure core of publishing: local files + the live release's manifest -> a plan.

Nothing here touches the network or the disk; every function takes and returns
plain data, so the rules (what to upload, what to copy, what to invalidate, what
to garbage-collect) are unit-tested without S3.

Objects are compared by SHA-256 of their bytes plus the headers S3 would serve
(Content-Type, Cache-Control), as recorded in each release's manifest. S3's ETag
is never used: it is not a content hash for multipart uploads.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import quote

from storefront.publish.headers import is_document, is_fingerprinted

MANIFEST_VERSION = 1
RELEASE_ID = re.compile(r"^[0-9a-f]{16}$")

#: CloudFront accepts at most 3,000 file paths and 15 wildcard paths in progress
#: per distribution (and bills per path beyond 1,000 a month; a wildcard is one).
CLOUDFRONT_MAX_PATHS = 3000
CLOUDFRONT_MAX_WILDCARDS = 15


@dataclass(frozen=True)
class FileEntry:
    """One object of a release: what it holds and the headers it is served with."""

    sha256: str
    size: int
    content_type: str
    cache_control: str
    #: A superseded fingerprinted asset kept for one more release (see plan_release).
    carried: bool = False

    def same_object(self, other: FileEntry) -> bool:
        """Same bytes and same headers: S3 would serve both identically."""
        return (self.sha256, self.content_type, self.cache_control) == (
            other.sha256,
            other.content_type,
            other.cache_control,
        )


@dataclass(frozen=True)
class Manifest:
    """What one release holds: object key (relative to the release) -> entry."""

    release: str
    created_at: str
    files: Mapping[str, FileEntry]
    root: str = "/"  # the site's URL path: keys are served at root + key

    def own(self) -> dict[str, FileEntry]:
        """The files the build put in this release (not the carried ones)."""
        return {key: entry for key, entry in self.files.items() if not entry.carried}

    @property
    def size(self) -> int:
        return sum(entry.size for entry in self.files.values())

    def to_json(self) -> bytes:
        """Compact JSON: header pairs are stored once and referenced by index."""
        headers: dict[tuple[str, str], int] = {}
        rows = []
        for key in sorted(self.files):
            entry = self.files[key]
            pair = (entry.content_type, entry.cache_control)
            index = headers.setdefault(pair, len(headers))
            rows.append([key, entry.sha256, entry.size, index, int(entry.carried)])
        document = {
            "version": MANIFEST_VERSION,
            "release": self.release,
            "created_at": self.created_at,
            "root": self.root,
            "headers": [list(pair) for pair in headers],
            "files": rows,
        }
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        document = json.loads(data)
        if document.get("version") != MANIFEST_VERSION:
            raise ValueError(f"unsupported manifest version {document.get('version')!r}")
        headers = [tuple(pair) for pair in document["headers"]]
        files = {
            key: FileEntry(sha, size, *headers[index], carried=bool(carried))
            for key, sha, size, index, carried in document["files"]
        }
        return cls(document["release"], document["created_at"], files, document["root"])


def release_id(files: Mapping[str, FileEntry]) -> str:
    """A release is named by its content: the same build always gets the same id.

    That makes a re-run after an interrupted publish resume the same release
    prefix, and a publish of a build that is still retained reuse it.
    """
    digest = hashlib.sha256()
    for key in sorted(files):
        entry = files[key]
        if not entry.carried:
            line = f"{key}\0{entry.sha256}\0{entry.content_type}\0{entry.cache_control}\n"
            digest.update(line.encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Plan:
    """What publishing a build means against the live release."""

    release: str
    live: str | None
    files: Mapping[str, FileEntry]  # the new release's manifest
    upload: tuple[str, ...]  # keys to upload, assets before documents
    copy: tuple[str, ...]  # keys to copy server-side from the live release
    unchanged: tuple[str, ...]
    changed: tuple[str, ...]
    added: tuple[str, ...]
    deleted: tuple[str, ...]  # paths the new release takes off the site
    carried: tuple[str, ...]  # superseded fingerprinted assets kept one more release
    invalidate: tuple[str, ...]  # URL paths whose cached copies are stale
    root: str = "/"

    def manifest(self, created_at: str) -> Manifest:
        return Manifest(self.release, created_at, self.files, self.root)

    @property
    def noop(self) -> bool:
        """The build is exactly what is live: nothing to upload, switch or invalidate."""
        return self.live is not None and not (self.changed or self.added or self.deleted)

    @property
    def upload_bytes(self) -> int:
        return sum(self.files[key].size for key in self.upload)


def plan_release(local: Mapping[str, FileEntry], live: Manifest | None, *, root: str = "/") -> Plan:
    """Compare the build with the live release and decide every object's fate.

    - same bytes and headers as live: copied server-side into the new release;
    - new, or bytes or headers differ: uploaded (assets first, documents last);
    - live but not in the build: gone from the new release ("deleted"), except
      fingerprinted assets, which are carried one more release so that a page
      still cached from the old release never links to a missing file;
    - the CDN paths of changed and deleted documents are invalidated.
    """
    live_files = live.files if live else {}
    live_own = live.own() if live else {}
    unchanged, changed, added = [], [], []
    for key, entry in local.items():
        previous = live_own.get(key) or live_files.get(key)
        if previous is None:
            added.append(key)
        elif previous.same_object(entry):
            unchanged.append(key)
        else:
            changed.append(key)
    deleted = sorted(set(live_own) - set(local))
    carried = [key for key in deleted if is_fingerprinted(key)]
    files = {key: replace(entry, carried=False) for key, entry in local.items()}
    files.update({key: replace(live_own[key], carried=True) for key in carried})
    upload = sorted(changed + added, key=lambda key: (is_document(key), key))
    new = Manifest(release_id(files), "", files, root)
    return Plan(
        release=new.release,
        live=live.release if live else None,
        files=files,
        upload=tuple(upload),
        copy=tuple(sorted(unchanged + carried)),
        unchanged=tuple(sorted(unchanged)),
        changed=tuple(sorted(changed)),
        added=tuple(sorted(added)),
        deleted=tuple(deleted),
        carried=tuple(carried),
        invalidate=tuple(stale_paths(live, new)),
        root=root,
    )


def stale_paths(current: Manifest | None, target: Manifest) -> list[str]:
    """URL paths a CDN may hold a wrong copy of once `target` replaces `current`.

    A path is stale when its object changed, or when it disappears (a cached page
    would outlive its removal). New paths are not listed: nothing valid can be
    cached under them (a cached 404 lasts only the error-caching TTL).
    """
    if current is None:
        return []
    keys = set()
    for key, entry in current.files.items():
        new = target.files.get(key)
        if (new is None and not is_fingerprinted(key)) or (
            new is not None and not new.same_object(entry)
        ):
            keys.add(key)
    paths: set[str] = set()
    for key in keys:
        paths.update(url_paths(key))
    return sorted(paths)


def url_paths(key: str) -> list[str]:
    """The URL paths that serve an object: `x/index.html` is also `x/`."""
    path = "/" + quote(key, safe="/-._~")
    if key == "index.html" or key.endswith("/index.html"):
        return [path[: -len("index.html")], path]
    return [path]


def collapse_paths(
    paths: Iterable[str],
    *,
    max_paths: int = 300,
    max_wildcards: int = CLOUDFRONT_MAX_WILDCARDS,
    root: str = "/",
) -> list[str]:
    """Fit an invalidation into `max_paths` paths by replacing folders with `folder/*`.

    Greedy: the folder whose wildcard removes the most paths goes first (the
    deepest on ties, to invalidate as little unchanged content as possible).
    The site root is never a candidate; `root*` is the answer only when no set of
    at most `max_wildcards` folder wildcards fits, i.e. when it is the cheaper way.
    """
    remaining = sorted(set(paths))
    if len(remaining) <= max_paths:
        return remaining
    wildcards: list[str] = []
    while len(remaining) > max_paths and len(wildcards) < max_wildcards:
        counts: dict[str, int] = {}
        for path in remaining:
            for candidate in _folders(path, root):
                counts[candidate] = counts.get(candidate, 0) + 1
        best = max(counts, key=lambda c: (counts[c] - 1, c.count("/"), c), default=None)
        if best is None or counts[best] <= 1:
            break
        remaining = [path for path in remaining if not path.startswith(best)]
        wildcards = [w for w in wildcards if not w.startswith(best)] + [best + "*"]
        remaining.append(best + "*")
    if len(remaining) > max_paths:
        return [root + "*"]
    return sorted(remaining)


def _folders(path: str, root: str) -> list[str]:
    """Folders below the root whose wildcard would cover `path` (`/a/b/` covers itself)."""
    wildcard = path.endswith("*")
    base = path[:-1] if wildcard else path
    if not base.startswith(root):
        return []
    folders = [base[: i + 1] for i, char in enumerate(base) if char == "/" and i >= len(root)]
    return [folder for folder in folders if not (wildcard and folder == base)]


def deletes_refused(plan: Plan, max_deletes: int, force: bool) -> str | None:
    """Why the plan must not run without --force, or None."""
    if force or len(plan.deleted) <= max_deletes:
        return None
    shown = ", ".join(plan.deleted[:10]) + (" ..." if len(plan.deleted) > 10 else "")
    return (
        f"refusing to delete {len(plan.deleted)} files (more than --max-deletes "
        f"{max_deletes}): {shown}; check the build, or pass --force"
    )


@dataclass(frozen=True, order=True)
class ReleaseRef:
    """A complete release, known by its manifest object: sortable by creation time."""

    stamp: str  # UTC creation time, YYYYmmddTHHMMSSffffffZ: sorts chronologically
    release: str = field(compare=False)


def previous_release(refs: Iterable[ReleaseRef], live: str | None) -> ReleaseRef | None:
    """The newest complete release created before the live one."""
    ordered = sorted(refs)
    live_ref = next((ref for ref in reversed(ordered) if ref.release == live), None)
    if live_ref is None:
        return None
    older = [ref for ref in ordered if ref.stamp < live_ref.stamp]
    return older[-1] if older else None


def releases_to_collect(
    refs: Iterable[ReleaseRef], keep: int, protect: Iterable[str]
) -> list[ReleaseRef]:
    """Releases beyond the newest `keep`, never one in `protect` (live, just published)."""
    protected = set(protect)
    kept: set[str] = set()
    doomed = []
    for ref in sorted(refs, reverse=True):
        if ref.release in protected or (len(kept) < keep and ref.release not in kept):
            kept.add(ref.release)
        elif ref.release not in kept:
            doomed.append(ref)
    return doomed


def orphan_prefixes(
    prefix_ids: Iterable[str], complete: Iterable[str], protect: Iterable[str]
) -> list[str]:
    """Release prefixes with no manifest (interrupted publishes), never a protected one."""
    return sorted(set(prefix_ids) - set(complete) - set(protect))
