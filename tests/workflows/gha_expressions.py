"""GitHub Actions expressions (``${{ … }}``), evaluated the way the runner does.

The rehearsal needs the values of ``env:``, ``with:``, ``if:`` and cache keys,
so it evaluates the subset of the language the workflows use: literals,
context properties (``github.event.pull_request.number``, ``inputs.rollback-to``,
``steps.x.outputs.y``), index access, ``! == != < <= > >= && ||``, parentheses,
and the functions below. Anything else is an ``ExpressionError`` naming the
expression, so a workflow using more of the language fails the rehearsal loudly
instead of being half-understood.

Semantics follow GitHub's documentation ("Evaluate expressions in workflows and
actions"): ``&&`` and ``||`` return an operand, not a boolean; ``==`` compares
strings case-insensitively and coerces mixed types to numbers; a missing
property is ``null``; ``null`` and ``''`` and ``0`` are falsy.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>-?(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?))
    | (?P<string>'(?:[^']|'')*')
    | (?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\].,*])
    | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    )""",
    re.VERBOSE,
)
_TEMPLATE = re.compile(r"\$\{\{((?:(?!\}\}).)*)\}\}", re.DOTALL)  # no "}}" inside


class ExpressionError(ValueError):
    """An expression this evaluator cannot read or compute."""


@dataclass
class Context:
    """The contexts an expression can read, and where ``hashFiles`` looks."""

    values: dict[str, Any]
    workspace: Path | None = None
    #: What ``success()``/``failure()`` see: have earlier steps or needed jobs failed?
    failed: bool = False
    functions: dict[str, Callable[..., Any]] = field(default_factory=dict)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ExpressionError(f"cannot read {text!r} at {text[position:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over the grammar, evaluating as it goes (short-circuit included)."""

    def __init__(self, text: str, context: Context) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.position = 0
        self.context = context

    def parse(self) -> Any:
        value = self._or(True)
        if self.position != len(self.tokens):
            raise ExpressionError(f"unexpected {self.tokens[self.position][1]!r} in {self.text!r}")
        return value

    def _peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise ExpressionError(f"unexpected end of {self.text!r}")
        token = self.tokens[self.position]
        if expected is not None and token[1] != expected:
            raise ExpressionError(f"expected {expected!r}, got {token[1]!r} in {self.text!r}")
        self.position += 1
        return token

    # Each level takes `live`: when False the operand is parsed but not evaluated.
    def _or(self, live: bool) -> Any:
        value = self._and(live)
        while self._peek() == "||":
            self._take()
            right = self._and(live and not truthy(value))
            value = value if truthy(value) else right
        return value

    def _and(self, live: bool) -> Any:
        value = self._compare(live)
        while self._peek() == "&&":
            self._take()
            right = self._compare(live and truthy(value))
            value = right if truthy(value) else value
        return value

    def _compare(self, live: bool) -> Any:
        value = self._unary(live)
        while self._peek() in ("==", "!=", "<", "<=", ">", ">="):
            operator = self._take()[1]
            right = self._unary(live)
            value = compare(operator, value, right) if live else None
        return value

    def _unary(self, live: bool) -> Any:
        if self._peek() == "!":
            self._take()
            return not truthy(self._unary(live))
        return self._postfix(live)

    def _postfix(self, live: bool) -> Any:
        value = self._primary(live)
        while self._peek() in (".", "["):
            if self._take()[1] == ".":
                kind, name = self._take()
                if kind != "name":
                    raise ExpressionError(f"expected a property name after '.' in {self.text!r}")
                value = _property(value, name)
            else:
                index = self._or(live)
                self._take("]")
                value = _property(value, index)
        return value

    def _primary(self, live: bool) -> Any:
        kind, text = self._take()
        if kind == "number":
            number = float(int(text, 16)) if text.lower().startswith(("0x", "-0x")) else float(text)
            return int(number) if number.is_integer() else number
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if text == "(":
            value = self._or(live)
            self._take(")")
            return value
        if kind != "name":
            raise ExpressionError(f"unexpected {text!r} in {self.text!r}")
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if self._peek() == "(":
            self._take()
            arguments = []
            while self._peek() != ")":
                arguments.append(self._or(live))
                if self._peek() == ",":
                    self._take()
            self._take(")")
            return self._call(text, arguments) if live else None
        if text not in self.context.values:
            raise ExpressionError(f"unknown context {text!r} in {self.text!r}")
        return self.context.values[text]

    def _call(self, name: str, arguments: list[Any]) -> Any:
        functions: dict[str, Callable[..., Any]] = {
            "success": lambda: not self.context.failed,
            "failure": lambda: self.context.failed,
            "always": lambda: True,
            "cancelled": lambda: False,
            "contains": _contains,
            "startsWith": lambda a, b: to_string(a).lower().startswith(to_string(b).lower()),
            "endsWith": lambda a, b: to_string(a).lower().endswith(to_string(b).lower()),
            "format": _format,
            "join": lambda items, sep=",": to_string(sep).join(map(to_string, items or [])),
            "toJSON": lambda value: json.dumps(value, indent=2),
            "fromJSON": json.loads,
            "hashFiles": lambda *patterns: hash_files(self.context.workspace, patterns),
            **self.context.functions,
        }
        lowered = {key.lower(): value for key, value in functions.items()}
        if name.lower() not in lowered:
            raise ExpressionError(f"unknown function {name}() in {self.text!r}")
        return lowered[name.lower()](*arguments)


def _property(value: Any, name: Any) -> Any:
    if isinstance(value, Mapping):
        if isinstance(name, str):
            for key in value:  # property names are case-insensitive
                if isinstance(key, str) and key.lower() == name.lower():
                    return value[key]
        return None
    if isinstance(value, list) and isinstance(name, int | float) and 0 <= int(name) < len(value):
        return value[int(name)]
    return None


def truthy(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (None, False, 0, "")


def to_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _to_number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return math.nan
    return math.nan


def compare(operator: str, left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        a: Any = left.lower()
        b: Any = right.lower()
    elif isinstance(left, dict | list) or isinstance(right, dict | list):
        if operator in ("==", "!="):
            return (left is right) == (operator == "==")
        return False
    else:
        a, b = _to_number(left), _to_number(right)
        if math.isnan(a) or math.isnan(b):
            return operator == "!="
    return {
        "==": a == b,
        "!=": a != b,
        "<": a < b,
        "<=": a <= b,
        ">": a > b,
        ">=": a >= b,
    }[operator]


def _contains(haystack: Any, needle: Any) -> bool:
    if isinstance(haystack, list):
        return any(compare("==", item, needle) for item in haystack)
    return to_string(needle).lower() in to_string(haystack).lower()


def _format(template: str, *arguments: Any) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) in ("{{", "}}"):
            return match.group(0)[0]
        return to_string(arguments[int(match.group(1))])

    return re.sub(r"\{\{|\}\}|\{(\d+)\}", replace, template)


def hash_files(workspace: Path | None, patterns: tuple[str, ...]) -> str:
    """SHA-256 over the SHA-256 of each matching file, in path order ('' if none match)."""
    if workspace is None:
        raise ExpressionError("hashFiles() needs a workspace")
    from workflows.path_filters import matches  # the same glob rules as path filters

    files = sorted(
        path
        for path in workspace.rglob("*")
        if path.is_file()
        and ".git" not in path.relative_to(workspace).parts
        and matches(path.relative_to(workspace).as_posix(), list(patterns))
    )
    if not files:
        return ""
    outer = hashlib.sha256()
    for path in files:
        outer.update(hashlib.sha256(path.read_bytes()).digest())
    return outer.hexdigest()


def evaluate(expression: str, context: Context) -> Any:
    """The value of one expression, written with or without ``${{ }}``."""
    text = expression.strip()
    whole = _TEMPLATE.fullmatch(text)
    return _Parser(whole.group(1) if whole else text, context).parse()


def interpolate(value: Any, context: Context) -> Any:
    """A workflow value with every ``${{ }}`` replaced (non-strings pass through).

    A string that is exactly one expression keeps the expression's type, as the
    runner does for ``if:``; otherwise the pieces are joined as strings.
    """
    if not isinstance(value, str) or "${{" not in value:
        return value
    whole = _TEMPLATE.fullmatch(value.strip())
    if whole:
        return _Parser(whole.group(1), context).parse()
    return _TEMPLATE.sub(lambda m: to_string(_Parser(m.group(1), context).parse()), value)


def condition(value: Any, context: Context) -> bool:
    """Whether an ``if:`` holds; a missing one means ``success()``."""
    if value is None:
        return not context.failed
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    whole = _TEMPLATE.fullmatch(text)
    text = whole.group(1) if whole else text
    status_functions = ("success(", "failure(", "always(", "cancelled(")
    if not any(name in text for name in status_functions):
        text = f"success() && ({text})"  # GitHub adds success() when no status check is given
    return truthy(_Parser(text, context).parse())
