"""Load the whole catalog from content/, all or nothing.

Every file is read and validated before anything is rendered, and every problem
from every file is collected, so one CI run shows an editor all that needs
fixing. The result is an immutable Catalog or a ContentError, never a partial
catalog.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import types
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pydantic

from storefront.common.cache_files import content_stats_file
from storefront.common.file_digests import FileDigests
from storefront.content.models import Artist, Sculpture, SiteConfig
from storefront.content.parsing import Job, ParseCache, parse_all
from storefront.content.problems import ContentError, Problem, display_path
from storefront.content.validation import locate
from storefront.content.yaml_source import FILE_FIELD

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Catalog:
    """Everything the site renders, validated and read-only."""

    root: Path
    site: SiteConfig
    artists: Mapping[str, Artist]
    sculptures: Mapping[str, Sculpture]
    # slug -> sha256 of the sculpture's file: the model is a function of those bytes
    # (and of the code), so keys of what a page shows can hash this instead of the model.
    sources: Mapping[str, str]

    @cached_property
    def published(self) -> tuple[Sculpture, ...]:
        """Published pieces, newest first, then by slug for a stable order."""
        pieces = [s for s in self.sculptures.values() if s.is_published]
        return tuple(sorted(pieces, key=lambda s: (-s.added_on.toordinal(), s.slug)))

    @property
    def summary(self) -> str:
        published = len(self.published)
        return (
            f"{len(self.sculptures)} sculptures ({published} published) "
            f"by {len(self.artists)} artists"
        )


def with_base_url(catalog: Catalog, base_url: str) -> Catalog:
    """The catalog as published at another address (a preview); the URL is checked as
    site.yaml's base_url is, and a bad one is a problem with the option that gave it."""
    try:
        site = SiteConfig.model_validate({**catalog.site.model_dump(), "base_url": base_url})
    except pydantic.ValidationError as error:
        message = "; ".join(e["msg"] for e in error.errors() if e["loc"][:1] == ("base_url",))
        raise ContentError([Problem("--base-url", 1, 1, "base_url", message)]) from None
    return dataclasses.replace(catalog, site=site)


def load_catalog(root: Path, cache_file: Path | None = None) -> Catalog:
    """Read and validate content/; raise ContentError with every problem found.

    `cache_file` keeps validated models between builds, keyed by file content.
    """
    problems: list[Problem] = []
    site_path = root / "site.yaml"
    jobs: list[Job] = []
    if site_path.is_file():
        jobs.append(Job(root, site_path.name, "site", None))
    else:
        problems.append(Problem(display_path(site_path), 1, 1, FILE_FIELD, "file is missing"))
    for kind, folder in (("artist", root / "artists"), ("sculpture", root / "sculptures")):
        jobs += [Job(folder, name, kind, slug) for slug, name in _collect(folder, problems)]
    site: SiteConfig | None = None
    artists: dict[str, Artist | None] = {}
    sculptures: dict[str, tuple[Job, Sculpture]] = {}
    sources: dict[str, str] = {}
    parsed = parse_all(jobs, ParseCache(cache_file), FileDigests(content_stats_file(cache_file)))
    for job, ((model, found), digest) in zip(jobs, parsed, strict=True):
        problems.extend(found)
        if job.kind == "site":
            site = model  # type: ignore[assignment]
        elif job.kind == "artist":
            artists[job.slug or ""] = model  # type: ignore[assignment]
        elif model is not None:
            sculptures[job.slug or ""] = (job, model)  # type: ignore[assignment]
            sources[job.slug or ""] = digest
    images = _ImageFiles(root / "images")
    for job, sculpture in sculptures.values():
        for loc, message in _cross_check(sculpture, artists, site, images):
            problems.append(locate(job.path, loc, message))
    if problems or site is None:
        raise ContentError(problems)
    return Catalog(
        root=root,
        site=site,
        artists=types.MappingProxyType({k: v for k, v in sorted(artists.items()) if v}),
        sculptures=types.MappingProxyType({k: v[1] for k, v in sorted(sculptures.items())}),
        sources=types.MappingProxyType(sources),
    )


class _ImageFiles:
    """Which image files exist, listed once instead of one stat per reference."""

    def __init__(self, folder: Path) -> None:
        self.names = {p.name for p in folder.iterdir() if p.is_file()} if folder.is_dir() else set()

    def __contains__(self, name: str) -> bool:
        return name in self.names


def _collect(folder: Path, problems: list[Problem]) -> list[tuple[str, str]]:
    """List the .yaml files of a folder by (slug, file name), flagging bad and colliding names."""
    if not folder.is_dir():
        problems.append(Problem(display_path(folder), 1, 1, FILE_FIELD, "folder is missing"))
        return []
    found: list[tuple[str, str]] = []
    by_key: dict[str, str] = {}
    entries = sorted((e.name, e.is_dir()) for e in os.scandir(folder))
    for name, is_dir in entries:
        if name.startswith(".") or is_dir:
            continue
        if not name.endswith(".yaml"):
            problems.append(
                Problem(
                    display_path(folder / name), 1, 1, FILE_FIELD, "content files must end in .yaml"
                )
            )
            continue
        slug = name[: -len(".yaml")]
        key = slug.lower() if slug.isascii() else unicodedata.normalize("NFKC", slug).casefold()
        if key in by_key:
            other = display_path(folder / by_key[key])
            message = (
                f"slug {slug!r} collides with {other} (names differ only in case or "
                "Unicode normalisation, which breaks on case-insensitive file systems and URLs)"
            )
            problems.append(Problem(display_path(folder / name), 1, 1, FILE_FIELD, message))
            continue
        by_key[key] = name
        if not SLUG_RE.match(slug):
            message = (
                f"file name {name!r} is not a valid slug: use lowercase ASCII letters, "
                "digits and single hyphens (e.g. 'mulher-sentada.yaml')"
            )
            problems.append(Problem(display_path(folder / name), 1, 1, FILE_FIELD, message))
            continue
        found.append((slug, name))
    return found


def _cross_check(
    sculpture: Sculpture,
    artists: Mapping[str, Artist | None],
    site: SiteConfig | None,
    images: _ImageFiles,
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Checks that need more than one file: references, images, store currency."""
    if sculpture.artist not in artists:
        known = difflib.get_close_matches(sculpture.artist, list(artists), n=1)
        hint = f"; did you mean {known[0]!r}?" if known else ""
        yield (
            ("artist",),
            f"unknown artist {sculpture.artist!r}: no content/artists/"
            f"{sculpture.artist}.yaml{hint}",
        )
    else:
        artist = artists[sculpture.artist]
        if artist is not None and sculpture.year < artist.birth_year:
            yield (
                ("year",),
                f"year {sculpture.year} is before the artist's birth year {artist.birth_year}",
            )
    for index, image in enumerate(sculpture.images):
        if image.file not in images:
            yield ("images", index, "file"), f"image file images/{image.file} not found"
    if site is not None and sculpture.price.currency != site.currency:
        yield (
            ("price", "currency"),
            f"price is in {sculpture.price.currency} but the store sells in {site.currency}",
        )
