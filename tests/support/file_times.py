"""File times in tests: the file system's clock is coarser than the tests' pace."""

from __future__ import annotations

import time


def settle() -> None:
    """Let the file system's clock tick past the last write."""
    time.sleep(0.05)
