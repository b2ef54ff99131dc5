"""Drawing a text line as an ink mask: font size, letter spacing, margins, underline, stray marks, the
cut-off edges of neighbouring lines and tight crops, the way a line cropped from a printed page looks;
typewritten lines get uneven inking (each glyph its own darkness, weight and baseline).

The mask is 8-bit (255 = full ink) at a high resolution; :mod:`.degrade` turns it into a scan.
"""

from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from seqvision.tasks.lines.synth.profile import DEFAULT, Degradations

BUILTIN = Path("<pillow>")  # Pillow's own font: for tests and machines with no fonts at all


@lru_cache(maxsize=512)
def face(path: Path, size: int) -> ImageFont.FreeTypeFont:
    if path == BUILTIN:
        return ImageFont.load_default(size)  # type: ignore[return-value]
    return ImageFont.truetype(str(path), size)


def _draw_text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, font, spacing: float) -> None:
    """Text at ``xy`` (left, top of the ascent box); with ``spacing`` px added between characters."""
    if not spacing:
        draw.text(xy, text, fill=255, font=font)
        return
    x, y = xy
    for ch in text:
        draw.text((x, y), ch, fill=255, font=font)
        x += font.getlength(ch) + spacing


def _typewrite(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, font, spacing: float, rng, cfg) -> None:
    """Like :func:`_draw_text`, but each glyph struck with its own force: darkness, double strike, baseline."""
    x, y = xy
    lo, hi = cfg.typewriter_darkness
    jitter = cfg.typewriter_baseline * font.size
    for ch in text:
        if not ch.isspace():
            fill, dy = round(255 * rng.triangular(lo, hi, hi)), rng.gauss(0, jitter)
            draw.text((x, y + dy), ch, fill=fill, font=font)
            if rng.random() < cfg.typewriter_heavy:
                draw.text((x + 1, y + dy), ch, fill=fill, font=font)
        x += font.getlength(ch) + spacing


def text_width(text: str, font, spacing: float) -> float:
    return font.getlength(text) + spacing * max(0, len(text) - 1)


def draw_line(
    text: str,
    font_path: Path,
    rng: random.Random,
    clean: bool = False,
    filler: str = "",
    cfg: Degradations = DEFAULT,
) -> Image.Image:
    """Ink mask ('L', ink 255) of one line, with random size, spacing and margins.

    Args:
        text: the line's transcription; only these characters are drawn in the line itself.
        font_path: a TrueType/OpenType file.
        clean: plain rendering (no spacing changes, marks or neighbours), tight regular margins.
        filler: text to draw as the cut-off neighbouring lines above and below (never in the label).
        cfg: probabilities and ranges of the degraded mode.
    """
    size = rng.randint(26, 40)
    font = face(font_path, size)
    spacing = 0.0 if clean or rng.random() < 0.75 else rng.uniform(-0.06, 0.3) * size
    ascent, descent = font.getmetrics()
    width = text_width(text, font, spacing)
    if clean:
        left, right, top, bottom = 0.3 * size, 0.3 * size, 0.15 * size, 0.15 * size
    else:
        left, right = rng.uniform(0.0, 1.2) * size, rng.uniform(0.0, 1.2) * size
        top, bottom = rng.uniform(-0.05, 0.6) * size, rng.uniform(-0.05, 0.6) * size
        if rng.random() < cfg.tight_crop:  # the edges cut into ascenders and descenders, never above the baseline
            _, ink_top, _, ink_bottom = font.getbbox(text)
            top = -ink_top - rng.uniform(*cfg.tight_crop_cut) * size
            cut = ink_bottom - rng.uniform(*cfg.tight_crop_cut) * size
            bottom = max(cut, ascent + 1) - ascent - descent
    w = max(8, round(left + width + right))
    h = max(8, round(top + ascent + descent + bottom))
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    mono = font.getlength("i") == font.getlength("M")
    if not clean and rng.random() < (cfg.typewriter_mono if mono else cfg.typewriter_other):
        _typewrite(draw, (left, top), text, font, spacing, rng, cfg)
    else:
        _draw_text(draw, (left, top), text, font, spacing)
    if clean:
        return mask
    baseline = top + ascent
    if rng.random() < 0.08:  # underline, whole or part of the line
        y = baseline + rng.uniform(0.1, 0.6) * descent
        x0 = left + rng.uniform(0, 0.3) * width
        x1 = left + rng.uniform(0.7, 1.0) * width
        draw.line([(x0, y), (x1, y)], fill=rng.randint(150, 255), width=rng.randint(1, max(1, size // 14)))
    if filler and rng.random() < cfg.neighbours:  # descenders of the line above, ascenders of the line below
        pitch = (ascent + descent) * rng.uniform(*cfg.neighbours_pitch)
        for sign in (-1, 1):
            if rng.random() < 0.75:
                shift = rng.uniform(-2, 2) * size
                _draw_text(draw, (left + shift, top + sign * pitch), filler[rng.randrange(len(filler)) :], font, 0)
    for _ in range(rng.choice([0] * 8 + [1, 2, 3])):  # stray marks: dots, specks, short strokes
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.5, 2.5)
        if rng.random() < 0.6:
            draw.ellipse([x - r, y - r, x + r, y + r], fill=rng.randint(100, 255))
        else:
            dx, dy = rng.uniform(-1, 1) * size * 0.6, rng.uniform(-0.3, 0.3) * size
            draw.line([(x, y), (x + dx, y + dy)], fill=rng.randint(100, 255), width=rng.randint(1, 2))
    return mask
