"""Responsive image variants: AVIF, WebP and JPEG at three widths, made once.

Each variant's name carries a hash of the source bytes and of the encoding
settings, so it can be cached forever by browsers and the CDN, and so the
on-disk cache (outside build/, like Hugo's resources/_gen) can skip any image
already processed: an unchanged photo is never encoded twice. Nor is it read
again: a gallery's photos run to gigabytes, so the sources' hashes are kept
between builds and reused while a file's stat is unchanged (file_digests).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, url_for
from storefront.common.file_digests import FileDigests
from storefront.common.state_files import write_atomically
from storefront.pages.assets import send_immutable
from storefront.pages.urls import script_root

WIDTHS = (400, 800, 1200)
FORMATS = {  # extension -> (Pillow format, encoder options)
    "avif": ("AVIF", {"quality": 55, "speed": 8}),
    "webp": ("WEBP", {"quality": 78, "method": 4}),
    "jpg": ("JPEG", {"quality": 80, "optimize": True, "progressive": True}),
}
SETTINGS_VERSION = hashlib.sha256(json.dumps([WIDTHS, FORMATS], sort_keys=True).encode()).digest()
SOURCES_STATE = ".sources.stats"  # in the cache folder, never served (see variant_path)

bp = Blueprint("images", __name__)


@dataclass(frozen=True)
class Variant:
    name: str  # file name under img/
    width: int
    height: int
    ext: str


@dataclass(frozen=True)
class ResponsiveImage:
    """What a template needs to write a <picture> for one source image."""

    source: str
    width: int
    height: int
    variants: tuple[Variant, ...]

    def of(self, ext: str) -> list[Variant]:
        return [v for v in self.variants if v.ext == ext]

    @cached_property  # asked for by every card, page and search record
    def fallback(self) -> Variant:
        return self.of("jpg")[-1]


class ImagePipeline:
    """Turn content/images/* into variants, remembering what it already made."""

    def __init__(self, source_dir: Path, cache_dir: Path) -> None:
        self.source_dir = source_dir
        self.cache_dir = cache_dir
        self._known: dict[str, ResponsiveImage] = {}

    def get(self, file_name: str) -> ResponsiveImage:
        """Variants of one source image, encoding them now if the cache lacks them."""
        if file_name not in self._known:
            self._prepare([file_name], FileDigests(None))
        return self._known[file_name]

    def prepare_all(self, file_names: Iterable[str]) -> None:
        """Encode every missing variant, on all cores: a cold build's slowest step.

        The sources' digests are kept for the next build: call it once, with
        every image the build shows.
        """
        todo = sorted(set(file_names) - set(self._known))
        if todo:
            sources = FileDigests(self.cache_dir / SOURCES_STATE)
            self._prepare(todo, sources)
            sources.save()

    def _prepare(self, todo: list[str], sources: FileDigests) -> None:
        digests = sources.digests(self.source_dir, todo)
        jobs = []
        for name, digest in zip(todo, digests, strict=True):
            stem = Path(name).stem
            key = hashlib.sha256(SETTINGS_VERSION + bytes.fromhex(digest)).hexdigest()[:12]
            cached = _cached(self.cache_dir / f"{stem}-{key}.json", name)
            if cached is None:
                jobs.append((self.source_dir / name, self.cache_dir, key))
            else:
                self._known[name] = cached
        if len(jobs) > 1 and (os.cpu_count() or 1) > 1:
            with multiprocessing.get_context("fork").Pool(os.cpu_count()) as pool:
                encoded = pool.map(_encode, jobs, chunksize=1)
        else:
            encoded = [_encode(job) for job in jobs]
        self._known.update((image.source, image) for image in encoded)

    def variant_path(self, name: str) -> Path | None:
        path = self.cache_dir / name
        usable = "/" not in name and not name.startswith(".")
        return path if usable and path.is_file() else None

    def all_variants(self) -> Iterator[Variant]:
        for image in self._known.values():
            yield from image.variants


def _cached(index: Path, source: str) -> ResponsiveImage | None:
    try:
        return _from_index(json.loads(index.read_text()), source)
    except (OSError, ValueError, KeyError, TypeError):  # missing or damaged: encode again
        return None


def _encode(job: tuple[Path, Path, str]) -> ResponsiveImage:
    """Make every variant of one source; `digest` names the source bytes and the settings."""
    from PIL import Image as PILImage  # only a new photo needs Pillow: a rebuild seldom does
    from PIL import ImageOps

    source, cache_dir, digest = job
    stem = source.stem
    index = cache_dir / f"{stem}-{digest}.json"
    cache_dir.mkdir(parents=True, exist_ok=True)
    with PILImage.open(source) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    variants = []
    for width in sorted({min(w, image.width) for w in WIDTHS}):
        height = round(image.height * width / image.width)
        resized = image.resize((width, height), PILImage.Resampling.LANCZOS)
        for ext, (fmt, options) in FORMATS.items():
            name = f"{stem}-{digest}-{width}.{ext}"
            temporary = cache_dir / f".{name}.{os.getpid()}"
            resized.save(temporary, fmt, **options)
            temporary.replace(cache_dir / name)
            variants.append({"name": name, "width": width, "height": height, "ext": ext})
    record = {"width": image.width, "height": image.height, "variants": variants}
    write_atomically(index, json.dumps(record).encode())
    return _from_index(record, source.name)


def _from_index(record: dict, source: str) -> ResponsiveImage:
    variants = tuple(Variant(**v) for v in record["variants"])
    return ResponsiveImage(source, record["width"], record["height"], variants)


def init_app(app: Flask) -> None:
    app.extensions["images"] = ImagePipeline(
        app.config["CONTENT_DIR"] / "images", app.config["IMAGE_CACHE_DIR"]
    )
    app.register_blueprint(bp)
    app.jinja_env.globals["responsive_image"] = responsive_image
    app.jinja_env.globals["image_url"] = image_url


def pipeline() -> ImagePipeline:
    return current_app.extensions["images"]


def responsive_image(file_name: str) -> ResponsiveImage:
    return pipeline().get(file_name)


_url_prefixes: dict[str, str] = {}


def image_url(variant: Variant) -> str:
    """URL of a variant; url_for once per app root, then a string join (hot path)."""
    return image_url_prefix() + variant.name


def image_url_prefix() -> str:
    """What every variant's URL starts with under the current app root.

    Variant names are hashes, digits, '-' and '.', which a URL needs no
    escaping for, so a variant's URL is this prefix and its name.
    """
    root = script_root()
    prefix = _url_prefixes.get(root)
    if prefix is None:
        prefix = _url_prefixes[root] = url_for("images.variant", name="x")[:-1]
    return prefix


def variant_urls() -> Iterator[tuple[str, dict[str, str]]]:
    for variant in sorted(pipeline().all_variants(), key=lambda v: v.name):
        yield "images.variant", {"name": variant.name}


@bp.route("/img/<name>")
def variant(name: str) -> Response:
    return send_immutable(pipeline().variant_path(name))
