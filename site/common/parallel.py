"""The one way the build uses several cores: map a function over items in forked workers.

Forking is cheap on Linux and shares the parent's catalog with the workers
copy-on-write (see heap), but a pool still costs tens of milliseconds to start
and each item's result must come back through a pipe. So every stage states
what an item costs, and one policy decides: fork when the work would take this
process at least MIN_PARALLEL_SECONDS, there are two cores to share it, and
the platform forks safely (only Linux: macOS's system libraries are not
fork-safe and Windows cannot fork).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from storefront.common.heap import shared_heap

T = TypeVar("T")
R = TypeVar("R")

MIN_PARALLEL_SECONDS = 0.2
_TASK: Callable[[Any], Any] | None = None  # what forked workers call: inherited, never pickled


def can_fork() -> bool:
    """Whether this platform may fork a process that goes on running Python."""
    return sys.platform == "linux"


def cpu_count() -> int:
    """The cores this process may run on (a container or taskset may allow fewer)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worth_forking(items: int, item_seconds: float, workers: int | None = None) -> bool:
    """The policy: enough work, more than one core, a platform that forks."""
    workers = cpu_count() if workers is None else workers
    enough = items > 1 and items * item_seconds >= MIN_PARALLEL_SECONDS
    return enough and workers > 1 and can_fork()


def fork_map(
    function: Callable[[T], R],
    items: Iterable[T],
    *,
    item_seconds: float,
    workers: int | None = None,
) -> list[R]:
    """[function(item) for item in items], in order, on every core when it pays.

    `function` may be any callable, a closure included: workers inherit it by
    the fork. Items and results travel by pickle, in one batch per worker. An
    exception in a worker is raised here.
    """
    global _TASK
    items = list(items)
    workers = min(cpu_count() if workers is None else workers, len(items))
    if not worth_forking(len(items), item_seconds, workers):
        return [function(item) for item in items]
    _TASK = function
    try:
        with shared_heap():
            pool = multiprocessing.get_context("fork").Pool(workers)
        with pool:
            return pool.map(_call, items, chunksize=-(-len(items) // workers))
    finally:
        _TASK = None


def _call(item: Any) -> Any:
    assert _TASK is not None, "fork_map's task is set before its workers fork"
    return _TASK(item)
