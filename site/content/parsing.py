"""Parse many content files fast: a content-hash cache and both CPU cores.

PyYAML spends about 0.4 ms per small file resolving scalar types in Python, so
10,000 sculptures cost seconds. Files whose bytes are unchanged since the last
build come from a log of validated models' dumps (an edit re-parses one file
and appends one entry); the rest are parsed in parallel when there are enough
of them to pay for it.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import get_args

import pydantic

from storefront.content import models
from storefront.common.file_digests import FileDigests
from storefront.content.models import ContentModel
from storefront.common.pickle_log import PickleLog
from storefront.content.problems import Problem
from storefront.content.validation import validate_file

PARALLEL_THRESHOLD = 400


@dataclass(frozen=True)
class Job:
    folder: Path
    name: str
    kind: str
    slug: str | None

    @property
    def path(self) -> Path:
        return self.folder / self.name


Result = tuple[ContentModel | None, list[Problem]]


def _code_version() -> str:
    """Cached models are only valid for the code that validated them."""
    digest = hashlib.sha256(pydantic.VERSION.encode())
    for module in ("models", "validation", "yaml_source"):
        digest.update(Path(models.__file__).with_name(f"{module}.py").read_bytes())
    return digest.hexdigest()[:16]


Key = tuple[str, str | None, str]


class ParseCache:
    """(kind, slug, sha256 of bytes) -> validated model, kept between builds.

    The models' dumps are kept in a PickleLog keyed by the code version: a
    build that parsed a few files appends one small batch.
    """

    def __init__(self, path: Path | None) -> None:
        self.log = PickleLog(path, _code_version())
        self.added: dict[Key, ContentModel] = {}
        try:
            self.entries: dict[Key, ContentModel] = {
                key: construct(models.FILE_KINDS[key[0]], data, key[1])
                for key, data in self.log.entries.items()
            }
        except (KeyError, TypeError, AttributeError, IndexError):
            self.entries = {}  # unreadable entries: only a slower build, and a rewrite
            self.log.entries, self.log.sound = {}, False

    def add(self, key: Key, model: ContentModel) -> None:
        self.entries[key] = model
        self.added[key] = model

    def save(self, keep: set[Key]) -> None:
        """Append the new entries; rewrite the log when it holds too much that is stale."""
        added = {key: model.model_dump() for key, model in self.added.items() if key in keep}
        self.log.save(added, keep)
        self.added.clear()


def construct(model: type[ContentModel], data: dict, slug: str | None) -> ContentModel:
    """Rebuild a model from its own validated dump without validating it again.

    Unpickling pydantic models costs about 90 µs each; their dumped data loads
    ten times faster, and the data was validated by this same code (the cache
    is keyed by the code version), so construction without validation is safe.
    """
    if slug is not None:
        data = {**data, "slug": slug}
    return _builder(model)(data)


@cache
def _builder(model: type[ContentModel]) -> Callable[[dict], ContentModel]:
    """A function that builds `model` (and the models it holds) from a dump.

    What model_construct does, minus its per-field default handling (a dump
    already holds every field), with the fields that hold models worked out
    once per class: a load builds some 40,000 of them.
    """
    nested = [(name, _builder(sub)) for name, sub in _nested(model)]
    new = model.__new__
    set_slot = object.__setattr__

    def build(data: dict) -> ContentModel:
        values = dict(data)
        for name, build_nested in nested:
            value = values.get(name)
            if type(value) is dict:
                values[name] = build_nested(value)
            elif type(value) is tuple or type(value) is list:
                values[name] = tuple(map(build_nested, value))
        instance = new(model)
        set_slot(instance, "__dict__", values)
        set_slot(instance, "__pydantic_fields_set__", set(values))
        set_slot(instance, "__pydantic_extra__", None)
        set_slot(instance, "__pydantic_private__", None)
        return instance

    return build


@cache
def _nested(model: type[ContentModel]) -> tuple[tuple[str, type[ContentModel]], ...]:
    """(field, model) for every field holding a model or a tuple of models."""
    found = []
    for name, info in model.model_fields.items():
        for candidate in (info.annotation, *get_args(info.annotation)):
            if isinstance(candidate, type) and issubclass(candidate, ContentModel):
                found.append((name, candidate))
                break
    return tuple(found)


def parse_all(
    jobs: Sequence[Job], cache: ParseCache, files: FileDigests
) -> list[tuple[Result, str]]:
    """Validate every job, in order, with its file's sha256; unchanged files come from the cache."""
    digests = _digests(jobs, files)
    keys = [(job.kind, job.slug, digest) for job, digest in zip(jobs, digests, strict=True)]
    results: list[Result | None] = [
        (cache.entries[key], []) if key in cache.entries else None for key in keys
    ]
    missing = [i for i, result in enumerate(results) if result is None]
    for i, result in zip(missing, _parse([jobs[i] for i in missing]), strict=True):
        results[i] = result
        if result[0] is not None:
            cache.add(keys[i], result[0])
    cache.save(set(keys))
    return [(result, digest) for result, digest in zip(results, digests, strict=True) if result]


def _digests(jobs: Sequence[Job], files: FileDigests) -> list[str]:
    """Each job's file digest, asked for folder by folder."""
    by_folder: dict[Path, list[int]] = {}
    for i, job in enumerate(jobs):
        by_folder.setdefault(job.folder, []).append(i)
    digests = [""] * len(jobs)
    for folder, indexes in by_folder.items():
        names = [jobs[i].name for i in indexes]
        for i, digest in zip(indexes, files.digests(folder, names), strict=True):
            digests[i] = digest
    files.save()
    return digests


def _parse(jobs: list[Job]) -> list[Result]:
    workers = min(os.cpu_count() or 1, 4)
    if len(jobs) < PARALLEL_THRESHOLD or workers < 2 or sys.platform != "linux":
        return [_parse_one(job) for job in jobs]
    chunk = -(-len(jobs) // workers)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        parts = pool.map(_parse_chunk, [jobs[i : i + chunk] for i in range(0, len(jobs), chunk)])
    return [result for part in parts for result in part]


def _parse_chunk(jobs: list[Job]) -> list[Result]:
    return [_parse_one(job) for job in jobs]


def _parse_one(job: Job) -> Result:
    return validate_file(job.path, models.FILE_KINDS[job.kind], job.slug)
