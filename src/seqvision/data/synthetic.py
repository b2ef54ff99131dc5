"""Rendered text lines for demos and tests: no outside data needed.

Uses TrueType fonts found on the system (fontconfig folders) and falls back to Pillow's
built-in font, so it works on a bare machine.

>>> img = render_line("Hello, world", height=32)
>>> img.mode, img.height
('L', 32)
"""

from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts"]
WORDS = (
    "the of and to in is was that for on with as by at from his her this which but not are have had one all "
    "were they been would when their there what more some could into other then than only time about after "
    "letter garden plants seeds specimens kew botanical collection species genus flora india himalaya "
    "London Monday March Dear Sir friend yours truly received sending volume pages report journal"
).split()


@lru_cache(maxsize=1)
def system_fonts() -> tuple[Path, ...]:
    """TrueType/OpenType files under the usual font folders, sorted for reproducibility."""
    found: list[Path] = []
    for folder in FONT_DIRS:
        if folder.is_dir():
            found += [p for p in folder.rglob("*") if p.suffix.lower() in (".ttf", ".otf")]
    return tuple(sorted(found))


def _font(path: Path | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(str(path), size)


def random_text(rng: random.Random, min_words: int = 1, max_words: int = 6) -> str:
    """Words, numbers and punctuation as found in letters and printed documents."""
    parts = []
    for _ in range(rng.randint(min_words, max_words)):
        r = rng.random()
        if r < 0.12:
            parts.append(str(rng.randint(1, 1999)))
        else:
            word = rng.choice(WORDS)
            parts.append(word.capitalize() if rng.random() < 0.2 else word)
        if rng.random() < 0.12:
            parts[-1] += rng.choice(",.;:")
    return " ".join(parts)


def render_line(text: str, height: int = 48, font: Path | None = None, rng: random.Random | None = None) -> Image.Image:
    """Dark text on a light background, ``height`` px tall, width following the text."""
    rng = rng or random.Random(0)
    size = int(height * rng.uniform(0.55, 0.7))
    face = _font(font, size)
    left, top, right, bottom = face.getbbox(text)
    margin_x, margin_y = rng.randint(2, 10), max(1, (height - (bottom - top)) // 2)
    width = max(8, int(right - left) + 2 * margin_x)
    paper = rng.randint(200, 255)
    img = Image.new("L", (width, max(height, int(bottom - top) + 2)), paper)
    ink = rng.randint(0, 80)
    ImageDraw.Draw(img).text((margin_x - left, margin_y - top), text, fill=ink, font=face)
    return img if img.height == height else img.resize((width, height), Image.Resampling.BILINEAR)


def write_dataset(out: Path, lines: int, height: int = 48, seed: int = 0, fonts: list[Path] | None = None) -> Path:
    """Render ``lines`` random lines as PNGs plus ``labels.tsv``; returns the TSV path."""
    rng = random.Random(seed)
    fonts = list(fonts if fonts is not None else system_fonts()) or [None]  # type: ignore[list-item]
    (out / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(lines):
        text = random_text(rng)
        name = f"images/line_{i:05d}.png"
        render_line(text, height, rng.choice(fonts), rng).save(out / name)
        rows.append(f"{name}\t{text}\n")
    tsv = out / "labels.tsv"
    tsv.write_text("".join(rows), encoding="utf-8")
    return tsv
