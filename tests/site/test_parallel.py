"""The one parallel helper: the same results as a plain loop, on other processes when it pays."""

from __future__ import annotations

import os

import pytest
from storefront.common import parallel
from storefront.common.parallel import fork_map, worth_forking

pytestmark = pytest.mark.skipif(not parallel.can_fork(), reason="forks only where it is safe")


def test_results_come_back_in_order_from_forked_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "cpu_count", lambda: 2)
    offset = 1000  # a closure: workers inherit the function by the fork, nothing is pickled
    results = fork_map(lambda n: (n + offset, os.getpid()), range(40), item_seconds=1)
    assert [value for value, _ in results] == list(range(1000, 1040))
    assert os.getpid() not in {pid for _, pid in results}


def test_small_work_stays_in_this_process() -> None:
    results = fork_map(lambda n: os.getpid(), range(40), item_seconds=0.0001)
    assert set(results) == {os.getpid()}


def test_an_error_in_a_worker_is_raised_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "cpu_count", lambda: 2)

    def fail_on_seven(n: int) -> int:
        if n == 7:
            raise ValueError("seven is not allowed")
        return n

    with pytest.raises(ValueError, match="seven"):
        fork_map(fail_on_seven, range(10), item_seconds=1)


@pytest.mark.parametrize(
    ("items", "item_seconds", "workers", "expected"),
    [
        (1000, 0.001, 2, True),  # a second of work, two cores
        (10, 0.001, 2, False),  # 10 ms: the pool would cost more
        (1000, 0.001, 1, False),  # one core
        (1, 10.0, 2, False),  # one item cannot be shared
    ],
)
def test_one_policy_decides_when_to_fork(
    items: int, item_seconds: float, workers: int, expected: bool
) -> None:
    assert worth_forking(items, item_seconds, workers) is expected


def test_other_platforms_never_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel.sys, "platform", "darwin")
    assert not worth_forking(1000, 1.0, 2)
