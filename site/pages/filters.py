"""Jinja filters for content: Markdown and pt-BR numbers and prices.

Prices and measures are formatted by babel's CLDR patterns. Calling babel for
every distinct value costs tens of microseconds (locale lookup, pattern and
symbol lookups on each call), and a large catalog has thousands of distinct
prices, so the pattern and symbols are read from babel once per (locale,
currency) and applied with the same decimal arithmetic babel uses. Anything
the fast path does not cover goes to babel itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from babel import Locale
from babel.numbers import (
    NumberPattern,
    format_currency,
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
)
from flask import Flask
from markupsafe import Markup

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


# Editors write Markdown, never raw HTML: html=False escapes any tag they type.
@cache
def _renderer() -> MarkdownIt:
    """Made when text is first rendered: a rebuild finds most HTML in markdown_cache."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "typographer": True})


Number = Decimal | int | float


# text -> its HTML. Filled by markdown_cache.prerender before a freeze renders
# pages, so the workers it forks share it; bounded for long-lived previews.
_RENDERED: dict[str, str] = {}
_MAX_RENDERED = 50_000


def markdown(text: str) -> Markup:
    html = _RENDERED.get(text)
    if html is None:
        if len(_RENDERED) >= _MAX_RENDERED:
            _RENDERED.clear()
        html = _RENDERED[text] = render_markdown(text)
    return Markup(html)


def render_markdown(text: str) -> str:
    """Markdown to HTML, without the memo: about 150 µs for a two-paragraph description."""
    return _renderer().render(text)


def remember_markdown(rendered: dict[str, str], texts: set[str]) -> None:
    """Take HTML rendered elsewhere (the cache kept between builds) for these texts."""
    if len(_RENDERED) + len(texts) >= _MAX_RENDERED:
        _RENDERED.clear()
    _RENDERED.update((text, html) for text, html in rendered.items() if text in texts)


def locale_of(language: str) -> str:
    return language.replace("-", "_")


def init_app(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = markdown
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["number"] = number


def money(amount: Number, currency: str, language: str = "pt-BR") -> str:
    """A price as babel's format_currency writes it, e.g. 'R$\xa01.234,50'."""
    amount = _as_decimal(amount)
    fast = _currency_format(currency, language)
    if fast is None or not amount.is_finite():
        return format_currency(amount, currency, locale=locale_of(language))
    return fast.apply(amount)


def number(value: Number, language: str = "pt-BR") -> str:
    """A measure as babel's format_decimal writes it, e.g. '1.234,5'."""
    value = _as_decimal(value)
    fast = _decimal_format(language)
    if fast is None or not value.is_finite():
        return format_decimal(value, locale=locale_of(language))
    return fast.apply(value)


def _as_decimal(value: Number) -> Decimal:
    """The exact Decimal babel would make of the value (it goes through str)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


@dataclass(frozen=True)
class FastNumberFormat:
    """A CLDR number pattern with its symbols resolved, for the common case only.

    `apply` repeats NumberPattern.apply's arithmetic step for step (normalize,
    quantize to the fraction precision, trim optional zeros), so its output is
    babel's, but without looking up the locale, pattern and symbols per call.
    """

    prefixes: tuple[str, str]  # (positive, negative)
    suffixes: tuple[str, str]
    separators: dict[int, str]  # str.translate table: Python's ',' and '.' -> locale's
    quantum: Decimal
    min_fraction: int

    def apply(self, value: Decimal) -> str:
        negative = int(value.is_signed())
        rounded = abs(value).normalize().quantize(self.quantum)
        integer, _, fraction = f"{rounded:,f}".partition(".")
        fraction = fraction[: self.min_fraction] + fraction[self.min_fraction :].rstrip("0")
        text = integer + "." + fraction if fraction else integer
        return self.prefixes[negative] + text.translate(self.separators) + self.suffixes[negative]


@lru_cache(maxsize=64)
def _currency_format(currency: str, language: str) -> FastNumberFormat | None:
    locale = Locale.parse(locale_of(language))
    pattern = locale.currency_formats["standard"]
    precision = get_currency_precision(currency)
    symbol = get_currency_symbol(currency, locale)
    return _fast_format(pattern, locale, (precision, precision), symbol)


@lru_cache(maxsize=64)
def _decimal_format(language: str) -> FastNumberFormat | None:
    locale = Locale.parse(locale_of(language))
    pattern = locale.decimal_formats[None]
    return _fast_format(pattern, locale, pattern.frac_prec, None)


def _fast_format(
    pattern: NumberPattern, locale: Locale, fraction: tuple[int, int], symbol: str | None
) -> FastNumberFormat | None:
    """The fast form of a pattern, or None when it needs babel's general code.

    Covered: plain patterns grouped by threes (as pt-BR and en-US are), at most
    one mandatory integer digit, a single currency sign and no quoted text.
    """
    group = get_group_symbol(locale, numbering_system="latn")
    decimal = get_decimal_symbol(locale, numbering_system="latn")
    affixes = (*pattern.prefix, *pattern.suffix)
    if (
        pattern.exp_prec
        or pattern.scale
        or "@" in pattern.pattern
        or pattern.number_pattern == ""
        or pattern.grouping != (3, 3)
        or pattern.int_prec[0] > 1
        or any("'" in text or "¤¤" in text for text in (*affixes, group, decimal, symbol or ""))
        or (symbol is None and any("¤" in text for text in affixes))
    ):
        return None

    def resolve(affix: str) -> str:
        return affix.replace("¤", symbol) if symbol is not None else affix

    return FastNumberFormat(
        prefixes=(resolve(pattern.prefix[0]), resolve(pattern.prefix[1])),
        suffixes=(resolve(pattern.suffix[0]), resolve(pattern.suffix[1])),
        separators=str.maketrans({",": group, ".": decimal}),
        quantum=Decimal(1).scaleb(-fraction[1]),
        min_fraction=fraction[0],
    )
