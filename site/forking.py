"""Forked workers that share the parent's catalog instead of copying it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def shared_heap() -> Iterator[None]:
    """Fork inside this block so children do not copy the parent's objects.

    A forked child shares the parent's memory until it writes to it, and the
    cyclic garbage collector writes to every object it scans. Freezing the
    heap before the fork keeps those objects out of the children's
    collections, so ten thousand models stay shared, not copied once per
    worker; the parent's own collections resume when the block ends.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
