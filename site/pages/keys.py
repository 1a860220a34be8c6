"""A page's key: a digest of exactly the data its template receives, plus the code.

The freeze re-renders a page when its key changes. The key is made from the
page type's context (see registry), the same object the view renders, so a
template that starts showing a new field of a piece changes no list here: the
piece is in the context, and a piece's token covers all of it.

Tokens stand in for content models, which are large and shared by many pages:
a sculpture's is the hash of its file and its photos' variants (its model is a
function of those bytes and the code), any other model's its JSON. A photo's
token is its variant's name, which carries a hash of the photo's bytes. Plain
values are written by repr, containers item by item in their order (the order
a template shows them in). Anything else is refused: a context holding the
catalog index, an app or a function would let a template show what no key
covers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import AnyUrl
from storefront.content.index import CatalogIndex
from storefront.content.models import ContentModel, Image, Sculpture

_PLAIN = (str, int, float, Decimal, dt.date, type(None))  # bool is an int; Markup a str


class UnkeyableContext(TypeError):
    """A page's context holds something its key cannot cover."""


class Fingerprints:
    """Canonical text of page contexts for one catalog, with each shared object's text made once.

    Objects are remembered with a reference to them, so a remembered id can
    never be reused by another object while this lives (one plan).
    """

    def __init__(self, index: CatalogIndex, photo_token: Callable[[str], str]) -> None:
        self.sources = index.catalog.sources
        self.photo_token = photo_token
        self._memo: dict[int, tuple[object, str]] = {}

    def __call__(self, value: Any) -> str:
        return self._text(value, "context")

    def piece(self, piece: Sculpture) -> str:
        """What a piece is: its file's hash and its photos' variants."""
        return self._text(piece, piece.slug)

    def _text(self, value: Any, where: str) -> str:
        kind = type(value)
        if kind in _PLAIN or kind is bool:
            return repr(value)
        if isinstance(value, str):  # Markup and other str subclasses: their text
            return repr(str(value))
        known = self._memo.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        text = self._compose(value, where)
        if isinstance(value, ContentModel) or dataclasses.is_dataclass(value):
            self._memo[id(value)] = (value, text)  # shared by many pages
        return text

    def _compose(self, value: Any, where: str) -> str:
        if isinstance(value, Sculpture):
            photos = ",".join(self._text(image, where) for image in value.images)
            return f"<{value.slug}:{self.sources[value.slug]}:{photos}>"
        if isinstance(value, Image):
            return f"<{value.file}:{self.photo_token(value.file)}:{value.alt!r}>"
        if isinstance(value, ContentModel):
            # Fields left out of dumps (a slug, which is the file's name) are shown too.
            hidden = [
                self._text(getattr(value, name), f"{where}.{name}")
                for name, field in type(value).model_fields.items()
                if field.exclude
            ]
            return f"<{type(value).__name__}:{value.model_dump_json()}:{','.join(hidden)}>"
        if isinstance(value, tuple | list):
            items = ",".join([self._text(item, where) for item in value])
            return f"[{items}]"
        if isinstance(value, Mapping):
            items = ",".join(
                f"{self._text(k, where)}:{self._text(v, f'{where}.{k}')}" for k, v in value.items()
            )
            return "{" + items + "}"
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = ",".join(
                self._text(getattr(value, f.name), f"{where}.{f.name}")
                for f in dataclasses.fields(value)
            )
            return f"{type(value).__name__}({fields})"
        if isinstance(value, AnyUrl | Path):
            return repr(str(value))
        raise UnkeyableContext(
            f"{where} is a {type(value).__name__}: a page's context may hold only content "
            "models, plain values and containers of them, so that its key covers it"
        )


def page_key(code: str, endpoint: str, context_text: str) -> str:
    return hashlib.sha256(f"{code}\0{endpoint}\0{context_text}".encode()).hexdigest()[:24]
