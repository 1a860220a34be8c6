"""Every file the site keeps for itself between builds, named in this one place.

Two kinds, in two folders that CI caches differently:

- beside the content (`.cache/` by default), what depends only on content
  bytes and code, and so outlives `build/`: validated content (and the stat
  of each file it was read from), rendered Markdown, encoded images (and the
  stat of each photo);
- beside the build (`build/cache/`), the record of what `build/site` holds:
  the plan of the last freeze with every page's key, the search bundles'
  keys, the compiled templates. Deleting `build/` deletes them with it.

The app's settings name the three roots (PARSE_CACHE_FILE, IMAGE_CACHE_DIR,
CACHE_DIR); everything else is derived here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CacheFiles:
    parse_cache: Path | None  # validated content by file hash; None: no cache (e.g. `check`)
    image_cache: Path  # encoded variants, each named by a hash of its photo and settings
    build_cache: Path  # what build/site holds

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> CacheFiles:
        parse_cache = config.get("PARSE_CACHE_FILE")
        return cls(
            Path(parse_cache) if parse_cache is not None else None,
            Path(config["IMAGE_CACHE_DIR"]),
            Path(config["CACHE_DIR"]),
        )

    @property
    def content_stats(self) -> Path | None:
        return content_stats_file(self.parse_cache)

    @property
    def markdown(self) -> Path | None:
        """Rendered Markdown by text, beside the parse cache: both depend on content and code."""
        return None if self.parse_cache is None else self.parse_cache.with_name("markdown.pickle")

    @property
    def image_sources(self) -> Path:
        return image_sources_file(self.image_cache)

    @property
    def plan_state(self) -> Path:
        return self.build_cache / "plan-state.pickle"

    @property
    def search_manifest(self) -> Path:
        return self.build_cache / "search-manifest.json"

    @property
    def search_scratch(self) -> Path:
        return self.build_cache / "search-scratch"

    @property
    def templates(self) -> Path:
        return self.build_cache / "templates"


def content_stats_file(parse_cache: Path | None) -> Path | None:
    """Each content file's digest and the stat it was read with, beside the parse cache."""
    return None if parse_cache is None else parse_cache.with_name(parse_cache.name + ".stats")


def image_sources_file(image_cache: Path) -> Path:
    """Each photo's digest and stat, in the image cache; a dot file, so never served."""
    return image_cache / ".sources.stats"
