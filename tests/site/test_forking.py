"""The freeze's heap helpers: collection paused and resumed, forks that share the catalog."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from storefront.forking import collector_paused, shared_heap


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
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collection_resumes_after_an_error() -> None:
    gc.enable()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("conteúdo inválido")
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_the_heap_is_frozen_only_around_the_fork() -> None:
    catalog = [{"slug": f"peca-{n}"} for n in range(1000)]
    with shared_heap():
        assert gc.get_freeze_count() >= len(catalog)
    assert gc.get_freeze_count() == 0
