"""A page's key: a digest of exactly the data its template receives, plus the code.

The freeze re-renders a page when its key changes. The key is made from the
page type's context (see registry), the same object the view renders, so a
template that starts showing a new field of a piece changes no list here: the
piece is in the context, and a piece's token covers all of it.

Tokens stand in for content models, which are large and shared by many pages:
a sculpture's is the hash of its file and its photos' tokens (its model is a
function of those bytes and the code), a photo's its variant's name, which
carries a hash of the photo's bytes, any other model's its JSON. Plain values
and containers are written as JSON, in their order (the order a template shows
them in), by the standard library's C encoder: ten thousand pages' contexts
are written in a fraction of a second. Anything else is refused: a context
holding the catalog index, an app or a function would let a template show
what no key covers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import AnyUrl
from storefront.content.index import CatalogIndex
from storefront.content.models import ContentModel, Image, Sculpture

_SHORT = 32  # longer descriptions are hashed to 24 characters
_TOKEN = "\0"  # starts every token, so that a token cannot be taken for text a page shows


class UnkeyableContext(TypeError):
    """A page's context holds something its key cannot cover."""


class Fingerprints:
    """Canonical text of page contexts for one catalog, each shared object's token made once.

    Objects are remembered with a reference to them, so a remembered id can
    never be reused by another object while this lives (one plan).
    """

    def __init__(self, index: CatalogIndex, photo_token: Callable[[str], str]) -> None:
        self.sources = index.catalog.sources
        self.photo_token = photo_token
        self._tokens: dict[int, tuple[object, str]] = {}
        self._encode = _json_encoder(self._token)

    def __call__(self, context: Any) -> str:
        try:
            return self._encode(context)
        except UnkeyableContext as error:
            found = error.args[0]
            where = _path_to(context, found, "context") or "context"
            raise UnkeyableContext(
                f"{where} is a {type(found).__name__}: a page's context may hold only "
                "content models, plain values and containers of them, so that its key covers it"
            ) from None

    def piece(self, piece: Sculpture) -> str:
        """What a piece is: its file's hash and its photos' tokens."""
        return self._token(piece)

    def _token(self, value: Any) -> str:
        """The text that stands for a value JSON has no form of; made once per object."""
        known = self._tokens.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        text = self._describe(value)
        if len(text) > _SHORT:  # a listing's text holds the tokens of all its cards
            text = hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
        token = _TOKEN + text
        self._tokens[id(value)] = (value, token)
        return token

    def _tokens_of(self, items: Sequence[Any]) -> list[str]:
        """The tokens of many objects, most made already: the memo read inline (a hot loop)."""
        memo, found = self._tokens, []
        for item in items:
            known = memo.get(id(item))
            found.append(known[1] if known is not None and known[0] is item else self._token(item))
        return found

    def _photo(self, image: Image) -> str:
        """A photo's file, its variant's name (a hash of its bytes) and its alt text; a file
        name and a variant name hold no ':', and the alt text's length ends where it does."""
        return f"{image.file}:{self.photo_token(image.file)}:{len(image.alt)}:{image.alt}"

    def _describe(self, value: Any) -> str:
        """Text that differs whenever what a template could show of the value differs.

        Written by hand for the objects every plan has ten thousand of (a
        piece, its photos, its card): JSON would cost a third of the plan.
        """
        kind = type(value)
        if kind is Sculpture:  # its photos written inline: they are shown only with it
            photos = "".join([self._photo(image) for image in value.images])
            return f"piece:{value.slug}:{self.sources[value.slug]}:{photos}"
        if kind is Image:
            return f"photo:{self._photo(value)}"
        if isinstance(value, Sequence):  # a sequence object (not a list or tuple): a card list
            return "items:" + "".join(self._tokens_of(value))
        if isinstance(value, ContentModel):
            # Fields left out of dumps (a slug, which is the file's name) are shown too.
            hidden = {
                name: getattr(value, name)
                for name, field in type(value).model_fields.items()
                if field.exclude
            }
            return f"{type(value).__name__}:{value.model_dump_json()}:{self._encode(hidden)}"
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = [getattr(value, f.name) for f in dataclasses.fields(value)]
            return f"{kind.__name__}:{self._encode(fields)}"
        if isinstance(value, dt.date | Decimal):
            return f"{type(value).__name__}:{value}"
        if isinstance(value, AnyUrl | Path):
            return f"{type(value).__name__}:{value}"
        raise UnkeyableContext(value)


def _json_encoder(default: Callable[[Any], str]) -> Callable[[Any], str]:
    """JSON text of a value, `default` standing in for what JSON has no form of.

    The C encoder is called directly: json.JSONEncoder.encode builds a new one
    on every call, which costs as much as encoding a small context.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return json.JSONEncoder(
            ensure_ascii=False, check_circular=False, separators=(",", ":"), default=default
        ).encode
    encode = make(None, default, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    return lambda value: "".join(encode(value, 0))


def _path_to(container: Any, target: Any, where: str) -> str | None:
    """Where in a context an object is, for the error message (the slow path)."""
    if container is target:
        return where
    if isinstance(container, Mapping):
        items = [(f"{where}.{key}", value) for key, value in container.items()]
    elif isinstance(container, list | tuple):
        items = [(f"{where}[{n}]", value) for n, value in enumerate(container)]
    elif dataclasses.is_dataclass(container) and not isinstance(container, type):
        items = [
            (f"{where}.{f.name}", getattr(container, f.name)) for f in dataclasses.fields(container)
        ]
    else:
        return None
    for path, value in items:
        found = _path_to(value, target, path)
        if found is not None:
            return found
    return None


def page_key(code: str, endpoint: str, context_text: str) -> str:
    return hashlib.sha256(f"{code}\0{endpoint}\0{context_text}".encode()).hexdigest()[:24]
