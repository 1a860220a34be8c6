"""The fast paths of page rendering give exactly what the slow, obvious code gives."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import flask
import pytest
from babel.numbers import format_currency, format_decimal
from flask import Flask
from hypothesis import example, given, settings
from hypothesis import strategies as st
from storefront.content import current as content
from storefront.content.index import Page
from storefront.pages import fragments
from storefront.pages.filters import locale_of, money, number
from storefront.pages.template_helpers import pagination_window
from storefront.pages.urls import url_for
from support.site_build import site_app

CURRENCIES = [("pt-BR", "BRL"), ("en-US", "USD"), ("en-US", "JPY"), ("pt-BR", "EUR")]
LANGUAGES = ["pt-BR", "en-US", "de-CH", "en-IN"]  # en-IN groups by two: babel's own path

# Prices and measures as content has them, and the edges: zero, negative, huge, long fractions.
amounts = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**15), max_value=10**15),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=0, max_value=10**12),
    st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-1000, max_value=1000),
    st.integers(min_value=-(10**18), max_value=10**18),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
)
EDGES = [Decimal(0), Decimal("-0"), Decimal("0.005"), Decimal("0.015"), Decimal("-0.004")]


@settings(max_examples=400, deadline=None)
@given(amount=amounts, pair=st.sampled_from(CURRENCIES))
@example(amount=Decimal("1234567.895"), pair=("pt-BR", "BRL"))
@example(amount=Decimal("-0.5"), pair=("en-US", "USD"))
@example(amount=Decimal("1E+20"), pair=("pt-BR", "BRL"))
def test_money_is_babels_format_currency(amount: Decimal, pair: tuple[str, str]) -> None:
    language, currency = pair
    assert money(amount, currency, language) == format_currency(
        amount, currency, locale=locale_of(language)
    )


@settings(max_examples=400, deadline=None)
@given(value=amounts, language=st.sampled_from(LANGUAGES))
@example(value=Decimal("12.3450"), language="pt-BR")
@example(value=Decimal("0.0004"), language="pt-BR")
@example(value=Decimal("-1E+3"), language="en-US")
def test_number_is_babels_format_decimal(value: Decimal, language: str) -> None:
    assert number(value, language) == format_decimal(value, locale=locale_of(language))


@pytest.mark.parametrize("value", [*EDGES, Decimal("Infinity"), Decimal("-Infinity")])
@pytest.mark.parametrize("language", ["pt-BR", "en-US"])
def test_edge_values_match_babel(value: Decimal, language: str) -> None:
    locale = locale_of(language)
    assert money(value, "BRL", language) == format_currency(value, "BRL", locale=locale)
    assert number(value, language) == format_decimal(value, locale=locale)


@pytest.mark.parametrize("total", range(1, 30))
def test_pagination_window_keeps_every_number_the_pagination_shows(total: int) -> None:
    for current in range(1, total + 1):
        shown = [n for n in range(1, total + 1) if n in (1, total) or abs(n - current) <= 3]
        assert pagination_window(Page(current, total, ())) == shown


@pytest.fixture
def app(content_dir: Path, tmp_path: Path) -> Flask:
    return site_app(content_dir, tmp_path)


def test_url_for_matches_flask_under_any_app_root(app: Flask) -> None:
    calls = [
        ("pages.home", {}),
        ("pages.catalog", {"page": 2}),
        ("pages.tag", {"slug": "abstrato", "page": 1}),
        ("pages.sculpture", {"slug": "onda"}),
        ("pages.sculpture", {"slug": "onda", "extra": "sim"}),
        ("pages.catalog", {"page": 1, "_anchor": "topo"}),
        ("pages.home", {"_external": True}),
    ]
    for _ in range(2):  # the second round is answered from the memo
        for root in ("", "/loja", "/outra/raiz", ""):
            with app.test_request_context("/", base_url=f"http://teste.example{root}/"):
                for endpoint, values in calls:
                    assert url_for(endpoint, **values) == flask.url_for(endpoint, **values)


def test_url_for_outside_a_request_is_flasks(app: Flask) -> None:
    app.config["SERVER_NAME"] = "teste.example"
    with app.app_context():
        assert url_for("pages.home") == "http://teste.example/"


def test_live_preview_pages_follow_each_requests_root(app: Flask) -> None:
    """Shared fragments (header, cards) are remembered per root, never leaked across roots."""
    client = app.test_client()
    for root in ("/loja", "", "/outra", "/loja"):
        html = client.get("/esculturas/", base_url=f"http://teste.example{root}/").text
        links = re.findall(r'(?:href|src|action)="(/[^"]*)"', html)
        for srcset in re.findall(r'srcset="([^"]+)"', html):
            links += [part.split(" ")[0] for part in srcset.split(", ")]
        assert any("/img/" in link for link in links), html
        assert all(link.startswith(f"{root}/") for link in links), (root, links)
        assert f'<a class="brand" href="{root}/">' in html
        assert f'<a href="{root}/esculturas/vela/">' in html  # a card


def test_a_reloaded_catalog_never_shows_the_old_cards(app: Flask, content_dir: Path) -> None:
    client = app.test_client()
    with app.app_context():
        content.load(app)
    assert ">Onda<" in client.get("/artistas/ana-lima/").text
    sculpture = content_dir / "sculptures" / "onda.yaml"
    sculpture.write_text(sculpture.read_text().replace("title: Onda", "title: Maré"))
    with app.app_context():
        content.load(app)
    html = client.get("/artistas/ana-lima/").text
    assert ">Maré<" in html
    assert ">Onda<" not in html


def test_a_memo_starts_afresh_for_a_new_owner() -> None:
    memo = fragments.OwnedMemo()
    first, second = object(), object()
    memo.entries(first)["card"] = fragments.Markup("<li>old</li>")
    assert memo.entries(first) == {"card": "<li>old</li>"}
    assert memo.entries(second) == {}


@pytest.mark.parametrize(("level", "eager"), [(2, False), (3, False), (2, True), (3, True)])
def test_every_form_of_a_card_is_what_its_macro_renders(
    app: Flask, level: int, eager: bool
) -> None:
    with app.test_request_context("/", base_url="http://teste.example/loja/"):
        index = content.load(app)
        render = fragments.macro("_card.html", "sculpture_card")
        for piece in index.published:
            fragments.card(piece, index)  # the base form, which the others are made from
            expected = render(piece, level, eager, index, index.site)
            assert fragments.card(piece, index, level, eager) == expected
