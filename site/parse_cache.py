"""Parse many content files fast: a content-hash cache and both CPU cores.

PyYAML spends about 0.4 ms per small file resolving scalar types in Python, so
10,000 sculptures cost seconds. Files whose bytes are unchanged since the last
build come from a pickle of validated models (an edit re-parses one file); the
rest are parsed in parallel when there are enough of them to pay for it.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import get_args

import pydantic

from . import models
from .models import ContentModel
from .problems import Problem
from .validation import validate_file

PARALLEL_THRESHOLD = 400


@dataclass(frozen=True)
class Job:
    path: Path
    kind: str
    slug: str | None


Result = tuple[ContentModel | None, list[Problem]]


def _code_version() -> str:
    """Cached models are only valid for the code that validated them."""
    digest = hashlib.sha256(pydantic.VERSION.encode())
    for module in ("models", "validation", "yaml_source"):
        digest.update(Path(models.__file__).with_name(f"{module}.py").read_bytes())
    return digest.hexdigest()[:16]


class ParseCache:
    """(kind, slug, sha256 of bytes) -> validated model, kept between builds."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.version = _code_version()
        self.entries: dict[tuple[str, str | None, str], ContentModel] = {}
        # Each entry's dump as read from disk: saving re-dumps only new entries.
        self.dumps: dict[tuple[str, str | None, str], dict] = {}
        self.dirty = False
        if path is not None and path.is_file():
            try:
                with path.open("rb") as handle:
                    version, dumps = pickle.load(handle)
                if version == self.version:
                    self.entries = {
                        key: construct(models.FILE_KINDS[key[0]], data, key[1])
                        for key, data in dumps.items()
                    }
                    self.dumps = dumps
            except (OSError, pickle.UnpicklingError, EOFError, ValueError, AttributeError):
                self.entries, self.dumps = {}, {}  # a damaged cache is only a slower build

    def save(self, keep: set[tuple[str, str | None, str]]) -> None:
        """Write the cache atomically, dropping entries no longer in the content."""
        if self.path is None:
            return
        if not self.dirty and keep.issuperset(self.entries):
            return
        kept = {
            key: self.dumps[key] if key in self.dumps else value.model_dump()
            for key, value in self.entries.items()
            if key in keep
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".tmp{os.getpid()}")
        with temporary.open("wb") as handle:
            pickle.dump((self.version, kept), handle, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(self.path)


def construct(model: type[ContentModel], data: dict, slug: str | None) -> ContentModel:
    """Rebuild a model from its own validated dump without validating it again.

    Unpickling pydantic models costs about 90 µs each; their dumped data loads
    ten times faster, and the data was validated by this same code (the cache
    is keyed by the code version), so construction without validation is safe.
    """
    values = dict(data)
    for name, sub in _nested(model):
        value = values.get(name)
        if isinstance(value, dict):
            values[name] = construct(sub, value, None)
        elif isinstance(value, tuple | list):
            values[name] = tuple(construct(sub, item, None) for item in value)
    if slug is not None:
        values["slug"] = slug
    # What model_construct does, minus its per-field default handling: a dump
    # already holds every field.
    instance = model.__new__(model)
    object.__setattr__(instance, "__dict__", values)
    object.__setattr__(instance, "__pydantic_fields_set__", set(values))
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance


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


def parse_all(jobs: Sequence[Job], cache: ParseCache) -> list[Result]:
    """Validate every job, in order; unchanged files come from the cache."""
    digests = [hashlib.sha256(job.path.read_bytes()).hexdigest() for job in jobs]
    keys = [(job.kind, job.slug, digest) for job, digest in zip(jobs, digests, strict=True)]
    results: list[Result | None] = [
        (cache.entries[key], []) if key in cache.entries else None for key in keys
    ]
    missing = [i for i, result in enumerate(results) if result is None]
    for i, result in zip(missing, _parse([jobs[i] for i in missing]), strict=True):
        results[i] = result
        if result[0] is not None:
            cache.entries[keys[i]] = result[0]
            cache.dirty = True
    cache.save(set(keys))
    return [result for result in results if result is not None]


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
