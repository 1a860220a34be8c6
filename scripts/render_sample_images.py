"""Render the sample catalog's photographs deterministically with Pillow.

The sample gallery needs images without downloading anything and without
committing large binaries: each picture is a studio-style still life (wall,
floor, plinth, lit sculpture) drawn from a small recipe, so the same recipe
always gives the same pixels. Run: python scripts/render_sample_images.py
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 1200, 1500
OUT = Path(__file__).resolve().parent.parent / "content" / "images"

# name -> (shape, base colour, highlight colour, wall tint)
RECIPES: dict[str, tuple[str, tuple[int, int, int], tuple[int, int, int], int]] = {
    "espera-i": ("figure", (58, 40, 30), (150, 110, 80), 0),
    "equilibrista": ("acrobat", (70, 84, 52), (160, 170, 120), 8),
    "mulher-sentada-ao-vento": ("seated", (120, 92, 40), (215, 180, 100), -6),
    "oratorio-aberto": ("niche", (92, 104, 92), (170, 182, 166), 4),
    "curva-de-congonhas": ("band", (70, 96, 78), (150, 180, 150), -4),
    "semente": ("seed", (100, 110, 98), (190, 196, 180), 10),
    "iemanja-de-jaqueira": ("figure", (176, 140, 96), (232, 206, 160), 2),
    "moringa": ("vessel", (110, 70, 40), (190, 140, 90), -8),
    "pilao-de-ipe": ("column", (74, 48, 32), (140, 100, 70), 6),
    "dobra-vermelha": ("planes", (128, 56, 28), (206, 112, 60), -10),
    "dobra-vermelha-detalhe": ("detail", (140, 64, 30), (220, 130, 70), -10),
    "horizonte-inox": ("blade", (150, 154, 160), (235, 238, 242), 12),
    "origami-de-jardim": ("bird", (150, 74, 34), (220, 140, 80), -2),
    "mare-de-vidro": ("waves", (70, 150, 140), (190, 235, 225), 14),
    "luz-da-manha": ("cylinder", (190, 120, 30), (250, 210, 120), 0),
}


def shade(
    draw_mask: Image.Image, base: tuple[int, int, int], light: tuple[int, int, int]
) -> Image.Image:
    """Fill a mask with a left-lit gradient so flat shapes read as volumes."""
    gradient = Image.linear_gradient("L").rotate(90).resize((WIDTH, HEIGHT))
    lit = Image.composite(
        Image.new("RGB", (WIDTH, HEIGHT), light), Image.new("RGB", (WIDTH, HEIGHT), base), gradient
    )
    layer = Image.new("RGBA", (WIDTH, HEIGHT), (0, 0, 0, 0))
    layer.paste(lit, (0, 0), draw_mask)
    return layer


def silhouette(shape: str, rng: random.Random) -> Image.Image:
    mask = Image.new("L", (WIDTH, HEIGHT), 0)
    d = ImageDraw.Draw(mask)
    cx, top, base = WIDTH // 2, 260, 1010
    jitter = rng.randint(-20, 20)
    if shape in {"figure", "acrobat"}:
        d.ellipse((cx - 45, top, cx + 45, top + 110), fill=255)
        d.polygon(
            [(cx - 60, top + 120), (cx + 60, top + 120), (cx + 35 + jitter, base), (cx - 35, base)],
            fill=255,
        )
        if shape == "acrobat":
            d.line([(cx - 260, top + 80), (cx + 260, top + 260)], fill=255, width=34)
    elif shape == "seated":
        d.ellipse((cx - 150, top + 40, cx - 40, top + 150), fill=255)
        d.polygon(
            [
                (cx - 170, top + 160),
                (cx + 40, top + 170),
                (cx + 260, top + 420),
                (cx + 200, base),
                (cx - 220, base),
            ],
            fill=255,
        )
        d.polygon([(cx - 40, top + 60), (cx + 330, top + 20), (cx + 90, top + 200)], fill=255)
    elif shape in {"niche", "column"}:
        d.rounded_rectangle((cx - 200, top + 150, cx + 200, base), radius=90, fill=255)
        d.rounded_rectangle(
            (cx - 90, top + 260, cx + 90, base - 120),
            radius=70,
            fill=0 if shape == "niche" else 255,
        )
        if shape == "column":
            d.rectangle((cx - 40, top - 60, cx + 40, top + 300), fill=255)
    elif shape in {"band", "blade"}:
        for i in range(24):
            y = top + 300 + i * (12 if shape == "band" else 4)
            d.arc(
                (cx - 420, y - 120, cx + 420, y + 320),
                190,
                350,
                fill=255,
                width=30 if shape == "band" else 12,
            )
        if shape == "blade":
            d.rectangle((cx - 340, base - 180, cx - 220, base), fill=255)
            d.rectangle((cx + 220, base - 180, cx + 340, base), fill=255)
    elif shape == "seed":
        d.ellipse((cx - 190, top + 360, cx + 190, base), fill=255)
        d.line([(cx, top + 380), (cx + jitter, base - 20)], fill=0, width=18)
    elif shape == "vessel":
        d.ellipse((cx - 230, top + 330, cx + 230, base), fill=255)
        d.polygon(
            [(cx - 50, top + 60), (cx + 50, top + 40), (cx + 90, top + 400), (cx - 90, top + 400)],
            fill=255,
        )
    elif shape in {"planes", "bird"}:
        d.polygon([(cx - 260, base), (cx - 40, top - 40), (cx + 40, base)], fill=255)
        d.polygon([(cx - 20, base), (cx + 280, top + 200), (cx + 200, base)], fill=200)
        if shape == "bird":
            d.polygon(
                [(cx - 420, top + 300), (cx, top + 420), (cx + 420, top + 240), (cx, top + 560)],
                fill=230,
            )
    elif shape == "detail":
        d.polygon([(0, HEIGHT), (WIDTH // 2 + jitter, 0), (WIDTH, 0), (WIDTH, HEIGHT)], fill=255)
        d.polygon([(0, 0), (WIDTH // 2 + jitter, 0), (0, HEIGHT)], fill=150)
    elif shape == "waves":
        for i in range(7):
            y = top + 240 + i * 70
            d.chord((cx - 380 + i * 10, y, cx + 380 - i * 10, y + 200), 180, 360, fill=255 - i * 12)
    elif shape == "cylinder":
        d.rounded_rectangle((cx - 150, top + 260, cx + 150, base), radius=60, fill=255)
    else:  # pragma: no cover - guarded by RECIPES
        raise ValueError(shape)
    return mask


def render(name: str) -> Image.Image:
    shape, base, light, tint = RECIPES[name]
    rng = random.Random(name)
    wall = Image.linear_gradient("L").resize((WIDTH, HEIGHT)).point(lambda v: 236 - v // 6)
    image = Image.merge(
        "RGB",
        [wall.point(lambda v: min(255, v + tint)), wall, wall.point(lambda v: max(0, v - tint))],
    )
    d = ImageDraw.Draw(image)
    if shape != "detail":
        d.rectangle((0, 1180, WIDTH, HEIGHT), fill=(196 - tint, 190, 182 + tint))
        d.rectangle((300, 1010, 900, 1240), fill=(242, 240, 236))
        d.rectangle((300, 1010, 900, 1030), fill=(250, 249, 246))
        shadow = Image.new("L", (WIDTH, HEIGHT), 0)
        ImageDraw.Draw(shadow).ellipse((360, 990, 840, 1040), fill=120)
        image.paste((60, 56, 50), (0, 0), shadow.filter(ImageFilter.GaussianBlur(18)))
    mask = silhouette(shape, rng).filter(ImageFilter.GaussianBlur(1.5))
    image.paste(shade(mask, base, light), (0, 0), mask)
    return image.filter(ImageFilter.SMOOTH)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name in sorted(RECIPES):
        target = OUT / f"{name}.jpg"
        render(name).save(target, "JPEG", quality=80, optimize=True, progressive=True)
        print(f"{target.name}: {target.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
