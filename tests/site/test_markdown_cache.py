"""Markdown is rendered once per text and renderer, and kept between builds."""

from __future__ import annotations

from pathlib import Path

import pytest
from markupsafe import Markup
from storefront.pages import filters, markdown_cache
from support.site_build import freeze
from support.spying import record_calls

TEXTS = ["Uma *dobra* de aço.", "Dois **planos**.\n\nE um vazio."]


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts markdown-it was asked to render, in a process whose memo starts empty."""
    monkeypatch.setattr(filters, "_RENDERED", {})
    return record_calls(monkeypatch, filters, "render_markdown")


def forget_rendered(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new build is a new process: nothing rendered yet."""
    monkeypatch.setattr(filters, "_RENDERED", {})


def test_each_text_is_rendered_once_and_served_from_memory(
    renders: list[str], tmp_path: Path
) -> None:
    assert markdown_cache.prerender([*TEXTS, TEXTS[0]], tmp_path / "md.pickle") == 2
    assert sorted(renders) == sorted(TEXTS)
    assert filters.markdown(TEXTS[0]) == "<p>Uma <em>dobra</em> de aço.</p>\n"
    assert filters.markdown(TEXTS[1]).count("<p>") == 2
    assert len(renders) == 2


def test_a_rebuild_with_the_same_texts_renders_and_writes_nothing(
    renders: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "md.pickle"
    markdown_cache.prerender(TEXTS, path)
    written = path.stat().st_mtime_ns, path.read_bytes()
    forget_rendered(monkeypatch)
    renders.clear()
    assert markdown_cache.prerender(TEXTS, path) == 0
    assert renders == []
    assert filters.markdown(TEXTS[1]).startswith("<p>Dois <strong>planos</strong>")
    assert (path.stat().st_mtime_ns, path.read_bytes()) == written


def test_an_edited_text_is_rendered_alone_and_appended(
    renders: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "md.pickle"
    markdown_cache.prerender(TEXTS, path)
    before = path.read_bytes()
    forget_rendered(monkeypatch)
    renders.clear()
    edited = [TEXTS[0], "Dois planos, revistos."]
    assert markdown_cache.prerender(edited, path) == 1
    assert renders == ["Dois planos, revistos."]
    after = path.read_bytes()
    assert after.startswith(before) and len(after) > len(before)
    forget_rendered(monkeypatch)
    renders.clear()
    assert markdown_cache.prerender(edited, path) == 0


def test_texts_no_page_shows_are_dropped_once_they_pile_up(
    renders: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "md.pickle"
    old = [f"Peça antiga {n}." for n in range(100)]
    new = [f"Peça nova {n}." for n in range(100)]
    markdown_cache.prerender(old, path)
    markdown_cache.prerender(new, path)  # 100 texts no longer shown: the log is rewritten
    forget_rendered(monkeypatch)
    renders.clear()
    assert markdown_cache.prerender(new, path) == 0
    assert markdown_cache.prerender(old, path) == 100


def test_another_renderer_renders_everything_again(
    renders: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A markdown-it upgrade or new options in filters.py may change the HTML."""
    path = tmp_path / "md.pickle"
    markdown_cache.prerender(TEXTS, path)
    forget_rendered(monkeypatch)
    renders.clear()
    monkeypatch.setattr(markdown_cache, "renderer_version", lambda: "another")
    assert markdown_cache.prerender(TEXTS, path) == 2


def test_a_damaged_cache_is_only_a_slower_build(renders: list[str], tmp_path: Path) -> None:
    path = tmp_path / "md.pickle"
    path.write_bytes(b"\x80\x05not a pickle at all")
    assert markdown_cache.prerender(TEXTS, path) == 2
    assert filters.markdown(TEXTS[0]) == "<p>Uma <em>dobra</em> de aço.</p>\n"


def test_a_rebuild_after_editing_a_description_renders_only_that_description(
    content_dir: Path, tmp_path: Path, renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze(content_dir, tmp_path)
    assert renders  # the first build rendered every text
    path = content_dir / "sculptures/raiz.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("description: |\n", "description: |\n  Nova.\n\n"), "utf-8")
    forget_rendered(monkeypatch)
    renders.clear()
    freeze(content_dir, tmp_path)
    assert len(renders) == 1 and renders[0].startswith("Nova.")
    html = (tmp_path / "site/esculturas/raiz/index.html").read_text(encoding="utf-8")
    assert "<p>Nova.</p>" in html


def test_many_new_texts_are_rendered_on_every_core_to_the_same_html(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filters, "_RENDERED", {})
    monkeypatch.setattr(markdown_cache, "PARALLEL_THRESHOLD", 2)
    texts = [f"Peça *{n}*.\n\nTiragem de {n} exemplares." for n in range(50)]
    assert markdown_cache.prerender(texts, tmp_path / "md.pickle") == 50
    for text in texts:
        assert filters.markdown(text) == Markup(filters.render_markdown(text))
