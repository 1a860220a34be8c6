"""Content edits for property-based tests: every field of every content model, as an editor
would change it in YAML.

The fields are read from the models, and every field must have a strategy in
FIELDS (a test checks it): a field added to a model without one fails that
test, so a new field cannot go untested.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st
from storefront.content import index
from storefront.content.models import FILE_KINDS, ContentModel, Status

WORDS = ["bronze", "madeira", "ferro", "pedra-sabão", "vidro", "Bronze Patinado", "argila"]
TERMS = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3, unique_by=str.casefold)
TEXT = st.text(
    alphabet=st.sampled_from("abcdeãçé ÁZ-.,:!?<&>*_#'\"1"), min_size=1, max_size=24
).filter(lambda s: s.strip() and not s.strip().startswith(("#", "-", "*", ">")))
MARKDOWN = st.one_of(TEXT, st.builds("{} **{}**\n\n{}".format, TEXT, TEXT, TEXT))
YEAR = st.integers(1950, 2024)
DATE = st.dates(dt.date(2015, 1, 1), dt.date(2026, 1, 1))
MEASURE = st.integers(1, 50_000).map(lambda n: Decimal(n) / 10)
AMOUNT = st.sampled_from(["150", "1999.99", "2000", "2000.01", "12500.5", "30000", "45000"]).map(
    Decimal
)
URL = st.sampled_from(["https://exemplo.example/", "https://outro.example/galeria"])

# model -> field -> strategy of the value written to YAML; None: a nested model, edited
# field by field; a string: a value that depends on the folder (see ContentFolder.draw).
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
FOLDERS = {"artist": "artists", "sculpture": "sculptures"}
# Lists short enough for a five-piece catalog to have pieces off the home page, off an
# artist's related works and on several listing pages.
SHORT_LISTS = {"FEATURED_LIMIT": 1, "NEWEST_LIMIT": 2, "RELATED_LIMIT": 1, "FEED_LIMIT": 2}

Field = tuple[type[ContentModel], tuple[str, ...]]  # (the model owning it, its path)


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


def leaf_fields(model: type[ContentModel]) -> list[Field]:
    """Each editable field, nested ones expanded: (Price, ('price', 'amount'))."""
    fields = []
    for name, strategy in FIELDS[model.__name__].items():
        if strategy is None:
            inner = nested_model(model, name)
            assert inner is not None, name
            fields.extend((owner, (name, *rest)) for owner, rest in leaf_fields(inner))
        elif strategy != "file name":
            fields.append((model, (name,)))
    return fields


def every_field() -> list[tuple[str, Field]]:
    """(file kind, field) for every editable field of every kind of content file."""
    return [(kind, field) for kind, model in FILE_KINDS.items() for field in leaf_fields(model)]


@contextmanager
def short_lists() -> Iterator[None]:
    saved = {name: getattr(index, name) for name in SHORT_LISTS}
    for name, value in SHORT_LISTS.items():
        setattr(index, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(index, name, value)


class ContentFolder:
    """A content folder edited through its YAML files, as an editor would."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def files(self, kind: str) -> list[Path]:
        if kind == "site":
            return [self.root / "site.yaml"]
        return sorted((self.root / FOLDERS[kind]).glob("*.yaml"))

    def photos(self) -> list[str]:
        return sorted(p.name for p in (self.root / "images").iterdir())

    def read(self, path: Path) -> dict[str, Any]:
        return yaml.safe_load(path.read_text(encoding="utf-8"))

    def write(self, path: Path, data: dict[str, Any]) -> None:
        depth = len(path.relative_to(self.root).parts) - 1
        kind = "site" if depth == 0 else path.parent.name.rstrip("s")
        header = f"# yaml-language-server: $schema={'../' * depth}schema/{kind}.schema.json\n"
        body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        path.write_text(header + body, encoding="utf-8")

    def edit(self, data: st.DataObject, kind: str, field: Field) -> str:
        """Set one field of one file of `kind` to a drawn value; says what it did."""
        path = data.draw(st.sampled_from(self.files(kind)), label="file")
        owner, names = field
        value = self.draw(data, FIELDS[owner.__name__][names[-1]])
        document = self.read(path)
        target = document
        for name in names[:-1]:
            target = target.setdefault(name, {})
        if value is None:
            target.pop(names[-1], None)
        else:
            target[names[-1]] = _yaml_value(value)
        self.write(path, document)
        return f"{path.relative_to(self.root)}: {'.'.join(names)} = {value!r}"

    def draw(self, data: st.DataObject, strategy: Any) -> Any:
        if strategy == "artist slug":
            return data.draw(st.sampled_from([p.stem for p in self.files("artist")]))
        if strategy == "photos":
            files = data.draw(
                st.lists(st.sampled_from(self.photos()), min_size=1, max_size=3, unique=True)
            )
            return [{"file": name, "alt": data.draw(TEXT)} for name in files]
        return data.draw(strategy)


def _yaml_value(value: Any) -> Any:
    """What PyYAML writes so that the loader reads back the intended type."""
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral() else int(value)
    return value
