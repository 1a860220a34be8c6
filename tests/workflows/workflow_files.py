"""The repository's GitHub Actions workflows, parsed, and what their steps call.

Shared by the rule checks, the names cross-check and the rehearsal, so all
three read the same YAML the same way.
"""

from __future__ import annotations

import contextlib
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from support.paths import PROJECT

WORKFLOWS = PROJECT / ".github" / "workflows"
#: The workflows that change AWS, rehearsed against the stand-ins.
DEPLOY_WORKFLOWS = ("deploy-site.yml", "deploy-api.yml", "preview.yml")
_VARS = re.compile(r"\bvars\.([A-Za-z_][A-Za-z0-9_]*)")
_USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?:\s+#\s*(?P<comment>.*))?$")


@dataclass(frozen=True)
class Step:
    workflow: str
    job: str
    index: int
    body: dict[str, Any]

    @property
    def name(self) -> str:
        uses = str(self.body.get("uses", "")).split("@", 1)[0]
        return str(self.body.get("name") or uses or self.body.get("run", ""))

    @property
    def where(self) -> str:
        return f"{self.workflow} > {self.job} > step {self.index + 1} ({self.name.splitlines()[0]})"


@dataclass(frozen=True)
class Workflow:
    path: Path
    document: dict[str, Any]

    @property
    def file(self) -> str:
        return self.path.name

    @property
    def triggers(self) -> dict[str, Any]:
        # YAML 1.1 reads the key `on` as the boolean true.
        raw = self.document.get("on", self.document.get(True))
        if isinstance(raw, str):
            return {raw: {}}
        if isinstance(raw, list):
            return {key: {} for key in raw}
        return {key: value or {} for key, value in (raw or {}).items()}

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        return self.document.get("jobs") or {}

    @property
    def env(self) -> dict[str, Any]:
        return self.document.get("env") or {}

    def steps(self) -> Iterator[Step]:
        for job_id, job in self.jobs.items():
            for index, body in enumerate(job.get("steps") or []):
                yield Step(self.file, job_id, index, body)

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def uses_lines(self) -> list[tuple[int, str, str | None]]:
        """Every ``uses:`` of the file with its line number and trailing comment."""
        found = []
        for number, line in enumerate(self.text().splitlines(), start=1):
            match = _USES_LINE.match(line)
            if match:
                found.append((number, match["ref"], match["comment"]))
        return found

    def variables(self) -> set[str]:
        """Names of the repository variables (``vars.X``) the workflow reads."""
        return set(_VARS.findall(self.text()))


def workflow_paths() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


@cache
def load(path: Path) -> Workflow:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{path}: not a workflow (expected a mapping)")
    return Workflow(path, document)


def all_workflows() -> list[Workflow]:
    return [load(path) for path in workflow_paths()]


def environment_name(job: dict[str, Any]) -> str | None:
    environment = job.get("environment")
    if isinstance(environment, dict):
        return environment.get("name")
    return environment


# -- what run: scripts call ---------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One command line found in a ``run:`` script: the program and its words."""

    step: Step
    words: tuple[str, ...]

    @property
    def program(self) -> str:
        return self.words[0]


_SEPARATORS = {
    *(";", "&&", "||", "|", "&", "(", ")", "`", "\n", "!"),
    *("if", "elif", "then", "else", "while", "until", "do"),
}


def _words(script: str) -> list[str]:
    """Shell words of a script, with separators as words of their own."""
    joined = script.replace("\\\n", " ")
    words: list[str] = []
    for line in joined.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()`")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        # An unbalanced quote (inside a message spanning lines): the line is skipped.
        with contextlib.suppress(ValueError):
            words.extend(lexer)
        words.append("\n")
    return words


def calls(step: Step) -> list[Call]:
    """The command lines of a step's ``run:`` script (``flask …``, ``make …``, ``aws …``)."""
    script = step.body.get("run")
    if not isinstance(script, str):
        return []
    found, current = [], []
    for word in _words(script):
        if word in _SEPARATORS or (word.endswith("$") and word != "$"):
            if current:
                found.append(Call(step, tuple(current)))
            current = []
            continue
        if not current and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S*", word):
            continue  # an assignment before the command (`url=$(…)` is split above)
        current.append(word)
    if current:
        found.append(Call(step, tuple(current)))
    return found


def all_calls(program: str) -> list[Call]:
    return [
        call
        for workflow in all_workflows()
        for step in workflow.steps()
        for call in calls(step)
        if call.program == program
    ]


@dataclass(frozen=True)
class FlaskCall:
    """``flask --app APP COMMAND [options]``: the options as written (``--x`` words)."""

    call: Call
    app: str
    command: str
    options: tuple[str, ...]


def flask_calls() -> list[FlaskCall]:
    found = []
    for call in all_calls("flask"):
        words = list(call.words[1:])
        if words[:1] != ["--app"] or len(words) < 3:
            raise ValueError(f"{call.step.where}: flask without --app APP COMMAND: {call.words}")
        app, command, rest = words[1], words[2], words[3:]
        options = []
        for word in rest:
            if word == "--":
                break  # what follows is an argument, never an option
            if word.startswith("-"):
                options.append(word.split("=", 1)[0])
        found.append(FlaskCall(call, app, command, tuple(options)))
    return found


def make_targets() -> list[tuple[Call, str]]:
    return [
        (call, word)
        for call in all_calls("make")
        for word in call.words[1:]
        if not word.startswith("-") and "=" not in word
    ]
