"""From an ink mask to something that looks like a scan or a photo of print: stroke bleed and erosion,
the ink effects of :mod:`.ink`, slant, rotation and perspective, uneven paper and lighting with the
paper effects of :mod:`.scan`, bleed-through, blur, low resolution, one scan medium (bitonal, photocopy,
fax, thermal), noise and JPEG. Probabilities and ranges of the new effects: :mod:`.profile`.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter

from seqvision.tasks.lines.synth.ink import apply_ink
from seqvision.tasks.lines.synth.profile import DEFAULT, Degradations
from seqvision.tasks.lines.synth.scan import MEDIA, PAPER_EFFECTS, bleed_through, legible, low_dpi, pick_medium

Augment = Callable[[np.ndarray, random.Random], np.ndarray]  # uint8 (H, W) -> uint8 (H', W'): a foreign pipeline


def _geometry(mask: Image.Image, rng: random.Random) -> Image.Image:
    """Small rotation, shear (slant) and perspective as one projective map (fill: no ink)."""
    w, h = mask.size
    angle = np.deg2rad(rng.uniform(-1.5, 1.5)) if rng.random() < 0.35 else 0.0
    shear = rng.uniform(-0.25, 0.25) if rng.random() < 0.2 else 0.0
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    cx, cy = w / 2, h / 2
    cos, sin = np.cos(angle), np.sin(angle)
    moved = np.stack(
        [
            cx + (corners[:, 0] - cx) * cos - (corners[:, 1] - cy) * sin + shear * (corners[:, 1] - cy),
            cy + (corners[:, 0] - cx) * sin + (corners[:, 1] - cy) * cos,
        ],
        axis=1,
    )
    if rng.random() < 0.15:  # perspective: each corner moves by up to 8 % of the height
        moved += np.array([[rng.uniform(-0.08, 0.08) * h for _ in range(2)] for _ in range(4)])
    if not angle and not shear and np.allclose(moved, corners):
        return mask
    moved -= moved.min(axis=0)  # the output canvas starts at the moved box's corner
    # output corner -> input corner: solve for the 8 projective coefficients PIL wants
    rows, rhs = [], []
    for (x, y), (u, v) in zip(moved, corners, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    coeffs = np.linalg.solve(np.array(rows), np.array(rhs))
    x1, y1 = moved.max(axis=0)
    size = (max(8, int(np.ceil(x1))), max(8, int(np.ceil(y1))))
    return mask.transform(size, Image.Transform.PERSPECTIVE, tuple(coeffs), Image.Resampling.BILINEAR, fillcolor=0)


def _strokes(mask: Image.Image, rng: random.Random, nrng: np.random.Generator) -> Image.Image:
    r = rng.random()
    if r < 0.15:
        mask = mask.filter(ImageFilter.MaxFilter(3))  # ink bleed: bolder strokes
    elif r < 0.3:  # erosion: thin, starved strokes (unless that erases a thin face)
        thinner = mask.filter(ImageFilter.MinFilter(3))
        if np.asarray(thinner, dtype=np.float32).sum() > 0.4 * np.asarray(mask, dtype=np.float32).sum():
            mask = thinner
    if rng.random() < 0.1:  # worn type / faded print: holes in the ink
        ink = np.asarray(mask, dtype=np.float32)
        keep = nrng.random(ink.shape) > rng.uniform(0.05, 0.2)
        mask = Image.fromarray((ink * keep).astype(np.uint8))
    return mask


def _paper(shape: tuple[int, int], rng: random.Random, nrng: np.random.Generator, cfg: Degradations) -> np.ndarray:
    """Paper brightness: a level, a lighting gradient, low-frequency blotches, sometimes a shadow; grain, dirt."""
    h, w = shape
    level = cfg.paper_bright_level if rng.random() < cfg.paper_bright else cfg.paper_dark_level
    paper = np.full(shape, rng.uniform(*level), dtype=np.float32)
    if rng.random() < 0.4:
        gx, gy = rng.uniform(-50, 50), rng.uniform(-30, 30)
        paper += gx * np.linspace(-0.5, 0.5, w)[None, :] + gy * np.linspace(-0.5, 0.5, h)[:, None]
    if rng.random() < 0.4:
        blotch = nrng.normal(0, rng.uniform(5, 20), (4, max(2, w // max(h, 1) * 2)))
        paper += np.asarray(Image.fromarray(blotch.astype(np.float32)).resize((w, h), Image.Resampling.BICUBIC))
    if rng.random() < 0.05:
        edge = int(rng.uniform(0.1, 0.4) * w)
        paper[:, :edge] -= rng.uniform(30, 80) * np.linspace(1, 0, edge)[None, :]
    for name, fn in PAPER_EFFECTS.items():
        if rng.random() < getattr(cfg, name):
            paper = fn(paper, rng, nrng, cfg)
    return paper


def degrade(
    mask: Image.Image,
    height: int,
    rng: random.Random,
    nrng: np.random.Generator,
    clean: bool = False,
    cfg: Degradations = DEFAULT,
    back: Image.Image | None = None,
    augment: Augment | None = None,
) -> Image.Image:
    """Ink mask -> 8-bit grayscale line image ``height`` px tall (dark ink on lighter paper).

    Args:
        clean: black ink on plain paper, resized; nothing random.
        cfg: probabilities and ranges of the effects.
        back: an ink mask of another line, to show through the paper (bleed-through).
        augment: replaces the paper and scan stages: it gets the line as black ink on white paper.
    """
    if not clean:
        mask = _geometry(apply_ink(_strokes(mask, rng, nrng), rng, nrng, cfg), rng)
    alpha = np.asarray(mask, dtype=np.float32) / 255.0
    if augment is not None:
        img = Image.fromarray(augment(np.clip(255 * (1 - alpha) + 0.5, 0, 255).astype(np.uint8), rng))
        return img.resize((max(4, round(img.width * height / img.height)), height), Image.Resampling.BILINEAR)
    paper = _paper(alpha.shape, rng, nrng, cfg) if not clean else np.full(alpha.shape, 245.0, dtype=np.float32)
    if clean:
        ink_level = 20.0
    else:
        ink_level = rng.uniform(*(cfg.ink_dark_level if rng.random() < cfg.ink_dark else cfg.ink_grey_level))
    if back is not None:
        paper = bleed_through(paper, back, ink_level, rng, cfg)
    ink = np.minimum(ink_level, paper - 80)
    img = Image.fromarray(np.clip(paper * (1 - alpha) + ink * alpha, 0, 255).astype(np.uint8))
    if not clean and rng.random() < 0.04:  # light print on a dark ground
        img = Image.fromarray(255 - np.asarray(img))
    width = max(4, round(img.width * height / img.height))
    if clean:
        return img.resize((width, height), Image.Resampling.BILINEAR)
    if rng.random() < 0.35:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.5)))
    soft = rng.random() < 0.2
    if soft:  # low-resolution scan or distant photo
        factor = rng.uniform(0.45, 0.8)
        small = (max(4, round(width * factor)), max(4, round(height * factor)))
        img = img.resize(small, Image.Resampling.BILINEAR)
    img = img.resize((width, height), Image.Resampling.BILINEAR)
    medium, lowres = pick_medium(rng, cfg), not soft and rng.random() < cfg.low_dpi
    pixels = legible(np.asarray(img, dtype=np.float32), rng, cfg)
    pixels = medium(pixels, rng, nrng, cfg) if medium is not None else pixels
    pixels = low_dpi(pixels, rng, nrng, cfg) if lowres else pixels
    img = Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8))
    bitonal = medium in (MEDIA["binarise"], MEDIA["fax"])
    if rng.random() < (0.15 if bitonal else 0.4):
        noisy = np.asarray(img, dtype=np.float32) + nrng.normal(0, rng.uniform(2, 8), (height, width))
        if rng.random() < 0.1:  # salt and pepper
            flips = nrng.random((height, width))
            noisy[flips < 0.004] = 0
            noisy[flips > 0.996] = 255
        img = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    if rng.random() < 0.3:
        buffer = io.BytesIO()
        img.save(buffer, format="JPEG", quality=rng.randint(15, 75))
        img = Image.open(io.BytesIO(buffer.getvalue())).convert("L")
    return img
