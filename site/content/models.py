"""The content schema, defined once: validation and the editors' JSON Schema.

Every model is strict (YAML 1.1 reads `no` as a boolean and `2024-01-02` as a
date; a strict string field refuses both instead of silently storing "False")
and frozen, so a loaded catalog cannot change under the renderer.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from babel import Locale
from babel.numbers import list_currencies
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_CURRENCIES = frozenset(list_currencies())
_COUNTRIES = frozenset(
    code for code in Locale.parse("en").territories if re.fullmatch("[A-Z]{2}", code)
)


def _this_year() -> int:
    return dt.date.today().year


def _not_in_future(year: int) -> int:
    if year > _this_year():
        raise ValueError(f"year {year} is in the future")
    return year


def _known_currency(code: str) -> str:
    if code not in _CURRENCIES:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code (for example BRL, USD, EUR)")
    return code


def _known_country(code: str) -> str:
    if code not in _COUNTRIES:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code (for example BR)")
    return code


def _to_decimal(value: Any) -> Any:
    """Accept YAML numbers as exact decimals; leave anything else for the type check."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str):
        raise ValueError(f"must be a number, not the text {value!r}")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
Year = Annotated[int, Field(ge=1000), AfterValidator(_not_in_future)]
Currency = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    AfterValidator(_known_currency),
]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), AfterValidator(_known_country)]
PositiveAmount = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    Field(gt=0, max_digits=12, decimal_places=2),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "multipleOf": 0.01}),
]
ImageFile = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*\.(jpg|jpeg|png|webp)$")
]
Measure = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    Field(gt=0, le=100_000),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0}),
]


class ContentModel(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="forbid", str_strip_whitespace=True)


class Status(StrEnum):
    PUBLISHED = "published"
    DRAFT = "draft"
    ARCHIVED = "archived"


class Price(ContentModel):
    amount: PositiveAmount = Field(description="Price in the currency's main unit, e.g. 4800.00.")
    currency: Currency = Field(description="ISO 4217 code; must be the store's currency.")


class Dimensions(ContentModel):
    """Outer dimensions in centimetres."""

    height_cm: Measure
    width_cm: Measure
    depth_cm: Measure


class Image(ContentModel):
    file: ImageFile = Field(description="File name inside content/images/.")
    alt: Text = Field(description="What the image shows, for people who cannot see it.")


class Address(ContentModel):
    street: Text
    city: Text
    state: Text
    postal_code: Text
    country: Country


class Contact(ContentModel):
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    phone: Text
    address: Address
    opening_hours: Text | None = None
    instagram: HttpUrl | None = None


class SiteConfig(ContentModel):
    """content/site.yaml: the store itself."""

    name: Text
    tagline: Text
    description: Text = Field(description="One or two sentences for search engines and previews.")
    base_url: HttpUrl = Field(
        description="Public URL of the site root, may include a path prefix; ends with '/'."
    )
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] = Field(
        description="BCP 47 language tag, e.g. pt-BR."
    )
    currency: Currency
    contact: Contact
    about: Text = Field(description="About page, in Markdown.")
    page_size: Annotated[int, Field(ge=1, le=200)] = Field(
        default=24, description="Sculptures per catalog page."
    )

    @field_validator("base_url")
    @classmethod
    def _ends_with_slash(cls, url: HttpUrl) -> HttpUrl:
        if not str(url).endswith("/"):
            raise ValueError("base_url must end with '/'")
        if url.query or url.fragment:
            raise ValueError("base_url must not have a query or fragment")
        return url


class Artist(ContentModel):
    """content/artists/<slug>.yaml."""

    slug: SkipJsonSchema[str] = Field(default="", exclude=True)
    name: Text
    bio: Text = Field(description="Short biography, in Markdown.")
    country: Country = Field(description="ISO 3166-1 alpha-2 code, e.g. BR.")
    birth_year: Year
    website: HttpUrl | None = None


class Sculpture(ContentModel):
    """content/sculptures/<slug>.yaml."""

    slug: SkipJsonSchema[str] = Field(default="", exclude=True)
    title: Text
    artist: Slug = Field(description="Slug of a file in content/artists/.")
    year: Year
    status: Status = Field(strict=False, description="Only published pieces appear on the site.")
    featured: bool = Field(default=False, description="Shown on the home page.")
    added_on: dt.date = Field(
        strict=False, description="When the piece entered the catalog (YYYY-MM-DD)."
    )
    materials: tuple[Text, ...] = Field(min_length=1)
    dimensions: Dimensions
    weight_kg: Measure
    price: Price
    edition_size: Annotated[int, Field(ge=1, le=10_000)] = Field(
        description="Number of casts or copies; 1 for a unique piece."
    )
    tags: tuple[Text, ...] = ()
    description: Text = Field(description="In Markdown.")
    images: tuple[Image, ...] = Field(min_length=1)

    @field_validator("materials", "tags")
    @classmethod
    def _unique(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        seen = set()
        for value in values:
            if value.casefold() in seen:
                raise ValueError(f"{value!r} is listed twice")
            seen.add(value.casefold())
        return values

    @property
    def is_published(self) -> bool:
        return self.status is Status.PUBLISHED


FILE_KINDS: dict[str, type[ContentModel]] = {
    "site": SiteConfig,
    "artist": Artist,
    "sculpture": Sculpture,
}
