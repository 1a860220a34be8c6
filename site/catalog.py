"""Load the whole catalog from content/, all or nothing.

Every file is read and validated before anything is rendered, and every problem
from every file is collected, so one CI run shows an editor all that needs
fixing. The result is an immutable Catalog or a ContentError, never a partial
catalog.
"""

from __future__ import annotations

import difflib
import re
import types
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from .models import Artist, ContentModel, Sculpture, SiteConfig
from .problems import ContentError, Problem, display_path
from .yaml_source import FILE_FIELD, YamlDocument, YamlProblems, read_yaml

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
M = TypeVar("M", bound=ContentModel)
_YAML_11_WORDS = {"yes", "no", "on", "off", "y", "n", "true", "false"}


@dataclass(frozen=True)
class Catalog:
    """Everything the site renders, validated and read-only."""

    root: Path
    site: SiteConfig
    artists: Mapping[str, Artist]
    sculptures: Mapping[str, Sculpture]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def published(self) -> tuple[Sculpture, ...]:
        """Published pieces, newest first, then by slug for a stable order."""
        pieces = [s for s in self.sculptures.values() if s.is_published]
        return tuple(sorted(pieces, key=lambda s: (-s.added_on.toordinal(), s.slug)))

    def image_path(self, file_name: str) -> Path:
        return self.root / "images" / file_name

    @property
    def summary(self) -> str:
        published = len(self.published)
        return (
            f"{len(self.sculptures)} sculptures ({published} published) "
            f"by {len(self.artists)} artists"
        )


def load_catalog(root: Path) -> Catalog:
    """Read and validate content/; raise ContentError with every problem found."""
    problems: list[Problem] = []
    site_path = root / "site.yaml"
    site_entry = None
    if site_path.is_file():
        site_entry = _load(site_path, SiteConfig, problems)
    else:
        problems.append(Problem(display_path(site_path), 1, 1, FILE_FIELD, "file is missing"))
    site = site_entry[1] if site_entry else None
    artist_entries = {
        slug: _load(path, Artist, problems, slug=slug)
        for slug, path in _collect(root / "artists", problems)
    }
    artists = {slug: entry[1] if entry else None for slug, entry in artist_entries.items()}
    sculptures: dict[str, Sculpture] = {}
    for slug, path in _collect(root / "sculptures", problems):
        entry = _load(path, Sculpture, problems, slug=slug)
        if entry is not None:
            document, sculpture = entry
            problems.extend(_cross_check(document, sculpture, artists, site, root))
            sculptures[slug] = sculpture
    if problems or site is None:
        raise ContentError(problems)
    return Catalog(
        root=root,
        site=site,
        artists=types.MappingProxyType({k: v for k, v in sorted(artists.items()) if v}),
        sculptures=types.MappingProxyType(dict(sorted(sculptures.items()))),
    )


def _collect(folder: Path, problems: list[Problem]) -> list[tuple[str, Path]]:
    """List the .yaml files of a folder by slug, flagging bad and colliding names."""
    if not folder.is_dir():
        problems.append(Problem(display_path(folder), 1, 1, FILE_FIELD, "folder is missing"))
        return []
    found: list[tuple[str, Path]] = []
    by_key: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue
        shown = display_path(path)
        if path.suffix != ".yaml":
            problems.append(Problem(shown, 1, 1, FILE_FIELD, "content files must end in .yaml"))
            continue
        slug = path.stem
        key = unicodedata.normalize("NFKC", slug).casefold()
        if key in by_key:
            other = display_path(by_key[key])
            message = (
                f"slug {slug!r} collides with {other} (names differ only in case or "
                "Unicode normalisation, which breaks on case-insensitive file systems and URLs)"
            )
            problems.append(Problem(shown, 1, 1, FILE_FIELD, message))
            continue
        by_key[key] = path
        if not SLUG_RE.match(slug):
            message = (
                f"file name {path.name!r} is not a valid slug: use lowercase ASCII letters, "
                "digits and single hyphens (e.g. 'mulher-sentada.yaml')"
            )
            problems.append(Problem(shown, 1, 1, FILE_FIELD, message))
            continue
        found.append((slug, path))
    return found


def _load(
    path: Path, model: type[M], problems: list[Problem], *, slug: str | None = None
) -> tuple[YamlDocument, M] | None:
    """Read and validate one file; on failure add its problems and return None."""
    try:
        document = read_yaml(path)
    except YamlProblems as error:
        problems.extend(error.problems)
        return None
    validated = _validate(document, model, problems, slug=slug)
    return None if validated is None else (document, validated)


def _validate(
    document: YamlDocument, model: type[M], problems: list[Problem], *, slug: str | None
) -> M | None:
    data = document.data
    shown = display_path(document.path)
    if not isinstance(data, dict):
        problems.append(
            Problem(shown, 1, 1, FILE_FIELD, "the file must be a mapping of field: value")
        )
        return None
    if slug is not None:
        if "slug" in data:
            position = document.locate(("slug",), prefer_key=True)
            message = "unknown field: the slug is the file name, do not repeat it"
            problems.append(Problem(shown, position.line, position.column, "slug", message))
            return None
        data = {**data, "slug": slug}
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems.extend(_problems_from(error, document, model))
        return None


def _problems_from(
    error: ValidationError, document: YamlDocument, model: type[BaseModel]
) -> Iterator[Problem]:
    shown = display_path(document.path)
    details = error.errors(include_url=False)
    failed = [tuple(d["loc"]) for d in details]
    for detail in details:
        loc = tuple(detail["loc"])
        kind = detail["type"]
        if kind == "too_short" and any(f[: len(loc)] == loc and f != loc for f in failed):
            continue  # a list emptied by its own invalid items: the items say why
        field_name = ".".join(str(part) for part in loc) or FILE_FIELD
        if kind == "extra_forbidden":
            position = document.locate(loc, prefer_key=True)
            message = _unknown_field_message(model, loc)
        elif kind == "missing":
            position = document.locate(loc[:-1])
            message = "required field is missing"
        else:
            position = document.locate(loc)
            message = _clean(detail["msg"]) + _yaml_hint(detail.get("input"), position.source)
        yield Problem(shown, position.line, position.column, field_name, message)


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ")


def _yaml_hint(value: Any, source: str | None) -> str:
    """Explain YAML 1.1's implicit typing, the usual cause of a surprising type error."""
    if isinstance(value, bool) and source and source.lower() in _YAML_11_WORDS:
        return f' (YAML reads {source} as the boolean {str(value).lower()}; quote it: "{source}")'
    if type(value).__name__ in {"date", "datetime"} and source:
        return f' (YAML reads {source} as a date; quote it if you meant text: "{source}")'
    return ""


def _unknown_field_message(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    name = str(loc[-1])
    allowed = _fields_at(model, loc[:-1])
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown field {name!r}{hint}"


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names allowed at a path, to suggest the intended one for a typo."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        info = current.model_fields.get(part) if _is_model(current) else None
        if info is None:
            return []
        current = _inner_model(info.annotation)
    if not _is_model(current):
        return []
    return [name for name in current.model_fields if name != "slug"]


def _inner_model(annotation: Any) -> Any:
    if _is_model(annotation):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType, tuple):
        for arg in get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


def _cross_check(
    document: YamlDocument,
    sculpture: Sculpture,
    artists: Mapping[str, Artist | None],
    site: SiteConfig | None,
    root: Path,
) -> Iterator[Problem]:
    """Checks that need more than one file: references, images, store currency."""
    shown = display_path(document.path)

    def problem(loc: tuple[str | int, ...], message: str) -> Problem:
        position = document.locate(loc)
        return Problem(shown, position.line, position.column, ".".join(map(str, loc)), message)

    if sculpture.artist not in artists:
        known = difflib.get_close_matches(sculpture.artist, list(artists), n=1)
        hint = f"; did you mean {known[0]!r}?" if known else ""
        yield problem(
            ("artist",),
            f"unknown artist {sculpture.artist!r}: no content/artists/"
            f"{sculpture.artist}.yaml{hint}",
        )
    else:
        artist = artists[sculpture.artist]
        if artist is not None and sculpture.year < artist.birth_year:
            yield problem(
                ("year",),
                f"year {sculpture.year} is before the artist's birth year {artist.birth_year}",
            )
    for index, image in enumerate(sculpture.images):
        if not (root / "images" / image.file).is_file():
            yield problem(("images", index, "file"), f"image file images/{image.file} not found")
    if site is not None and sculpture.price.currency != site.currency:
        yield problem(
            ("price", "currency"),
            f"price is in {sculpture.price.currency} but the store sells in {site.currency}",
        )
