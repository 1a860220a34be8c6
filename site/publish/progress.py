"""Files and bytes done out of the total: one refreshed line on a terminal, a few lines in CI."""

from __future__ import annotations

import threading
from typing import IO


class Progress:
    """Files and bytes done out of the total, on one refreshed line (or a few lines)."""

    def __init__(self, stream: IO[str] | None = None, label: str = "publish") -> None:
        self.stream = stream
        self.label = label
        self.tty = bool(stream and stream.isatty())
        self._lock = threading.Lock()
        self.files = self.bytes = self.total_files = self.total_bytes = 0
        self._last_tenth = -1

    def start(self, files: int, size: int) -> None:
        self.total_files, self.total_bytes = files, size
        self.files = self.bytes = 0
        self._last_tenth = -1
        self._show()

    def advance(self, size: int) -> None:
        with self._lock:
            self.files += 1
            self.bytes += size
            self._show()

    def _show(self) -> None:
        if not self.stream or not self.total_files:
            return
        done = self.files == self.total_files
        line = (
            f"{self.label}: {self.files}/{self.total_files} files, "
            f"{_size(self.bytes)}/{_size(self.total_bytes)} uploaded"
        )
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done else ""))
        else:
            tenth = self.files * 10 // self.total_files
            if tenth == self._last_tenth:
                return
            self._last_tenth = tenth
            self.stream.write(line + "\n")
        self.stream.flush()


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")
