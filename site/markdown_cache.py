"""Rendered Markdown kept between builds, so a freeze renders only new text.

markdown-it takes about 150 µs for a two-paragraph description. Every
sculpture page and every search record shows its piece's description, so a
catalog of 10,000 pieces with distinct descriptions spends some three CPU-
seconds on Markdown per full freeze, and a one-edit rebuild re-renders the
thousand descriptions of the search shard it re-indexes. The HTML depends
only on the text and on the renderer (markdown-it's version and the options in
filters.py), so it is kept in a file beside the parse cache, keyed by both.

The freeze renders every text it will show before it plans and forks, so the
search indexer and the render workers inherit the HTML instead of each making
it again.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import sys
from collections.abc import Iterable
from pathlib import Path

import markdown_it
from markupsafe import Markup

from . import filters
from .state_files import write_atomically

PARALLEL_THRESHOLD = 2000  # below this, forking workers costs more than it saves


def renderer_version() -> str:
    """What the HTML depends on besides the text: markdown-it and filters.py's options."""
    digest = hashlib.sha256(markdown_it.__version__.encode())
    digest.update(Path(filters.__file__).read_bytes())
    return digest.hexdigest()[:16]


def prerender(texts: Iterable[str], path: Path | None) -> int:
    """Render each distinct text now, reusing the HTML kept at `path`; returns how many were new.

    The file is rewritten only when it lacks a text or holds one no longer
    shown, so a rebuild that changed no text writes nothing.
    """
    wanted = set(texts)
    kept = _read(path)
    missing = sorted(wanted - kept.keys())
    fresh = dict(zip(missing, _render_all(missing), strict=True))
    rendered = {text: Markup(kept[text]) for text in wanted & kept.keys()}
    rendered.update(fresh)
    filters.remember_markdown(rendered)
    if path is not None and (fresh or kept.keys() - wanted):
        data = {"version": renderer_version(), "html": {t: str(h) for t, h in rendered.items()}}
        write_atomically(path, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
    return len(fresh)


def _render_all(texts: list[str]) -> list[Markup]:
    """Render on every core when there are enough texts (a first build, a new renderer)."""
    workers = os.cpu_count() or 1
    if len(texts) < PARALLEL_THRESHOLD or workers < 2 or sys.platform != "linux":
        return [filters.render_markdown(text) for text in texts]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return [Markup(html) for html in pool.map(_render_plain, texts, chunksize=256)]


def _render_plain(text: str) -> str:
    return str(filters.render_markdown(text))


def _read(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        data = pickle.loads(path.read_bytes())
        if data["version"] == renderer_version() and isinstance(data["html"], dict):
            return data["html"]
    except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError):
        pass  # missing or damaged: only a slower build
    return {}
