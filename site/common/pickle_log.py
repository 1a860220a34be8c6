"""A dict kept between builds that a build mostly adds a little to.

The file is a log of pickle frames: a version (what the entries depend on
besides their keys, such as the code that made them), then batches of
entries. A build that made a few entries appends one small batch instead of
rewriting thousands; the log is rewritten, atomically, when it is damaged, of
another version, or holds too much that is no longer wanted. The parse cache
and the Markdown cache both keep their entries this way.
"""

from __future__ import annotations

import pickle
from collections.abc import Hashable, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from storefront.common.state_files import write_atomically


class PickleLog:
    """The entries kept at `path` for `version` (none if `path` is None, missing or foreign)."""

    def __init__(self, path: Path | None, version: str) -> None:
        self.path = path
        self.version = version
        self.entries: dict[Hashable, Any] = {}  # as read, then as saved
        self.sound = False  # a log of this version, read to its end
        if path is not None and path.is_file():
            self._read(path)

    def _read(self, path: Path) -> None:
        try:
            with path.open("rb") as log:
                if pickle.load(log) != self.version:
                    return
                while log.peek(1):
                    batch = pickle.load(log)
                    if not isinstance(batch, dict):
                        return
                    self.entries.update(batch)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
            return  # a damaged tail: the batches before it are still good
        self.sound = True

    def save(self, added: Mapping[Hashable, Any], wanted: AbstractSet[Hashable]) -> None:
        """Append `added`, or rewrite the log with what is `wanted` when that is worth it."""
        if self.path is None:
            return
        stale = len(self.entries.keys() - wanted)
        if not self.sound or stale > max(64, len(wanted) // 4):
            kept = {key: value for key, value in self.entries.items() if key in wanted}
            self.entries = {**kept, **added}
            header = pickle.dumps(self.version, protocol=pickle.HIGHEST_PROTOCOL)
            body = pickle.dumps(self.entries, protocol=pickle.HIGHEST_PROTOCOL)
            write_atomically(self.path, header + body)
            self.sound = True
        elif added:
            with self.path.open("ab") as log:
                pickle.dump(dict(added), log, protocol=pickle.HIGHEST_PROTOCOL)
            self.entries.update(added)
