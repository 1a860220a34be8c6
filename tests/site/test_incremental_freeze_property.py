"""An incremental freeze writes exactly what a full freeze writes, after any edit.

Hypothesis drives a content editor: it edits every field of every content
model (the store's site.yaml, artists, sculptures; see support.content_edits),
publishes, drafts and archives pieces, toggles featured, moves dates, changes,
adds and removes photos, and adds, removes and renames files, alone and in
sequences. After each step the build kept between steps is frozen
incrementally and compared, byte for byte, with a full freeze of the same
content into an empty folder: the oracle shares no plan, no page keys and no
content caches with it.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from PIL import Image
from storefront.content.models import Status
from storefront.content.problems import ContentError
from storefront.freeze.build import freeze_site
from support.content_edits import (
    DATE,
    FIELDS,
    TEXT,
    ContentFolder,
    every_field,
    models_and_fields,
    short_lists,
)
from support.paths import FIXTURE_CATALOG
from support.site_build import site_app

pytestmark = pytest.mark.slow

SLUGS = ["onda", "raiz", "vela", "antiga", "rascunho", "nova-forma", "eco", "ana-lima"]


def test_every_field_of_every_model_has_a_strategy() -> None:
    """The models are the list: a new field without a strategy fails here, not silently."""
    assert {name: set(fields) for name, fields in FIELDS.items()} == models_and_fields()


class ContentEditor(RuleBasedStateMachine):
    """A content folder edited step by step, frozen incrementally and fully after each step."""

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="incremental-"))
        self.content = self.root / "content"
        shutil.copytree(FIXTURE_CATALOG, self.content)
        self.kept = self.root / "kept"  # the build kept between steps, with its caches
        self.images = self.root / "images"  # encoded photos, keyed by their bytes
        self.folder = ContentFolder(self.content)
        self.builds = 0
        self.lists = short_lists()
        self.lists.__enter__()

    def teardown(self) -> None:
        self.lists.__exit__(None, None, None)
        shutil.rmtree(self.root, ignore_errors=True)

    def files(self, kind: str) -> list[Path]:
        return self.folder.files(kind)

    def read(self, path: Path) -> dict:
        return self.folder.read(path)

    def write(self, path: Path, data: dict) -> None:
        self.folder.write(path, data)

    def photos(self) -> list[str]:
        return self.folder.photos()

    # -- rules ----------------------------------------------------------------

    @initialize()
    def first_build(self) -> None:
        self.freeze_and_compare()

    @rule(data=st.data(), edits=st.integers(1, 6))
    def edit_fields(self, data: st.DataObject, edits: int) -> None:
        """A few fields of any content files, each drawn from every field of every model."""
        for _ in range(edits):
            kind, field = data.draw(st.sampled_from(every_field()), label="field")
            note(self.folder.edit(data, kind, field))

    @rule(data=st.data())
    def change_files(self, data: st.DataObject) -> None:
        """A status, a featured flag, or a file added, removed, renamed or repainted."""
        operation = data.draw(st.sampled_from(FILE_OPERATIONS), label="operation")
        note(operation.__name__)
        operation(self, data)

    def change_status(self, data: st.DataObject) -> None:
        status = data.draw(st.sampled_from([s.value for s in Status]))
        path = data.draw(st.sampled_from(self.files("sculpture")))
        document = self.read(path)
        document["status"] = status
        self.write(path, document)

    def toggle_featured(self, data: st.DataObject) -> None:
        path = data.draw(st.sampled_from(self.files("sculpture")))
        document = self.read(path)
        document["featured"] = not document.get("featured", False)
        self.write(path, document)

    def add_a_sculpture(self, data: st.DataObject) -> None:
        slug = data.draw(st.sampled_from(SLUGS))
        path = self.content / "sculptures" / f"{slug}.yaml"
        assume(not path.exists())
        document = self.read(data.draw(st.sampled_from(self.files("sculpture"))))
        document.update(title=data.draw(TEXT), added_on=data.draw(DATE), status="published")
        self.write(path, document)

    def remove_a_sculpture(self, data: st.DataObject) -> None:
        files = self.files("sculpture")
        assume(len(files) > 1)
        data.draw(st.sampled_from(files)).unlink()

    def rename_a_sculpture(self, data: st.DataObject) -> None:
        slug = data.draw(st.sampled_from(SLUGS))
        target = self.content / "sculptures" / f"{slug}.yaml"
        assume(not target.exists())
        data.draw(st.sampled_from(self.files("sculpture"))).rename(target)

    def add_or_rename_an_artist(self, data: st.DataObject) -> None:
        slug = data.draw(st.sampled_from(["carla-dias", "bruno-reis", "ana-lima"]))
        target = self.content / "artists" / f"{slug}.yaml"
        assume(not target.exists())
        source = data.draw(st.sampled_from(self.files("artist")))
        works = [p for p in self.files("sculpture") if self.read(p)["artist"] == source.stem]
        if data.draw(st.booleans(), label="rename"):
            source.rename(target)
            for path in works:  # the pieces follow their artist
                document = self.read(path)
                document["artist"] = slug
                self.write(path, document)
        else:
            document = self.read(source)
            document["name"] = data.draw(TEXT)
            self.write(target, document)

    def remove_an_artist_without_works(self, data: st.DataObject) -> None:
        used = {self.read(p)["artist"] for p in self.files("sculpture")}
        idle = [p for p in self.files("artist") if p.stem not in used]
        assume(idle)
        data.draw(st.sampled_from(idle)).unlink()

    def repaint_a_photo(self, data: st.DataObject) -> None:
        """New bytes for a photo: new variants for every piece showing it."""
        colour = data.draw(st.tuples(*[st.integers(0, 255)] * 3))
        name = data.draw(st.sampled_from(self.photos()))
        path = self.content / "images" / name
        with Image.open(path) as photo:
            size = photo.size
        Image.new("RGB", size, colour).save(path, quality=80)

    def add_a_photo(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(["nova.jpg", "outra.jpg"]))
        path = self.content / "images" / name
        assume(not path.exists())
        width, height = data.draw(st.sampled_from([(640, 480), (300, 500)]))
        Image.new("RGB", (width, height), (90, 120, 30)).save(path, quality=80)

    # -- the property ---------------------------------------------------------

    def freeze_and_compare(self) -> None:
        self.builds += 1
        oracle = self.root / f"full-{self.builds}"
        try:
            freeze_site(site_app(self.content, self.kept, IMAGE_CACHE_DIR=self.images))
        except ContentError as error:
            note(f"invalid content: {error.problems[0].format_text()}")
            event("an edit the content check refuses")
            with pytest.raises(ContentError):  # the oracle refuses the same content
                freeze_site(site_app(self.content, oracle, IMAGE_CACHE_DIR=self.images))
            assume(False)  # an edit a real editor's check would refuse
        freeze_site(site_app(self.content, oracle, IMAGE_CACHE_DIR=self.images))
        kept, full = tree_bytes(self.kept / "site"), tree_bytes(oracle / "site")
        shutil.rmtree(oracle)
        assert kept.keys() == full.keys(), describe_missing(kept, full)
        differing = sorted(path for path in kept if kept[path] != full[path])
        assert not differing, f"incremental build differs from a full build in {differing}"

    @invariant()
    def incremental_equals_full(self) -> None:
        if self.builds:  # after initialize
            self.freeze_and_compare()


FILE_OPERATIONS = [
    ContentEditor.change_status,
    ContentEditor.toggle_featured,
    ContentEditor.add_a_sculpture,
    ContentEditor.remove_a_sculpture,
    ContentEditor.rename_a_sculpture,
    ContentEditor.add_or_rename_an_artist,
    ContentEditor.remove_an_artist_without_works,
    ContentEditor.repaint_a_photo,
    ContentEditor.add_a_photo,
]


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }


def describe_missing(kept: dict[str, bytes], full: dict[str, bytes]) -> str:
    return (
        f"only incremental: {sorted(kept - full.keys())}; only full: {sorted(full - kept.keys())}"
    )


ContentEditor.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_incremental_freeze_equals_a_full_freeze = ContentEditor.TestCase
