"""A plan made from the last build's equals a plan made from scratch, after any edit."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from storefront.content import current as content
from storefront.freeze import plan as page_plan
from storefront.freeze.plan import plan
from support.site_build import site_app
from support.spying import record_calls


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def repaint(path: Path) -> None:
    with Image.open(path) as photo:  # new bytes, same picture: new variant names
        photo.convert("RGB").save(path, quality=61)


RAIZ, VELA, ONDA = "sculptures/raiz.yaml", "sculptures/vela.yaml", "sculptures/onda.yaml"
BRUNO = "artists/bruno-reis.yaml"

# name -> (edit, whether it keeps the catalog's structure)
EDITS = {
    "title": (lambda c: replace(c / RAIZ, "title: Raiz", "title: Raíz"), True),
    "price": (lambda c: replace(c / RAIZ, "800.50", "810.50"), True),
    "description": (lambda c: replace(c / VELA, "|\n", "|\n  Nova.\n"), True),
    "image alt": (lambda c: replace(c / ONDA, "alt: ", "alt: Outra "), True),
    "photo bytes": (lambda c: repaint(c / "images/raiz.jpg"), False),
    "tags": (lambda c: replace(c / RAIZ, "[abstrato, teste]", "[teste]"), False),
    "featured": (lambda c: replace(c / RAIZ, "featured: false", "featured: true"), False),
    "added_on": (lambda c: replace(c / RAIZ, "2025-02-01", "2019-02-01"), False),
    "draft": (lambda c: replace(c / RAIZ, "status: published", "status: draft"), False),
    "artist name": (
        lambda c: replace(c / "artists/bruno-reis.yaml", "Bruno Reis", "B. Reis"),
        False,
    ),
}


@pytest.mark.parametrize("name", EDITS)
def test_a_replan_after_an_edit_equals_a_plan_from_scratch(
    content_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    edit, keeps_structure = EDITS[name]
    app = site_app(content_dir, tmp_path)
    with app.app_context():
        before, state = plan(app, content.load(app))
        edit(content_dir)
        app.extensions["images"]._known.clear()  # a new build: photos looked at again
        index = content.load(app)
        keyed = record_calls(monkeypatch, page_plan, "_digest", lambda shared, data: data)
        replanned, _ = plan(app, index, previous=state)
        incremental = len(keyed)
        monkeypatch.undo()
        fresh, _ = plan(app, index)
    assert replanned == fresh
    assert replanned != before  # the edit shows somewhere
    if keeps_structure:  # only the pages showing the piece, and the summaries, were keyed
        assert incremental < len(fresh), (incremental, len(fresh))
    else:
        assert incremental == len(fresh)


def test_an_unreadable_or_foreign_state_means_a_plan_from_scratch(
    content_dir: Path, tmp_path: Path
) -> None:
    app = site_app(content_dir, tmp_path)
    path = tmp_path / "state.pickle"
    with app.app_context():
        index = content.load(app)
        pages, state = plan(app, index)
        state.save(path)
        assert page_plan.PlanState.load(path) == state
        path.write_bytes(b"\x80\x05not a plan")
        assert page_plan.PlanState.load(path) is None
        assert page_plan.PlanState.load(tmp_path / "missing.pickle") is None
        shuffled = page_plan.PlanState(state.structure, state.inputs, state.pages[::-1])
        assert plan(app, index, previous=shuffled)[0] == pages  # pages differ: keyed afresh
