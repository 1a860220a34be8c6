"""How api/ is put together: the store interface, one module per backend, no import cycle.

Read from the source with ``ast`` (every import, including those inside
functions), so a lazy import cannot hide a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

from support.availability import REPO

API = REPO / "api"


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every ``api...`` module the file imports, at any depth (even inside functions)."""
    modules = {module_name(p) for p in API.rglob("*.py")}
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & modules
            # ``from api import metrics`` imports api.metrics, not what api/__init__ defines.
            found.update(submodules or {node.module})
    return {name for name in found if name in modules}


def graph() -> dict[str, set[str]]:
    return {module_name(path): imports_of(path) for path in API.rglob("*.py")}


def test_the_stores_package_holds_the_interface_and_one_module_per_backend() -> None:
    from api.stores import BACKENDS

    names = {path.stem for path in (API / "stores").glob("*.py")}
    assert {"__init__", "interface", "sqlite", "dynamodb"} <= names
    assert {module for module, _factory in BACKENDS.values()} == {
        "api.stores.sqlite",
        "api.stores.dynamodb",
    }
    assert not (API / "store.py").exists() and not (API / "sqlite_store.py").exists()


def test_backends_import_the_interface_never_the_package_or_each_other() -> None:
    edges = graph()
    backends = {"api.stores.sqlite", "api.stores.dynamodb"}
    for backend in backends:
        assert "api.stores" not in edges[backend], backend
        assert not edges[backend] & (backends - {backend}), backend
        assert all(name.startswith("api.stores.") for name in edges[backend]), edges[backend]
    for name, imported in edges.items():
        if name.startswith("api.stores.") and name not in backends:
            assert not imported & backends, f"{name} imports a backend"
    outside = {name for name in edges if not name.startswith("api.stores")}
    for name in outside:
        assert not edges[name] & backends, f"{name} should open stores through api.stores"


def test_no_module_of_api_imports_itself_back() -> None:
    edges = graph()
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for target in sorted(edges.get(name, ())):
            if target == name or target not in edges:
                continue
            if state.get(target) == "open":
                cycle = [*path[path.index(target) :], target] if target in path else [name, target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
