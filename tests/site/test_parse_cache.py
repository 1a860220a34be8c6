"""Content parsing is cached by file content, without changing what is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from storefront.content import parsing as parse_cache
from storefront.content.catalog import load_catalog
from storefront.content.problems import ContentError
from support.spying import record_calls


def test_a_cached_load_equals_a_fresh_load(content_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "content.pickle"
    fresh = load_catalog(content_dir)
    load_catalog(content_dir, cache)
    cached = load_catalog(content_dir, cache)
    assert cached.site == fresh.site
    assert dict(cached.artists) == dict(fresh.artists)
    assert dict(cached.sculptures) == dict(fresh.sculptures)
    assert cached.sculptures["raiz"].slug == "raiz"
    with pytest.raises(ValueError, match="frozen"):
        cached.sculptures["raiz"].title = "Outra"  # type: ignore[misc]


def test_only_changed_files_are_parsed_again(
    content_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "content.pickle"
    load_catalog(content_dir, cache)
    parsed = _count_parses(monkeypatch)
    path = content_dir / "sculptures/vela.yaml"
    path.write_text(path.read_text().replace("title: Vela", "title: Vela Nova"))
    catalog = load_catalog(content_dir, cache)
    assert parsed == ["vela.yaml"]
    assert catalog.sculptures["vela"].title == "Vela Nova"


def test_a_cached_file_that_becomes_invalid_is_reported(content_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "content.pickle"
    load_catalog(content_dir, cache)
    path = content_dir / "sculptures/vela.yaml"
    path.write_text(path.read_text().replace("edition_size: 5", "edition_size: 0"))
    with pytest.raises(ContentError, match="1 content problem"):
        load_catalog(content_dir, cache)


def test_a_damaged_cache_is_only_a_slower_load(content_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "content.pickle"
    cache.write_bytes(b"not a pickle")
    assert len(load_catalog(content_dir, cache).sculptures) == 5


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return record_calls(monkeypatch, parse_cache, "validate_file", lambda path, *_: path.name)


def test_an_edit_appends_to_the_cache_instead_of_rewriting_it(
    content_dir: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "content.pickle"
    load_catalog(content_dir, cache)
    before = cache.read_bytes()
    path = content_dir / "sculptures/vela.yaml"
    path.write_text(path.read_text().replace("title: Vela", "title: Vela Nova"))
    load_catalog(content_dir, cache)
    after = cache.read_bytes()
    assert after.startswith(before) and len(after) > len(before)
    assert load_catalog(content_dir, cache).sculptures["vela"].title == "Vela Nova"


def test_a_cache_with_a_damaged_tail_keeps_what_came_before(
    content_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "content.pickle"
    load_catalog(content_dir, cache)
    path = content_dir / "sculptures/vela.yaml"
    path.write_text(path.read_text().replace("title: Vela", "title: Vela Nova"))
    load_catalog(content_dir, cache)
    cache.write_bytes(cache.read_bytes()[:-7])  # the appended batch is cut short
    parsed = _count_parses(monkeypatch)
    assert load_catalog(content_dir, cache).sculptures["vela"].title == "Vela Nova"
    assert parsed == ["vela.yaml"]
    parsed.clear()
    load_catalog(content_dir, cache)  # the damaged log was rewritten whole
    assert parsed == []
