"""Page keys against the pages they key: an unchanged key means an unchanged page.

The oracle is the page itself, rendered by the Flask app before and after an
edit: a page whose bytes changed must have a new key (else an incremental
freeze would keep it stale), and an edit must not re-key the whole site when
it shows on a few pages.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from PIL import Image
from storefront.content import current as content
from storefront.content.problems import ContentError
from storefront.freeze.plan import PlannedPage, PlanState, plan
from storefront.pages.keys import Fingerprints, UnkeyableContext
from storefront.pages.registry import SITE
from support.content_edits import ContentFolder, Field, every_field, short_lists
from support.paths import FIXTURE_CATALOG
from support.site_build import site_app

BASE = "https://teste.example/loja/"


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def repaint(path: Path) -> None:
    with Image.open(path) as photo:  # new bytes, same picture: new variant names
        photo.convert("RGB").save(path, quality=61)


RAIZ, VELA, ONDA = "sculptures/raiz.yaml", "sculptures/vela.yaml", "sculptures/onda.yaml"

# name -> (edit, how many pages at most it may re-key; None: any number)
EDITS = {
    "title": (lambda c: replace(c / RAIZ, "title: Raiz", "title: Raíz"), 12),
    "price": (lambda c: replace(c / RAIZ, "800.50", "810.50"), 12),
    "description": (lambda c: replace(c / VELA, "|\n", "|\n  Nova.\n"), 12),
    "image alt": (lambda c: replace(c / ONDA, "alt: ", "alt: Outra "), 12),
    "photo bytes": (lambda c: repaint(c / "images/raiz.jpg"), None),
    "tags": (lambda c: replace(c / RAIZ, "[abstrato, teste]", "[teste]"), None),
    "featured": (lambda c: replace(c / RAIZ, "featured: false", "featured: true"), None),
    "added_on": (lambda c: replace(c / RAIZ, "2025-02-01", "2019-02-01"), None),
    "draft": (lambda c: replace(c / RAIZ, "status: published", "status: draft"), None),
    "artist name": (
        lambda c: replace(c / "artists/bruno-reis.yaml", "Bruno Reis", "B. Reis"),
        None,
    ),
    "store name": (lambda c: replace(c / "site.yaml", "Ateliê de Teste", "Ateliê"), None),
    "an older piece added": (lambda c: add_older_piece(c), None),
}


def add_older_piece(content: Path) -> None:
    """A piece older than the home page's newest: only the home page's count shows it there."""
    text = (content / VELA).read_text(encoding="utf-8")
    (content / "sculptures/velha.yaml").write_text(
        text.replace("2025-03-01", "2019-03-01"), encoding="utf-8"
    )


@pytest.fixture(autouse=True)
def lists_shorter_than_the_catalog() -> Iterator[None]:
    with short_lists():
        yield


def rendered(app: Flask) -> tuple[dict[str, PlannedPage], dict[str, bytes]]:
    """Every planned page with its key, and what the app answers for it."""
    with app.app_context():
        pages = plan(app, content.load(app))
    client = app.test_client()
    bodies = {}
    for page in pages:
        with client.get(page.url, base_url=BASE) as response:
            assert response.status_code == 200, page.url
            bodies[page.url] = response.data
    return {page.url: page for page in pages}, bodies


@pytest.mark.parametrize("name", EDITS)
def test_a_page_whose_bytes_change_gets_a_new_key(
    content_dir: Path, tmp_path: Path, name: str
) -> None:
    edit, most = EDITS[name]
    app = site_app(content_dir, tmp_path)
    before, old_bodies = rendered(app)
    edit(content_dir)
    app.extensions["images"]._known.clear()  # a new build: photos looked at again
    after, new_bodies = rendered(app)
    stale = stale_pages((before, old_bodies), (after, new_bodies))
    assert not stale, f"{name}: these pages changed but kept their keys: {stale}"
    rekeyed = [url for url in after.keys() & before.keys() if after[url].key != before[url].key]
    assert rekeyed, f"{name} shows nowhere?"
    if most is not None:  # an edit of one piece re-keys the pages showing it, not the site
        assert len(rekeyed) <= most < len(after), sorted(rekeyed)


def stale_pages(
    before: tuple[dict[str, PlannedPage], dict[str, bytes]],
    after: tuple[dict[str, PlannedPage], dict[str, bytes]],
) -> list[str]:
    """Pages whose bytes changed while their keys did not."""
    (old_pages, old_bodies), (new_pages, new_bodies) = before, after
    return sorted(
        url
        for url in old_pages.keys() & new_pages.keys()
        if new_bodies[url] != old_bodies[url] and new_pages[url].key == old_pages[url].key
    )


@pytest.mark.parametrize(
    ("kind", "field"), every_field(), ids=lambda v: v if isinstance(v, str) else ".".join(v[1])
)
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_an_edit_of_any_field_rekeys_every_page_it_changes(
    tmp_path_factory: pytest.TempPathFactory, kind: str, field: Field, data: st.DataObject
) -> None:
    work = tmp_path_factory.mktemp("field")
    shutil.copytree(FIXTURE_CATALOG, work / "content")
    app = site_app(work / "content", work)
    before = rendered(app)
    note(ContentFolder(work / "content").edit(data, kind, field))
    app.extensions["images"]._known.clear()
    try:
        after = rendered(app)
    except ContentError:
        assume(False)  # an edit the content check refuses: nothing is built
    assert not stale_pages(before, after)


def test_a_context_holding_the_catalog_index_is_refused(content_dir: Path, tmp_path: Path) -> None:
    """A template given the index could show what no key covers, so no page may get it."""
    app = site_app(content_dir, tmp_path)
    with app.app_context():
        index = content.load(app)
        fingerprints = Fingerprints(index, lambda name: name)
        with pytest.raises(UnkeyableContext, match=r"context\.index is a CatalogIndex"):
            fingerprints({"count": 3, "index": index})
        with pytest.raises(UnkeyableContext, match=r"context\.helper is a function"):
            fingerprints({"helper": lambda: index})


def test_every_page_type_is_in_the_plan_and_every_file_once(
    content_dir: Path, tmp_path: Path
) -> None:
    app = site_app(content_dir, tmp_path)
    with app.app_context():
        pages = plan(app, content.load(app))
    urls = [page.url for page in pages]
    assert len(urls) == len(set(urls))
    planned = {page.endpoint for page in pages}
    assert {page_type.endpoint for page_type in SITE.pages} <= planned
    assert {file_type.endpoint for file_type in SITE.files} <= planned


def test_an_unreadable_or_foreign_state_means_a_full_build(
    content_dir: Path, tmp_path: Path
) -> None:
    app = site_app(content_dir, tmp_path)
    path = tmp_path / "state.pickle"
    with app.app_context():
        state = PlanState(plan(app, content.load(app)))
    state.save(path)
    assert PlanState.load(path) == state
    path.write_bytes(b"\x80\x05not a plan")
    assert PlanState.load(path) is None
    assert PlanState.load(tmp_path / "missing.pickle") is None
