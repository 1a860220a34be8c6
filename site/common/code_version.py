"""The version of some code, as a digest of its files: what a cached result was made by.

A cache key or page key that covers "the code" should cover exactly the code
that can change the result, no more: a page need not be rendered again because
the publish code changed. So callers name the packages (every file under their
folders: modules, templates, static assets) and modules that make their result.
Files are named by their place in the package, not on disk, so a checkout in
another folder (a CI runner restoring the caches) has the same version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType


def code_version(packages: Iterable[ModuleType], modules: Iterable[ModuleType] = ()) -> str:
    """A digest of every file under the packages' folders and of the modules' files."""
    files: dict[str, Path] = {}
    for package in packages:
        folder = Path(package.__file__ or "").parent
        for path in folder.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                files[f"{package.__name__}/{path.relative_to(folder).as_posix()}"] = path
    for module in modules:
        files[module.__name__] = Path(module.__file__ or "")
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].read_bytes() + b"\0")
    return digest.hexdigest()
