"""Effects on the ink mask, before geometry and paper: letterpress, patchy inking and a curved baseline.

Each effect maps an ink coverage array (float32, ``(H, W)``, 0 = paper, 1 = full ink) to a new one of the
same shape, drawing only from the line's ``rng`` / ``nrng``, so a line stays the same for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter

from seqvision.tasks.lines.synth.profile import Degradations

InkEffect = Callable[[np.ndarray, random.Random, np.random.Generator, Degradations], np.ndarray]


def _filtered(alpha: np.ndarray, fn: ImageFilter.Filter) -> np.ndarray:
    img = Image.fromarray(np.clip(alpha * 255, 0, 255).astype(np.uint8)).filter(fn)
    return np.asarray(img, dtype=np.float32) / 255.0


def smooth_field(shape: tuple[int, int], cells: tuple[int, int], nrng: np.random.Generator) -> np.ndarray:
    """Low-frequency noise (mean 0, std about 1) of ``shape``, from a ``cells`` (rows, columns) grid."""
    grid = nrng.standard_normal((max(2, cells[0]), max(2, cells[1]))).astype(np.float32)
    h, w = shape
    return np.asarray(Image.fromarray(grid).resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32)


def letterpress(alpha: np.ndarray, rng: random.Random, nrng: np.random.Generator, cfg: Degradations) -> np.ndarray:
    """Ink spread (blur, then a low threshold: rounded, bolder strokes) and ink squeeze (darker rims)."""
    spread = _filtered(alpha, ImageFilter.GaussianBlur(rng.uniform(*cfg.letterpress_spread)))
    threshold = rng.uniform(0.25, 0.45)
    alpha = np.maximum(alpha, np.clip((spread - threshold) / 0.2 + 0.5, 0, 1))  # ink only spreads
    core = _filtered(alpha, ImageFilter.MinFilter(3))  # the inside of each stroke; the rim is alpha - core
    return alpha * (1 - rng.uniform(*cfg.letterpress_squeeze) * core)


def mottle(alpha: np.ndarray, rng: random.Random, nrng: np.random.Generator, cfg: Degradations) -> np.ndarray:
    """Patchy inking: ink density varies slowly along the line (a dry ribbon, an unevenly inked forme)."""
    h, w = alpha.shape
    field = smooth_field(alpha.shape, (3, max(2, w // max(h, 1) * 3)), nrng)
    density = 1 - rng.uniform(*cfg.mottle_depth) * np.clip(0.5 + 0.4 * field, 0, 1)
    return alpha * density


def curvature(alpha: np.ndarray, rng: random.Random, nrng: np.random.Generator, cfg: Degradations) -> np.ndarray:
    """Each column shifts up or down along a bow or a slow wave (page curl near the gutter, a bent sheet)."""
    h, w = alpha.shape
    amplitude = rng.uniform(*cfg.curvature_amplitude) * h * rng.choice((-1, 1))
    x = np.linspace(-1, 1, w, dtype=np.float32)
    if rng.random() < 0.5:
        offset = amplitude * (x**2 - 1 / 3)  # a bow, centred on zero
    else:
        offset = amplitude * np.sin(np.pi * (rng.uniform(0.5, 1.5) * x + rng.uniform(0, 2)))
    src = np.arange(h, dtype=np.float32)[:, None] - offset[None, :]  # (H, W): the input row each pixel reads
    y0 = np.floor(src).astype(np.int64)
    frac = src - y0
    padded = np.pad(alpha, ((1, 1), (0, 0)))  # rows outside the mask read as no ink
    top = np.take_along_axis(padded, np.clip(y0 + 1, 0, h + 1), axis=0)
    bottom = np.take_along_axis(padded, np.clip(y0 + 2, 0, h + 1), axis=0)
    return (top * (1 - frac) + bottom * frac).astype(np.float32)


# name -> effect; the name is also its probability's field in Degradations. Applied in this order.
INK_EFFECTS: dict[str, InkEffect] = {"letterpress": letterpress, "mottle": mottle, "curvature": curvature}


def apply_ink(mask: Image.Image, rng: random.Random, nrng: np.random.Generator, cfg: Degradations) -> Image.Image:
    """Each ink effect with its probability; the mask back as 'L'."""
    chosen = [fn for name, fn in INK_EFFECTS.items() if rng.random() < getattr(cfg, name)]
    if not chosen:
        return mask
    alpha = np.asarray(mask, dtype=np.float32) / 255.0
    for fn in chosen:
        alpha = fn(alpha, rng, nrng, cfg)
    return Image.fromarray(np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8))
