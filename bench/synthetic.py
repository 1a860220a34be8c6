"""Deterministic synthetic catalogs for benchmarks: N sculptures, like the sample.

The same (sculptures, seed) always writes byte-identical files, so timings and
upload counts from different runs compare like with like. Images are the sample
catalog's own, reused in rotation: an image pipeline caches by content hash, so a
benchmark measures the page build, not repeated encoding of thousands of photos.

Usage: python bench/synthetic.py DEST [--sculptures N] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "content"
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


def generate_catalog(dest: Path, sculptures: int, seed: int = 1) -> None:
    """Write a complete content/ folder with `sculptures` pieces into dest."""
    rng = random.Random(seed)
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "artists").mkdir(parents=True)
    (dest / "sculptures").mkdir()
    (dest / "schema").mkdir()
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
    images = _images()
    for i in range(sculptures):
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


def _write_sculpture(
    dest: Path, i: int, rng: random.Random, artists: list[str], images: list[str]
) -> None:
    title = f"{rng.choice(_WORDS)} {rng.choice(_WORDS).lower()} {i}"
    slug = f"peca-{i:05d}"
    materials = ", ".join(rng.sample(_MATERIALS, rng.randint(1, 2)))
    tags = ", ".join(rng.sample(_TAGS, rng.randint(2, 3)))
    edition = rng.choice([1, 1, 1, 3, 5, 8, 12])
    status = "draft" if i % 97 == 13 else "published"
    image = images[i % len(images)]
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
  - file: {image}
    alt: Fotografia de {title} sobre pedestal branco.
"""  # noqa: E501
    (dest / "sculptures" / f"{slug}.yaml").write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--sculptures", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate_catalog(args.dest, args.sculptures, args.seed)
    print(f"wrote {args.sculptures} sculptures to {args.dest}")


if __name__ == "__main__":
    main()
