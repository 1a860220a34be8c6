"""An incremental freeze writes exactly what a full freeze writes, after any edit.

Hypothesis drives a content editor: it edits every field of every content
model (the store's site.yaml, artists, sculptures), publishes, drafts and
archives pieces, toggles featured, moves dates, changes, adds and removes
photos, and adds, removes and renames files, alone and in sequences. After
each step the build kept between steps is frozen incrementally and compared,
byte for byte, with a full freeze of the same content into an empty folder:
the oracle shares no plan, no page keys and no content caches with it.

The fields edited are read from the models, and every field must have a
strategy below: a field added to a model without one fails this test, so a
new field cannot go untested.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from PIL import Image
from storefront.content import index
from storefront.content.models import FILE_KINDS, ContentModel, Status
from storefront.content.problems import ContentError
from storefront.freeze.build import freeze_site
from support.paths import FIXTURE_CATALOG
from support.site_build import site_app

pytestmark = pytest.mark.slow

WORDS = ["bronze", "madeira", "ferro", "pedra-sabão", "vidro", "Bronze Patinado", "argila"]
TERMS = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3, unique_by=str.casefold)
TEXT = st.text(
    alphabet=st.sampled_from("abcdeãçé ÁZ-.,:!?<&>*_#'\"1"), min_size=1, max_size=24
).filter(lambda s: s.strip() and not s.strip().startswith(("#", "-", "*", ">")))
MARKDOWN = st.one_of(TEXT, st.builds("{} **{}**\n\n{}".format, TEXT, TEXT, TEXT))
YEAR = st.integers(1950, 2024)
DATE = st.dates(dt.date(2015, 1, 1), dt.date(2026, 1, 1))
MEASURE = st.integers(1, 50_000).map(lambda n: Decimal(n) / 10)
AMOUNT = st.sampled_from(["150", "1999.99", "2000", "2000.01", "12500.5", "30000", "45000"])
URL = st.sampled_from(["https://exemplo.example/", "https://outro.example/galeria"])

# model -> field -> strategy of the value written to YAML; None: a nested model,
# edited field by field. Every field of every model must be listed (see the test).
FIELDS: dict[str, dict[str, Any]] = {
    "SiteConfig": {
        "name": TEXT,
        "tagline": TEXT,
        "description": TEXT,
        "base_url": st.sampled_from(
            ["https://teste.example/loja/", "https://teste.example/", "https://b.example/x/y/"]
        ),
        "language": st.sampled_from(["pt-BR", "pt", "en-US"]),
        "currency": st.just("BRL"),  # prices must be in the store's currency
        "contact": None,
        "about": MARKDOWN,
        "page_size": st.integers(1, 4),
    },
    "Contact": {
        "email": st.sampled_from(["loja@teste.example", "vendas@b.example"]),
        "phone": TEXT,
        "address": None,
        "opening_hours": st.one_of(st.none(), TEXT),
        "instagram": st.one_of(st.none(), URL),
    },
    "Address": {
        "street": TEXT,
        "city": TEXT,
        "state": TEXT,
        "postal_code": TEXT,
        "country": st.sampled_from(["BR", "PT", "JP"]),
    },
    "Artist": {
        "slug": "file name",
        "name": TEXT,
        "bio": MARKDOWN,
        "country": st.sampled_from(["BR", "PT", "JP"]),
        "birth_year": st.integers(1900, 1949),
        "website": st.one_of(st.none(), URL),
    },
    "Sculpture": {
        "slug": "file name",
        "title": TEXT,
        "artist": "artist slug",
        "year": YEAR,
        "status": st.sampled_from([s.value for s in Status]),
        "featured": st.booleans(),
        "added_on": DATE,
        "materials": TERMS,
        "dimensions": None,
        "weight_kg": MEASURE,
        "price": None,
        "edition_size": st.integers(1, 12),
        "tags": st.one_of(st.just([]), TERMS),
        "description": MARKDOWN,
        "images": "photos",
    },
    "Dimensions": {"height_cm": MEASURE, "width_cm": MEASURE, "depth_cm": MEASURE},
    "Price": {"amount": AMOUNT, "currency": st.just("BRL")},
    "Image": {"file": "photo file", "alt": TEXT},
}
LIMITS = {"FEATURED_LIMIT": 1, "NEWEST_LIMIT": 2, "RELATED_LIMIT": 1, "FEED_LIMIT": 2}
FOLDERS = {"artist": "artists", "sculpture": "sculptures"}
SLUGS = ["onda", "raiz", "vela", "antiga", "rascunho", "nova-forma", "eco", "ana-lima"]


def nested_model(model: type[ContentModel], field: str) -> type[ContentModel] | None:
    """The model a field holds (or holds a tuple of), if any."""
    annotation = model.model_fields[field].annotation
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, ContentModel):
            return candidate
    return None


def models_and_fields() -> dict[str, set[str]]:
    """Every content model reachable from a file kind, with its fields."""
    found: dict[str, set[str]] = {}

    def walk(model: type[ContentModel]) -> None:
        found[model.__name__] = set(model.model_fields)
        for field in model.model_fields:
            inner = nested_model(model, field)
            if inner is not None:
                walk(inner)

    for model in FILE_KINDS.values():
        walk(model)
    return found


def test_every_field_of_every_model_has_a_strategy() -> None:
    """The models are the list: a new field without a strategy fails here, not silently."""
    assert {name: set(fields) for name, fields in FIELDS.items()} == models_and_fields()


def leaf_paths(model: type[ContentModel]) -> list[tuple[type[ContentModel], tuple[str, ...]]]:
    """(owner, path) of each editable field, nested ones expanded: (Price, ('price', 'amount'))."""
    paths = []
    for name, strategy in FIELDS[model.__name__].items():
        if strategy is None:
            inner = nested_model(model, name)
            assert inner is not None, name
            paths.extend((owner, (name, *rest)) for owner, rest in leaf_paths(inner))
        elif strategy != "file name":
            paths.append((model, (name,)))
    return paths


def yaml_value(value: Any) -> Any:
    """What PyYAML writes so that the loader reads back the intended type."""
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral() else int(value)
    return value


class ContentEditor(RuleBasedStateMachine):
    """A content folder edited step by step, frozen incrementally and fully after each step."""

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="incremental-"))
        self.content = self.root / "content"
        shutil.copytree(FIXTURE_CATALOG, self.content)
        self.kept = self.root / "kept"  # the build kept between steps, with its caches
        self.images = self.root / "images"  # encoded photos, keyed by their bytes
        self.builds = 0
        # Lists short enough for a five-piece catalog to have pieces off the home page,
        # off an artist's related works and on several listing pages.
        self.limits = {name: getattr(index, name) for name in LIMITS}
        for name, value in LIMITS.items():
            setattr(index, name, value)

    def teardown(self) -> None:
        for name, value in self.limits.items():
            setattr(index, name, value)
        shutil.rmtree(self.root, ignore_errors=True)

    # -- files --------------------------------------------------------------

    def files(self, kind: str) -> list[Path]:
        return sorted((self.content / FOLDERS[kind]).glob("*.yaml"))

    def read(self, path: Path) -> dict[str, Any]:
        return yaml.safe_load(path.read_text(encoding="utf-8"))

    def write(self, path: Path, data: dict[str, Any]) -> None:
        depth = len(path.relative_to(self.content).parts) - 1
        kind = "site" if depth == 0 else path.parent.name.rstrip("s")
        header = f"# yaml-language-server: $schema={'../' * depth}schema/{kind}.schema.json\n"
        body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        path.write_text(header + body, encoding="utf-8")

    def photos(self) -> list[str]:
        return sorted(p.name for p in (self.content / "images").iterdir())

    # -- rules ----------------------------------------------------------------

    @initialize()
    def first_build(self) -> None:
        self.freeze_and_compare()

    @rule(data=st.data())
    def edit_a_field(self, data: st.DataObject) -> None:
        kind = data.draw(st.sampled_from(["site", "artist", "sculpture"]), label="kind")
        path = (
            self.content / "site.yaml"
            if kind == "site"
            else data.draw(st.sampled_from(self.files(kind)), label="file")
        )
        owner, field = data.draw(st.sampled_from(leaf_paths(FILE_KINDS[kind])), label="field")
        value = self.draw_value(data, FIELDS[owner.__name__][field[-1]])
        document = self.read(path)
        target = document
        for name in field[:-1]:
            target = target.setdefault(name, {})
        if value is None:
            target.pop(field[-1], None)
        else:
            target[field[-1]] = yaml_value(value)
        self.write(path, document)

    def draw_value(self, data: st.DataObject, strategy: Any) -> Any:
        if strategy == "artist slug":
            return data.draw(st.sampled_from([p.stem for p in self.files("artist")]))
        if strategy == "photos":
            files = data.draw(
                st.lists(st.sampled_from(self.photos()), min_size=1, max_size=3, unique=True)
            )
            return [{"file": name, "alt": data.draw(TEXT)} for name in files]
        return data.draw(strategy)

    @rule(status=st.sampled_from([s.value for s in Status]), data=st.data())
    def change_status(self, status: str, data: st.DataObject) -> None:
        path = data.draw(st.sampled_from(self.files("sculpture")))
        document = self.read(path)
        document["status"] = status
        self.write(path, document)

    @rule(data=st.data())
    def toggle_featured(self, data: st.DataObject) -> None:
        path = data.draw(st.sampled_from(self.files("sculpture")))
        document = self.read(path)
        document["featured"] = not document.get("featured", False)
        self.write(path, document)

    @rule(data=st.data(), slug=st.sampled_from(SLUGS))
    def add_a_sculpture(self, data: st.DataObject, slug: str) -> None:
        path = self.content / "sculptures" / f"{slug}.yaml"
        assume(not path.exists())
        document = self.read(data.draw(st.sampled_from(self.files("sculpture"))))
        document.update(title=data.draw(TEXT), added_on=data.draw(DATE), status="published")
        self.write(path, document)

    @rule(data=st.data())
    def remove_a_sculpture(self, data: st.DataObject) -> None:
        files = self.files("sculpture")
        assume(len(files) > 1)
        data.draw(st.sampled_from(files)).unlink()

    @rule(data=st.data(), slug=st.sampled_from(SLUGS))
    def rename_a_sculpture(self, data: st.DataObject, slug: str) -> None:
        target = self.content / "sculptures" / f"{slug}.yaml"
        assume(not target.exists())
        data.draw(st.sampled_from(self.files("sculpture"))).rename(target)

    @rule(slug=st.sampled_from(["carla-dias", "bruno-reis", "ana-lima"]), data=st.data())
    def add_or_rename_an_artist(self, slug: str, data: st.DataObject) -> None:
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

    @rule(data=st.data())
    def remove_an_artist_without_works(self, data: st.DataObject) -> None:
        used = {self.read(p)["artist"] for p in self.files("sculpture")}
        idle = [p for p in self.files("artist") if p.stem not in used]
        assume(idle)
        data.draw(st.sampled_from(idle)).unlink()

    @rule(data=st.data(), colour=st.tuples(*[st.integers(0, 255)] * 3))
    def repaint_a_photo(self, data: st.DataObject, colour: tuple[int, int, int]) -> None:
        """New bytes for a photo: new variants for every piece showing it."""
        name = data.draw(st.sampled_from(self.photos()))
        path = self.content / "images" / name
        with Image.open(path) as photo:
            size = photo.size
        Image.new("RGB", size, colour).save(path, quality=80)

    @rule(data=st.data(), name=st.sampled_from(["nova.jpg", "outra.jpg"]))
    def add_a_photo(self, data: st.DataObject, name: str) -> None:
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
