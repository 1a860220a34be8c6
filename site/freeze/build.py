"""Freeze the site into build/site with Frozen-Flask: validated, deterministic, fast.

Frozen-Flask renders one URL at a time through the test client. Five things
keep that fast without replacing it:

- every page has a key, a hash of exactly the data it shows (plus the code,
  templates and assets every page shares); a page whose key and file are
  unchanged since the last freeze is not rendered again, so an edit to one
  sculpture re-renders its page and the few listings that show it, and only
  the pages showing an edited piece are keyed again (page_plan);
- the pages to render are split across forked worker processes, each running
  its own Freezer over its share, after templates are compiled once in the
  parent;
- the test client Frozen-Flask asks for is a lean one (freeze_client): a page
  still goes through the whole Flask app, but not through the request and
  response bookkeeping a freeze never uses, which cost as much as the page;
- the search index needs only the content, so it is built in another forked
  process while the pages are planned and rendered (see search_index);
- content parsing and image encoding are cached by content hash.

Coverage (every GET endpoint has URLs) is checked here for the whole plan,
because each worker only sees its share; any other freezer warning is an error.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from jinja2 import FileSystemBytecodeCache
from storefront.common.heap import collector_paused, heap_released_at_end
from storefront.content import current as content
from storefront.content.index import CatalogIndex
from storefront.freeze import plan as page_plan
from storefront.freeze.plan import PlannedPage
from storefront.freeze.workers import render
from storefront.pages import markdown_cache
from storefront.search.indexer import SearchBuild
from storefront.search.shards import is_search_file, plan_shards, record_data

UNFROZEN_ENDPOINTS = {"preview.pagefind"}  # live-preview helpers, never part of the site


@dataclass
class FreezeReport:
    pages: int = 0
    rendered: int = 0
    removed: int = 0
    search_indexed: bool = False
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        search = "search index rebuilt" if self.search_indexed else "search index unchanged"
        return (
            f"froze {self.pages} files ({self.rendered} rendered, {self.removed} removed, "
            f"{search}) in {self.seconds:.2f} s"
        )


def freeze_site(app: Flask, *, workers: int | None = None, full: bool = False) -> FreezeReport:
    """Build BUILD_DIR from CONTENT_DIR; raises ContentError before writing anything."""
    with heap_released_at_end():
        return _freeze_site(app, workers=workers, full=full)


def _freeze_site(app: Flask, *, workers: int | None, full: bool) -> FreezeReport:
    started = time.perf_counter()
    report = FreezeReport()
    clock = _Clock(report)
    build_dir: Path = app.config["BUILD_DIR"]
    cache_dir: Path = app.config["CACHE_DIR"]
    state_path = cache_dir / page_plan.STATE_NAME  # the last build's plan: what it wrote
    # Loading and planning make objects that live until the end (see forking).
    with collector_paused():
        index = content.load(app)
        clock("load")
        app.extensions["images"].prepare_all(
            image.file for piece in index.published for image in piece.images
        )
        clock("images")
        markdown_cache.prerender(_markdown_texts(index), _markdown_cache_file(app))
        clock("markdown")
        # Compiling the templates is most of the cost of a rebuild that renders a few pages.
        app.jinja_env.bytecode_cache = FileSystemBytecodeCache(str(_mkdir(cache_dir / "templates")))
        app.config.update(
            FREEZER_DESTINATION=str(build_dir),
            FREEZER_BASE_URL=str(index.site.base_url),
            FREEZER_REMOVE_EXTRA_FILES=False,
        )
        empty = not build_dir.is_dir() or not any(build_dir.iterdir())
        shared = page_plan.shared_key(index)
        last_plan = None if full else page_plan.PlanState.load(state_path)
        previous = {} if last_plan is None else {p.url: p.key for p in last_plan.pages}
        inputs = page_plan.piece_inputs(app, index)
        shown = {p.slug: record_data(inputs[p.slug], index.artist_name(p)) for p in index.published}
        shards = plan_shards(shown, shared)
    # The index needs only the content, so it is built while the pages are planned and rendered.
    search = SearchBuild(app, shards, build_dir, cache_dir)
    with search.start(force=not previous):
        with collector_paused():
            pages, plan_state = page_plan.plan(app, index, shared, last_plan, inputs)
            _check_coverage(app, pages)
            dirty = [page for page in pages if _needs_render(page, previous, str(build_dir))]
        clock("plan")
        render(app, dirty, workers or os.cpu_count() or 1)
        clock("render")
        report.search_indexed = search.wait()
        clock("search")
    expected = {_file_for(page.url) for page in pages}
    if previous:
        report.removed = _remove_files(build_dir, {_file_for(url) for url in previous} - expected)
    elif not empty:
        report.removed = _remove_stale(build_dir, expected)
    plan_state.save(state_path)
    report.pages = len(pages)
    report.rendered = len(dirty)
    report.seconds = time.perf_counter() - started
    return report


def _markdown_texts(index: CatalogIndex) -> Iterator[str]:
    """Every Markdown text a page or search record shows."""
    yield index.site.about
    for slug in index.works:
        yield index.catalog.artists[slug].bio
    for piece in index.published:
        yield piece.description


def _markdown_cache_file(app: Flask) -> Path | None:
    """Beside the parse cache: both outlive build/ and depend only on content and code."""
    parse_cache = app.config.get("PARSE_CACHE_FILE")
    return None if parse_cache is None else Path(parse_cache).with_name("markdown.pickle")


class _Clock:
    def __init__(self, report: FreezeReport) -> None:
        self.report = report
        self.last = time.perf_counter()

    def __call__(self, phase: str) -> None:
        now = time.perf_counter()
        self.report.timings[phase] = now - self.last
        self.last = now


def _check_coverage(app: Flask, pages: Sequence[PlannedPage]) -> None:
    """Frozen-Flask's missing-generator check, over the whole plan."""
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if "GET" in (r.methods or ())}
    missing = endpoints - {p.endpoint for p in pages} - UNFROZEN_ENDPOINTS
    if missing:
        raise RuntimeError(f"nothing frozen for endpoints {', '.join(sorted(missing))}")


def _file_for(url: str) -> str:
    path = url + "index.html" if url.endswith("/") else url
    return path.lstrip("/")


def _needs_render(page: PlannedPage, previous: dict[str, str], build_dir: str) -> bool:
    if previous.get(page.url) != page.key:
        return True
    return not os.path.isfile(os.path.join(build_dir, _file_for(page.url)))  # hot: 10k+ pages


def _remove_files(build_dir: Path, stale: set[str]) -> int:
    """Delete the files of pages the previous build had and this one does not."""
    for relative in sorted(stale):
        path = build_dir / relative
        path.unlink(missing_ok=True)
        for parent in path.parents:
            if parent == build_dir or any(parent.iterdir()):
                break
            parent.rmdir()
    return len(stale)


def _remove_stale(build_dir: Path, expected: set[str]) -> int:
    """Delete every file this build does not have (no manifest says what was built)."""
    removed = 0
    folders = []
    for folder, subfolders, files in os.walk(build_dir):
        relative = os.path.relpath(folder, build_dir)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        if not prefix:  # the search bundles are the search index's to manage
            subfolders[:] = [name for name in subfolders if not is_search_file(name)]
        else:
            folders.append(folder)
        for name in files:
            if prefix + name not in expected:
                os.unlink(os.path.join(folder, name))
                removed += 1
    for folder in reversed(folders):  # deepest first
        if not os.listdir(folder):
            os.rmdir(folder)
    return removed


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
