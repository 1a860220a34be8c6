"""The static search index: pagefind over the sculpture pages, sharded and deterministic.

pagefind re-indexes everything it is given (about 3 s for 10,000 pages here),
which alone would break the one-edit rebuild budget on a large catalog. The
sculptures are therefore split into shards of about SHARD_SIZE pages by a stable
hash of their slug; each shard is its own pagefind bundle (`pagefind/`,
`pagefind-1/`, ...) and the search page merges them in the browser
(`mergeIndex`), so an edit re-indexes one shard. Small catalogs have one shard.

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
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cbor2

SEARCH_DIR = "pagefind"
SHARD_SIZE = 1500
PAGE_PATH = "esculturas/{slug}/index.html"
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


def update_search_index(build_dir: Path, slugs: Collection[str], changed: set[str] | None) -> bool:
    """Re-index the shards holding `changed` slugs (None: all); True if any was rebuilt."""
    count = shard_count(len(slugs))
    shards = shards_of(slugs)
    existing = {p.name for p in build_dir.glob(f"{SEARCH_DIR}*") if _BUNDLE_RE.match(p.name)}
    expected = {bundle_name(k) for k in shards}
    complete = existing == expected and all(
        (build_dir / name / "pagefind.js").is_file() for name in expected
    )
    if changed is None or not complete:
        todo = set(shards)
    else:
        todo = {shard_of(slug, count) for slug in changed} & set(shards)
    for stale in existing - expected:
        shutil.rmtree(build_dir / stale)
    workers = min(len(todo), os.cpu_count() or 1) or 1
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda k: _index_shard(build_dir, k, shards[k]), sorted(todo)))
    return bool(todo)


def _index_shard(build_dir: Path, shard: int, slugs: list[str]) -> None:
    """Run pagefind over one shard's pages, staged as hard links in a scratch folder."""
    staging = build_dir.parent / f".search-staging-{shard}"
    output = build_dir / bundle_name(shard)
    for folder in (staging, output):
        if folder.exists():
            shutil.rmtree(folder)
    for slug in slugs:
        source = build_dir / PAGE_PATH.format(slug=slug)
        target = staging / PAGE_PATH.format(slug=slug)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
    command = [sys.executable, "-m", "pagefind", "--site", str(staging)]
    result = subprocess.run(
        [*command, "--output-path", str(output)], capture_output=True, text=True, check=False
    )
    shutil.rmtree(staging)
    if result.returncode != 0 or not (output / "pagefind.js").is_file():
        raise RuntimeError(f"pagefind failed on shard {shard}:\n{result.stdout}\n{result.stderr}")
    canonicalize(output)


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
