"""Files the build keeps for itself (manifests, caches): written whole or not at all."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary file beside `path`, then rename it over `path`.

    A reader, or the next build after an interrupted one, sees the old bytes or
    the new, never half of them. The temporary name carries the process id, as
    forked workers may write the same cache at once.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object the build wrote earlier; {} when missing or damaged (a slower build)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomically(path, json.dumps(data, sort_keys=True, ensure_ascii=False).encode())
