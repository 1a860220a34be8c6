"""Jinja filters for content: Markdown and pt-BR numbers and prices."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency, format_decimal
from flask import Flask
from markdown_it import MarkdownIt
from markupsafe import Markup

# Editors write Markdown, never raw HTML: html=False escapes any tag they type.
_markdown = MarkdownIt("commonmark", {"html": False, "typographer": True})


@lru_cache(maxsize=4096)
def markdown(text: str) -> Markup:
    return Markup(_markdown.render(text))


def locale_of(language: str) -> str:
    return language.replace("-", "_")


def init_app(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = markdown
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["number"] = number


@lru_cache(maxsize=65536)
def money(amount: Decimal, currency: str, language: str = "pt-BR") -> str:
    return format_currency(amount, currency, locale=locale_of(language))


@lru_cache(maxsize=65536)
def number(value: Decimal, language: str = "pt-BR") -> str:
    return format_decimal(value, locale=locale_of(language))
