"""Validate one content file against its model, turning errors into Problems.

Pydantic reports a field path; this module maps it back to the line and column
the editor wrote, explains YAML's implicit typing when it is the likely cause,
and suggests the intended name for a misspelt field.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from storefront.content.models import ContentModel
from storefront.content.problems import Problem, display_path
from storefront.content.yaml_source import FILE_FIELD, YamlDocument, YamlProblems, read_yaml

M = TypeVar("M", bound=ContentModel)
_YAML_11_WORDS = {"yes", "no", "on", "off", "y", "n", "true", "false"}


def validate_file(path: Path, model: type[M], slug: str | None) -> tuple[M | None, list[Problem]]:
    """Read and validate one file: the model, or None and every problem in it."""
    try:
        document = read_yaml(path)
    except YamlProblems as error:
        return None, list(error.problems)
    problems: list[Problem] = list(document.problems)
    validated = _validate(document, model, problems, slug=slug)
    return (None if document.problems else validated), problems


def locate(path: Path, loc: tuple[str | int, ...], message: str) -> Problem:
    """A Problem for a field of a file already known to parse (a cross-file check)."""
    shown = display_path(path)
    field = ".".join(map(str, loc))
    try:
        position = read_yaml(path).locate(loc)
    except YamlProblems:
        return Problem(shown, 1, 1, field, message)
    return Problem(shown, position.line, position.column, field, message)


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
