"""The terraform/ tree parsed with python-hcl2, and helpers to query it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

TERRAFORM = Path(__file__).resolve().parents[2] / "terraform"
MODULES = TERRAFORM / "modules"
PRODUCTION = TERRAFORM / "envs" / "production"
BOOTSTRAP = TERRAFORM / "bootstrap"

_OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
_VAR_REF = re.compile(r"^\$\{var\.([A-Za-z0-9_]+)\}$")


def tf_files() -> list[Path]:
    """Every Terraform file of the tree, in a stable order."""
    return sorted(TERRAFORM.rglob("*.tf"))


@dataclass
class Config:
    """The parsed files of one Terraform module (a folder)."""

    path: Path
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def _blocks(self, kind: str) -> list[dict[str, Any]]:
        return [block for parsed in self.files.values() for block in parsed.get(kind, [])]

    def resources(self, rtype: str) -> dict[str, dict[str, Any]]:
        """Resources of one type, by name."""
        return {
            name: body
            for block in self._blocks("resource")
            for kind, named in block.items()
            if kind == rtype
            for name, body in named.items()
        }

    def resource(self, rtype: str, name: str = "this") -> dict[str, Any]:
        found = self.resources(rtype)
        assert name in found, f"{self.path.name}: no {rtype}.{name}"
        return found[name]

    def all_resources(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [
            (kind, name, body)
            for block in self._blocks("resource")
            for kind, named in block.items()
            for name, body in named.items()
        ]

    def data(self, dtype: str) -> dict[str, dict[str, Any]]:
        return {
            name: body
            for block in self._blocks("data")
            for kind, named in block.items()
            if kind == dtype
            for name, body in named.items()
        }

    @property
    def variables(self) -> dict[str, dict[str, Any]]:
        return {n: b for block in self._blocks("variable") for n, b in block.items()}

    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        return {n: b for block in self._blocks("output") for n, b in block.items()}

    @property
    def module_calls(self) -> dict[str, dict[str, Any]]:
        return {n: b for block in self._blocks("module") for n, b in block.items()}

    @property
    def terraform_blocks(self) -> list[dict[str, Any]]:
        return self._blocks("terraform")

    def default(self, value: Any) -> Any:
        """Resolve `var.x` to the variable's default (other values pass through)."""
        if isinstance(value, str) and (match := _VAR_REF.match(value)):
            variable = self.variables[match.group(1)]
            assert "default" in variable, f"var.{match.group(1)} has no default"
            return variable["default"]
        return value

    def validations(self, variable: str) -> list[str]:
        """The `condition` expressions of a variable's validation blocks."""
        return [v["condition"] for v in self.variables[variable].get("validation", [])]


@dataclass
class Estate:
    modules: dict[str, Config]
    production: Config
    bootstrap: Config
    parse_errors: dict[Path, str]

    @property
    def configs(self) -> list[Config]:
        return [*self.modules.values(), self.production, self.bootstrap]


def _load(folder: Path, errors: dict[Path, str]) -> Config:
    config = Config(folder)
    for path in sorted(folder.glob("*.tf")):
        try:
            config.files[path.name] = hcl2.loads(path.read_text(), serialization_options=_OPTIONS)
        except Exception as exc:  # any parser failure is a finding, reported per file
            errors[path] = f"{type(exc).__name__}: {exc}"
    return config


def load_estate() -> Estate:
    """Parse every module, the production root and the bootstrap root."""
    errors: dict[Path, str] = {}
    modules = {p.name: _load(p, errors) for p in sorted(MODULES.iterdir()) if p.is_dir()}
    return Estate(modules, _load(PRODUCTION, errors), _load(BOOTSTRAP, errors), errors)


def one(blocks: list[dict[str, Any]] | dict[str, Any]) -> dict[str, Any]:
    """The single block of a nested block list (python-hcl2 gives lists)."""
    if isinstance(blocks, dict):
        return blocks
    assert len(blocks) == 1, f"expected one block, got {len(blocks)}"
    return blocks[0]
