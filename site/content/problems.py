"""Content problems: one shape for every error, whatever found it.

Editors fix content from CI logs and from GitHub's inline annotations, so each
problem carries the file, the line and column, and the dotted field path.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one file of content."""

    path: str
    line: int
    column: int
    field: str
    message: str

    def format_text(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.field}: {self.message}"

    def format_github(self) -> str:
        """A GitHub Actions workflow command, shown inline on the pull request."""
        title = _escape_property(self.field)
        message = _escape_data(self.message)
        path = _escape_property(self.path)
        return f"::error file={path},line={self.line},col={self.column},title={title}::{message}"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


class ContentError(Exception):
    """The catalog could not be loaded; carries every problem found, sorted."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(set(problems)))
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"{len(self.problems)} content {noun}")


def display_path(path: Path) -> str:
    """Path as an editor wants it: relative to the working directory when possible."""
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    if absolute.startswith(cwd + os.sep):
        return Path(absolute[len(cwd) + 1 :]).as_posix()
    return Path(absolute).as_posix()
