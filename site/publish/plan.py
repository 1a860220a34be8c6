"""The pure core of publishing: what is served + what should be -> a plan of changes.

Nothing here touches the network or the disk; every function takes and returns
plain data, so the rules (what to write, what to delete, what to keep, what to
invalidate, what to garbage-collect) are unit-tested without S3.

Objects are compared by SHA-256 of their bytes plus the headers S3 would serve
(Content-Type, Cache-Control), as recorded in each release's manifest. S3's ETag
is never used: it is not a content hash for multipart uploads.

The site is updated in place (see releases), so a plan is a set of changes to
one live tree, ordered so that no visitor ever gets a page whose assets are
missing: assets first, then new pages, then changed pages, deletions last; a
fingerprinted file the new build no longer uses stays (a page cached from an
older release may still link to it) until no retained release refers to it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import quote

from storefront.publish.headers import is_document, is_fingerprinted

MANIFEST_VERSION = 2
RELEASE_ID = re.compile(r"^[0-9a-f]{16}$")

#: CloudFront accepts at most 3,000 file paths and 15 wildcard paths in progress
#: per distribution (and bills per path beyond 1,000 a month; a wildcard is one).
CLOUDFRONT_MAX_PATHS = 3000
CLOUDFRONT_MAX_WILDCARDS = 15


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One object: what it holds, the headers it is served with, and its S3 version."""

    sha256: str
    size: int
    content_type: str
    cache_control: str
    #: The S3 version holding these bytes (what a rollback copies back); None before upload.
    version: str | None = None

    def same_object(self, other: FileEntry) -> bool:
        """Same bytes and same headers: S3 would serve both identically."""
        return (self.sha256, self.content_type, self.cache_control) == (
            other.sha256,
            other.content_type,
            other.cache_control,
        )


@dataclass(frozen=True)
class Manifest:
    """What one release holds: key (relative to the area's URL base) -> entry."""

    release: str
    created_at: str
    files: Mapping[str, FileEntry]
    root: str = "/"  # the site's URL path: a key is served at the area's URL base + key

    @property
    def size(self) -> int:
        return sum(entry.size for entry in self.files.values())

    def to_json(self) -> bytes:
        """Compact JSON: header pairs are stored once and referenced by index."""
        headers: dict[tuple[str, str], int] = {}
        rows = []
        for key in sorted(self.files):
            entry = self.files[key]
            index = headers.setdefault((entry.content_type, entry.cache_control), len(headers))
            rows.append([key, entry.sha256, entry.size, index, entry.version])
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
            key: FileEntry(sha, size, *headers[index], version=version)
            for key, sha, size, index, version in document["files"]
        }
        return cls(document["release"], document["created_at"], files, document["root"])


def release_id(files: Mapping[str, FileEntry]) -> str:
    """A release is named by its content: the same build always gets the same id.

    So a publish of a build that is still retained is recognised (and restored
    from S3 versions instead of uploaded), and a re-run converges on the same id.
    """
    digest = hashlib.sha256()
    for key in sorted(files):
        entry = files[key]
        line = f"{key}\0{entry.sha256}\0{entry.content_type}\0{entry.cache_control}\n"
        digest.update(line.encode())
    return digest.hexdigest()[:16]


def served_now(
    live: Mapping[str, FileEntry], found: Mapping[str, FileEntry | None]
) -> dict[str, FileEntry]:
    """What the bucket serves: the live manifest, corrected by keys looked at one by one.

    After an interrupted change, the keys it touched may hold the old object, the
    new one, or none; `found` says what each really holds (None: absent).
    """
    served = dict(live)
    for key, entry in found.items():
        if entry is None:
            served.pop(key, None)
        else:
            served[key] = entry
    return served


@dataclass(frozen=True)
class Plan:
    """The changes that make the served tree equal to a target release."""

    release: str
    live: str | None
    files: Mapping[str, FileEntry]  # the target's manifest (versions of unchanged keys kept)
    write: tuple[str, ...]  # keys to upload or restore, in a safe order (see order_writes)
    delete: tuple[str, ...]  # keys taken off the site, after every write
    kept: tuple[str, ...]  # fingerprinted keys the target drops, left for cached pages
    unchanged: tuple[str, ...]
    changed: tuple[str, ...]
    added: tuple[str, ...]
    invalidate: tuple[str, ...]  # URL paths whose cached copies are stale
    url_base: str = "/"

    def manifest(self, created_at: str, versions: Mapping[str, str | None]) -> Manifest:
        """The target's manifest once written: each written key with its new S3 version."""
        files = {
            key: replace(entry, version=versions[key]) if key in versions else entry
            for key, entry in self.files.items()
        }
        return Manifest(self.release, created_at, files, self.url_base)

    @property
    def noop(self) -> bool:
        """The tree already serves exactly the target."""
        return not (self.write or self.delete)

    @property
    def deleted(self) -> tuple[str, ...]:
        """Every key the target takes off the site (deleted now or kept for a while)."""
        return tuple(sorted(self.delete + self.kept))

    def write_bytes(self, keys: Iterable[str] | None = None) -> int:
        return sum(self.files[key].size for key in (self.write if keys is None else keys))


def plan_change(
    target: Mapping[str, FileEntry],
    served: Mapping[str, FileEntry],
    *,
    live: str | None = None,
    url_base: str = "/",
) -> Plan:
    """Compare the target with what is served and decide every key's fate.

    - same bytes and headers as served: left alone (its recorded version is kept);
    - new, or bytes or headers differ: written (assets, then new pages, then changed);
    - served but not in the target: deleted, except fingerprinted files, which are
      kept (a page still cached from an older release may link to them);
    - the CDN paths of changed and deleted documents are invalidated.
    """
    unchanged, changed, added = [], [], []
    files = {}
    for key, entry in target.items():
        current = served.get(key)
        if current is None:
            added.append(key)
            files[key] = entry
        elif current.same_object(entry):
            unchanged.append(key)
            files[key] = replace(entry, version=entry.version or current.version)
        else:
            changed.append(key)
            files[key] = entry
    gone = sorted(set(served) - set(target))
    kept = [key for key in gone if is_fingerprinted(key)]
    delete = [key for key in gone if not is_fingerprinted(key)]
    return Plan(
        release=release_id(files),
        live=live,
        files=files,
        write=tuple(order_writes(added, changed)),
        delete=tuple(delete),
        kept=tuple(kept),
        unchanged=tuple(sorted(unchanged)),
        changed=tuple(sorted(changed)),
        added=tuple(sorted(added)),
        invalidate=tuple(stale_paths(served, files, url_base)),
        url_base=url_base,
    )


def order_writes(added: Iterable[str], changed: Iterable[str]) -> list[str]:
    """Assets before the documents that link to them; new documents before changed ones.

    A changed page may link to a new page; a new page is reachable only once a
    changed page links to it. So every link a visitor can follow resolves.
    """
    new, old = set(added), set(changed)
    return sorted(new | old, key=lambda key: (is_document(key), key in old, key))


def stale_paths(
    current: Mapping[str, FileEntry], target: Mapping[str, FileEntry], url_base: str = "/"
) -> list[str]:
    """URL paths a CDN may hold a wrong copy of once `target` replaces `current`.

    A path is stale when its object changed, or when it disappears (a cached page
    would outlive its removal). New paths are not listed: nothing valid can be
    cached under them (a cached 404 lasts only the error-caching TTL). Kept
    fingerprinted files are still served: nothing to invalidate.
    """
    keys = set()
    for key, entry in current.items():
        new = target.get(key)
        if (new is None and not is_fingerprinted(key)) or (
            new is not None and not new.same_object(entry)
        ):
            keys.add(key)
    paths: set[str] = set()
    for key in keys:
        paths.update(url_paths(key, url_base))
    return sorted(paths)


def url_paths(key: str, url_base: str = "/") -> list[str]:
    """The URL paths that serve an object: `x/index.html` is also `x/`."""
    path = url_base + quote(key, safe="/-._~")
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
    deleted = plan.deleted
    if force or len(deleted) <= max_deletes:
        return None
    shown = ", ".join(deleted[:10]) + (" ..." if len(deleted) > 10 else "")
    return (
        f"refusing to delete {len(deleted)} files (more than --max-deletes "
        f"{max_deletes}): {shown}; check the build, or pass --force"
    )


@dataclass(frozen=True, order=True)
class ReleaseRef:
    """A retained release: sortable by creation time."""

    stamp: str  # UTC creation time, YYYYmmddTHHMMSSffffffZ: sorts chronologically
    release: str = field(compare=False)


def previous_release(refs: Iterable[ReleaseRef], live: str | None) -> ReleaseRef | None:
    """The newest retained release created before the live one."""
    ordered = sorted(refs)
    live_ref = next((ref for ref in reversed(ordered) if ref.release == live), None)
    if live_ref is None:
        return None
    older = [ref for ref in ordered if ref.stamp < live_ref.stamp]
    return older[-1] if older else None


def releases_to_collect(
    refs: Iterable[ReleaseRef], keep: int, protect: Iterable[str | None]
) -> list[ReleaseRef]:
    """Releases beyond the newest `keep`, never one in `protect` (live, just published)."""
    protected = {release for release in protect if release}
    kept: set[str] = set()
    doomed = []
    for ref in sorted(refs, reverse=True):
        if ref.release in protected or (len(kept) < keep and ref.release not in kept):
            kept.add(ref.release)
        elif ref.release not in kept:
            doomed.append(ref)
    return doomed


def unreferenced_files(
    doomed: Iterable[Manifest], retained: Iterable[Manifest], served: Iterable[str]
) -> list[str]:
    """Fingerprinted keys only collected releases refer to: safe to delete now.

    A key still served, or in a retained release (a rollback target whose pages
    may also still be cached somewhere), stays.
    """
    needed = set(served)
    for manifest in retained:
        needed.update(manifest.files)
    candidates = {key for manifest in doomed for key in manifest.files if is_fingerprinted(key)}
    return sorted(candidates - needed)
