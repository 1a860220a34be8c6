"""The inventory file the site's freeze writes: which pieces exist, in what edition.

``{"version": 1, "sculptures": {"<slug>": <edition_size>, ...}}`` at
``build/site/inventory.json``. Parsing is pure and reports every problem at once.
"""

from __future__ import annotations

import json
from pathlib import Path

from api.stores.interface import is_slug

SUPPORTED_VERSION = 1


class InventoryError(ValueError):
    pass


def parse_inventory(text: str, source: str = "inventory") -> dict[str, int]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InventoryError(f"{source}: not JSON ({error})") from None
    if not isinstance(data, dict) or data.get("version") != SUPPORTED_VERSION:
        raise InventoryError(f'{source}: expected an object with "version": {SUPPORTED_VERSION}')
    sculptures = data.get("sculptures")
    if not isinstance(sculptures, dict):
        raise InventoryError(f'{source}: "sculptures" must map slugs to edition sizes')
    problems = []
    for slug, size in sculptures.items():
        if not is_slug(slug):
            problems.append(f"{slug!r}: not a valid slug")
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            problems.append(f"{slug}: edition size must be a positive integer, got {size!r}")
    if problems:
        raise InventoryError(f"{source}: " + "; ".join(problems))
    return dict(sculptures)


def load_inventory(path: str | Path) -> dict[str, int]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InventoryError(f"{path}: {error.strerror}") from None
    return parse_inventory(text, str(path))
