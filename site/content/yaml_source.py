"""Read one YAML content file into plain data plus the position of every value.

PyYAML alone is not enough for content editors: it keeps the last of two
duplicate keys without a word and forgets where each value came from. Here the
file is composed into nodes first, so duplicates become errors and every field
path maps back to a line and column for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from storefront.content.problems import Problem, display_path

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
FILE_FIELD = "(file)"

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    """Where a value (or the key naming it) starts, 1-based as editors count."""

    line: int
    column: int
    source: str | None = None  # the scalar exactly as written, for type hints


@dataclass(frozen=True)
class YamlDocument:
    """The data of one file and where each piece of it was written."""

    path: Path
    data: Any
    values: dict[FieldPath, Position]
    keys: dict[FieldPath, Position]
    # Readable but wrong (duplicate keys, odd keys): reported with the schema's findings.
    problems: tuple[Problem, ...] = ()

    def locate(self, field: FieldPath, *, prefer_key: bool = False) -> Position:
        """Best position for a field path: itself, else its nearest written parent."""
        for end in range(len(field), -1, -1):
            prefix = field[:end]
            table = (self.keys, self.values) if prefer_key else (self.values, self.keys)
            for positions in table:
                if prefix in positions:
                    return positions[prefix]
        return Position(1, 1)


class YamlProblems(Exception):
    """The file could not be read as YAML; no data is returned, only problems."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.format_text() for p in problems))
        self.problems = problems


def read_yaml(path: Path) -> YamlDocument:
    """Parse one file strictly; raise YamlProblems listing everything unreadable."""
    shown = display_path(path)
    raw = path.read_bytes()
    text = _decode(raw, shown)
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"YAML syntax error: {error.problem or error.context}"
        raise YamlProblems([Problem(shown, line, column, "(yaml)", message)]) from None
    except yaml.YAMLError as error:
        raise YamlProblems([Problem(shown, 1, 1, "(yaml)", f"YAML error: {error}")]) from None
    if root is None:
        raise YamlProblems([Problem(shown, 1, 1, FILE_FIELD, "file is empty")])
    builder = _Builder(shown)
    data = builder.build(root, ())
    return YamlDocument(path, data, builder.values, builder.keys, tuple(builder.problems))


def _decode(raw: bytes, shown: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        byte = raw[error.start : error.start + 1].hex()
        message = f"file is not valid UTF-8 (byte 0x{byte}); save it as UTF-8"
        raise YamlProblems([Problem(shown, line, column, FILE_FIELD, message)]) from None


class _Builder:
    """Turn a node tree into dicts, tuples and scalars while recording positions."""

    def __init__(self, shown: str) -> None:
        self.shown = shown
        self.constructor = SafeConstructor()
        self.values: dict[FieldPath, Position] = {}
        self.keys: dict[FieldPath, Position] = {}
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, path: FieldPath) -> Any:
        source = node.value if isinstance(node, yaml.ScalarNode) else None
        self.values[path] = Position(node.start_mark.line + 1, node.start_mark.column + 1, source)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return tuple(self.build(item, (*path, i)) for i, item in enumerate(node.value))
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as error:
            self._add(path, node, f"unreadable value {node.value!r}: {error}")
            return None

    def _mapping(self, node: yaml.MappingNode, path: FieldPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self._add(path, key_node, "a key must be a plain name, not a list or mapping")
                continue
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in first_seen:
                field = ".".join(str(p) for p in (*path, key))
                message = f"duplicate key {key!r} (first defined on line {first_seen[key]})"
                self.problems.append(
                    Problem(self.shown, line, key_node.start_mark.column + 1, field, message)
                )
                continue
            first_seen[key] = line
            self.keys[(*path, key)] = Position(line, key_node.start_mark.column + 1)
            result[key] = self.build(value_node, (*path, key))
        return result

    def _add(self, path: FieldPath, node: yaml.Node, message: str) -> None:
        field = ".".join(str(p) for p in path) or FILE_FIELD
        mark = node.start_mark
        self.problems.append(Problem(self.shown, mark.line + 1, mark.column + 1, field, message))
