"""The freeze's heap helpers: collection paused, long-lived objects frozen, forks that share."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from storefront.common.heap import collector_paused, heap_released_at_end, shared_heap


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_collection_is_paused_inside_and_resumes_after() -> None:
    gc.enable()
    with heap_released_at_end(), collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collection_resumes_after_an_error() -> None:
    gc.enable()
    with pytest.raises(ValueError), heap_released_at_end(), collector_paused():
        raise ValueError("conteúdo inválido")
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_collector_disabled_before_stays_disabled() -> None:
    gc.disable()
    with heap_released_at_end(), collector_paused():
        pass
    assert not gc.isenabled()


def test_what_a_pause_made_is_frozen_until_the_freeze_ends() -> None:
    """No deferred collection scans it when collection resumes, nor any later one."""
    gc.enable()
    with heap_released_at_end():
        with collector_paused():
            catalog = [{"slug": f"peca-{n}"} for n in range(1000)]
        assert gc.get_freeze_count() >= len(catalog)
        assert gc.get_count()[0] < 100  # the young generation starts afresh
    assert gc.get_freeze_count() == 0


def test_the_heap_is_frozen_for_forks_until_the_freeze_ends() -> None:
    with heap_released_at_end():
        catalog = [{"slug": f"peca-{n}"} for n in range(1000)]
        with shared_heap():
            assert gc.get_freeze_count() >= len(catalog)
        assert gc.get_freeze_count() >= len(catalog)
    assert gc.get_freeze_count() == 0
