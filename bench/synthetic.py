"""Deterministic synthetic catalogs for benchmarks: N sculptures, like the sample.

The same (sculptures, seed, distinct photos) always writes byte-identical files,
so timings and upload counts from different runs compare like with like.

Images: by default the sample catalog's own 15, reused in rotation, one per
piece (an image pipeline caches by content hash, so a benchmark measures the
page build, not repeated encoding). That hides what a real gallery costs, where
every photo is different: `--distinct-photos N` renders N distinct photos
(deterministic still lifes drawn by scripts/render_sample_images.py's renderer,
each from its own recipe) and gives every piece two of them in rotation, as a
gallery with a detail shot per piece has. Rendered photos are kept in
`.cache/synthetic-photos/` (they take ~0.2 s each to draw), so a second catalog
with the same photos costs only the copies.

Usage: python bench/synthetic.py DEST [--sculptures N] [--seed S] [--distinct-photos N]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE = PROJECT / "content"
PHOTO_CACHE = PROJECT / ".cache" / "synthetic-photos"
RENDERER = PROJECT / "scripts" / "render_sample_images.py"
PAGE_SIZE = 24  # the sample's 12 suits 14 pieces; a large catalog lists 24 a page

_FIRST = ["Ana", "Bruno", "Carla", "Diego", "Elisa", "Fábio", "Gabriela", "Hugo", "Íris", "João"]
_LAST = ["Almeida", "Barbosa", "Cardoso", "Duarte", "Esteves", "Ferraz", "Gomes", "Leal", "Moura"]
_WORDS = [
    "Aurora", "Brisa", "Cais", "Duna", "Eco", "Fenda", "Grão", "Horizonte", "Ilha", "Jangada",
    "Laço", "Maré", "Nó", "Onda", "Pedra", "Quilha", "Raiz", "Sombra", "Trama", "Vento",
]  # fmt: skip
_MATERIALS = [
    "bronze", "pedra-sabão", "mármore", "granito", "madeira de jaqueira", "ipê", "peroba",
    "cerâmica", "aço corten", "aço inox", "latão", "vidro fundido", "resina", "concreto",
    "ferro fundido", "alumínio", "cobre", "terracota", "basalto", "arenito", "bambu",
    "fibra de vidro", "gesso", "cera", "papel machê",
]  # fmt: skip
_TAGS = [
    "abstrato", "figurativo", "geométrico", "orgânico", "paisagem", "figura feminina",
    "figura masculina", "animais", "arte sacra", "orixás", "cotidiano", "pequeno formato",
    "grande formato", "área externa", "presente", "translúcido", "movimento", "peça única",
    "minimalista", "brutalista", "cinético", "relevo", "totem", "máscara", "fauna brasileira",
    "flora", "mar", "sertão", "cidade", "memória", "infância", "trabalho", "dança", "música",
    "retrato", "corpo", "vazio", "equilíbrio", "tempo", "luz",
]  # fmt: skip


def _images() -> list[str]:
    return sorted(p.name for p in (SAMPLE / "images").glob("*.jpg"))


def _renderer():  # scripts/ is not a package: load the sample images' renderer by path
    spec = importlib.util.spec_from_file_location("render_sample_images", RENDERER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_SHAPES = ("figure", "acrobat", "seated", "niche", "column", "band", "blade", "seed", "vessel",
           "planes", "bird", "detail", "waves", "cylinder")  # fmt: skip


def photo_name(index: int) -> str:
    return f"foto-{index:05d}.jpg"


def _render_photo(index: int) -> Path:
    """Photo `index`: a recipe of its own (shape, colours, wall tint, jitter), drawn once."""
    target = PHOTO_CACHE / photo_name(index)
    if target.exists():
        return target
    renderer = _renderer()
    rng = random.Random(f"photo-{index}")
    base = tuple(rng.randint(40, 200) for _ in range(3))
    light = tuple(min(255, channel + rng.randint(40, 90)) for channel in base)
    name = target.stem
    renderer.RECIPES[name] = (_SHAPES[index % len(_SHAPES)], base, light, rng.randint(-12, 14))
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    renderer.render(name).save(temporary, "JPEG", quality=80, optimize=True, progressive=True)
    temporary.replace(target)
    return target


def render_photos(count: int, dest: Path) -> list[str]:
    """Copy `count` distinct photos into dest (drawing those not cached yet, on every core)."""
    PHOTO_CACHE.mkdir(parents=True, exist_ok=True)
    dest.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor() as pool:
        sources = list(pool.map(_render_photo, range(count), chunksize=8))
    for source in sources:
        shutil.copy2(source, dest / source.name)
    return [source.name for source in sources]


def generate_catalog(dest: Path, sculptures: int, seed: int = 1, distinct_photos: int = 0) -> None:
    """Write a complete content/ folder with `sculptures` pieces into dest.

    `distinct_photos`: 0 reuses the sample's images (one per piece); N > 0 renders N
    distinct photos and gives each piece two of them (piece i: photos 2i and 2i+1,
    modulo N).
    """
    rng = random.Random(seed)
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "artists").mkdir(parents=True)
    (dest / "sculptures").mkdir()
    (dest / "schema").mkdir()
    if distinct_photos:
        photos = render_photos(distinct_photos, dest / "images")
    else:
        shutil.copytree(SAMPLE / "images", dest / "images")
    for schema in (SAMPLE / "schema").glob("*.json"):
        shutil.copy2(schema, dest / "schema" / schema.name)
    site = (SAMPLE / "site.yaml").read_text(encoding="utf-8")
    (dest / "site.yaml").write_text(
        site.replace("page_size: 12", f"page_size: {PAGE_SIZE}"), encoding="utf-8"
    )
    artist_count = max(4, sculptures // 40)
    artists = [f"artista-{i:04d}" for i in range(artist_count)]
    for i, slug in enumerate(artists):
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)} {i}"
        (dest / "artists" / f"{slug}.yaml").write_text(
            "# yaml-language-server: $schema=../schema/artist.schema.json\n"
            f"name: {name}\ncountry: BR\nbirth_year: {rng.randint(1940, 1995)}\n"
            f"bio: |\n  {name} vive e trabalha no Brasil. Escultora e escultor de ateliê.\n",
            encoding="utf-8",
        )
    sample = _images()
    for i in range(sculptures):
        if distinct_photos:
            images = [photos[(2 * i) % len(photos)], photos[(2 * i + 1) % len(photos)]]
        else:
            images = [sample[i % len(sample)]]
        _write_sculpture(dest, i, rng, artists, images)


_SURFACES = [
    "superfícies polidas que alternam com texturas de fundição",
    "marcas de formão deixadas à vista",
    "uma pátina escura aplicada a quente",
    "veios naturais que orientam o desenho",
    "arestas vivas e planos que se cruzam",
    "curvas contínuas, sem juntas aparentes",
]
_SETTINGS = [
    "Pede luz lateral, que revela o relevo ao longo do dia.",
    "Resiste ao tempo em áreas externas cobertas.",
    "Foi pensada para ser vista de todos os lados.",
    "Dialoga com a arquitetura de espaços amplos.",
    "Cabe numa estante ou numa mesa de centro.",
]


def _description(rng: random.Random, title: str, materials: str, edition: int) -> str:
    """Two paragraphs of Markdown, about as long as the sample's and distinct for each piece.

    Real descriptions are all different; a synthetic catalog whose pieces
    shared a few would let a cache of rendered Markdown hide that cost.
    """
    months = rng.randint(2, 18)
    first = (
        f"*{title}* nasceu de estudos em {materials}, com {rng.choice(_SURFACES)}, "
        f"ao longo de {months} meses de ateliê. {rng.choice(_SETTINGS)}"
    )
    copies = "peça única" if edition == 1 else f"tiragem de {edition} exemplares"
    second = f"**{copies.capitalize()}**, com certificado de autenticidade assinado."
    return first + "\n\n  " + second


def _alt(n: int, count: int, title: str) -> str:
    if count == 1:
        return f"Fotografia de {title} sobre pedestal branco."
    return f"Fotografia {n + 1} de {title} sobre pedestal branco."


def _write_sculpture(
    dest: Path, i: int, rng: random.Random, artists: list[str], images: list[str]
) -> None:
    title = f"{rng.choice(_WORDS)} {rng.choice(_WORDS).lower()} {i}"
    slug = f"peca-{i:05d}"
    materials = ", ".join(rng.sample(_MATERIALS, rng.randint(1, 2)))
    tags = ", ".join(rng.sample(_TAGS, rng.randint(2, 3)))
    edition = rng.choice([1, 1, 1, 3, 5, 8, 12])
    status = "draft" if i % 97 == 13 else "published"
    shots = "".join(
        f"  - file: {image}\n    alt: {_alt(n, len(images), title)}\n"
        for n, image in enumerate(dict.fromkeys(images))
    )
    text = f"""# yaml-language-server: $schema=../schema/sculpture.schema.json
title: {title}
artist: {artists[i % len(artists)]}
year: {rng.randint(1996, 2025)}
status: {status}
featured: {"true" if i % 500 == 7 else "false"}
added_on: {2020 + i % 6}-{1 + i % 12:02d}-{1 + i % 28:02d}
materials: [{materials}]
dimensions: {{height_cm: {rng.randint(10, 200)}, width_cm: {rng.randint(10, 120)}, depth_cm: {rng.randint(5, 80)}}}
weight_kg: {rng.randint(1, 900) / 10}
price: {{amount: {rng.randint(80, 9000) * 10}.00, currency: BRL}}
edition_size: {edition}
tags: [{tags}]
description: |
  {_description(rng, title, materials, edition)}
images:
{shots}"""  # noqa: E501
    (dest / "sculptures" / f"{slug}.yaml").write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--sculptures", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--distinct-photos",
        type=int,
        default=0,
        metavar="N",
        help="Render N distinct photos, two per piece (default: reuse the sample's 15).",
    )
    args = parser.parse_args()
    if args.distinct_photos < 0:
        parser.error("--distinct-photos must be 0 or more")
    generate_catalog(args.dest, args.sculptures, args.seed, args.distinct_photos)
    photos = args.distinct_photos or "the sample's"
    print(f"wrote {args.sculptures} sculptures ({photos} photos) to {args.dest}")


if __name__ == "__main__":
    main()
