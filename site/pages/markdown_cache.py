"""Rendered Markdown kept between builds, so a freeze renders only new text.

markdown-it takes about 150 µs for a two-paragraph description. Every
sculpture page and every search record shows its piece's description, so a
catalog of 10,000 pieces with distinct descriptions spends some three CPU-
seconds on Markdown per full freeze, and a one-edit rebuild re-renders the
thousand descriptions of the search shard it re-indexes. The HTML depends
only on the text and on the renderer (markdown-it's version and the options in
filters.py), so it is kept in a file beside the parse cache, keyed by both.

The HTML is kept in a PickleLog, like the parse cache, keyed by the
renderer's version: a build that renders a few new texts appends one small
batch; the log is rewritten only when texts no page shows any more make up a
quarter of it. The freeze renders every text it will show
before it plans and forks, so the search indexer and the render workers
inherit the HTML instead of each making it again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import multiprocessing
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from storefront.common.pickle_log import PickleLog
from storefront.pages import filters

PARALLEL_THRESHOLD = 2000  # below this, forking workers costs more than it saves


def renderer_version() -> str:
    """What the HTML depends on besides the text: markdown-it and filters.py's options."""
    # The package's __init__ carries its version; reading it spares importing markdown-it.
    spec = importlib.util.find_spec("markdown_it")
    digest = hashlib.sha256(Path(spec.origin).read_bytes() if spec and spec.origin else b"")
    digest.update(Path(filters.__file__).read_bytes())
    return digest.hexdigest()[:16]


def prerender(texts: Iterable[str], path: Path | None) -> int:
    """Render each distinct text now, reusing the HTML kept at `path`; returns how many were new."""
    wanted = set(texts)
    log = PickleLog(path, renderer_version())
    missing = sorted(wanted - log.entries.keys())
    fresh = dict(zip(missing, _render_all(missing), strict=True))
    filters.remember_markdown(log.entries, wanted)
    filters.remember_markdown(fresh, wanted)
    log.save(fresh, wanted)
    return len(fresh)


def _render_all(texts: list[str]) -> list[str]:
    """Render on every core when there are enough texts (a first build, a new renderer)."""
    workers = os.cpu_count() or 1
    if len(texts) < PARALLEL_THRESHOLD or workers < 2 or sys.platform != "linux":
        return [filters.render_markdown(text) for text in texts]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.map(filters.render_markdown, texts, chunksize=256)
