"""The heap of a freeze: workers share the parent's catalog, and the collector leaves it be.

A freeze builds a few hundred thousand objects (models, their dicts and
tuples, the plan) that live until it ends. The cyclic collector would scan
them again and again for nothing, and a child forked from the parent would
copy every page the collector writes to. So the collector is paused while
they are made, and they are then frozen (moved to the collector's permanent
generation) until the freeze ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def heap_released_at_end() -> Iterator[None]:
    """The whole freeze: whatever was frozen inside goes back to the collector at the end."""
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Build many long-lived objects without the cyclic collector rescanning them.

    Loading a catalog of 10,000 sculptures makes a few hundred thousand
    containers; each time the youngest generation fills, the collector runs,
    and every few runs it scans the whole growing heap: that was over half the
    load (1.0 s, 0.45 s with collection paused). When the block ends, what it
    made is frozen before collection resumes: the pause has deferred the
    youngest generation's collection, which would otherwise scan all of it at
    once (0.1 s after a one-edit rebuild's load). Use inside
    heap_released_at_end().
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@contextmanager
def shared_heap() -> Iterator[None]:
    """Fork inside this block so children do not copy the parent's objects.

    A forked child shares the parent's memory until it writes to it, and the
    cyclic garbage collector writes to every object it scans. Freezing the
    heap before the fork keeps those objects out of the children's
    collections, so ten thousand models stay shared, not copied once per
    worker. They stay frozen in the parent too, until heap_released_at_end()
    ends.
    """
    gc.freeze()
    yield
