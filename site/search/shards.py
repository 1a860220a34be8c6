"""The search index's shards: pure maths on slugs, shared by the indexer and the search page.

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
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache

SEARCH_DIR = "pagefind"


SHARD_SIZE = 500


_BUNDLE_RE = re.compile(r"^pagefind(-\d+)?$")


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
