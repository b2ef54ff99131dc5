"""Paper and scan effects on a grayscale line (float32 ``(H, W)`` in 0..255, dark ink on light paper).

Paper effects (grain, dirt) act on the bare paper before the ink goes on; :func:`bleed_through` darkens
it with the mirrored text of another line. The media (binarised scan, photocopy, fax, thermal receipt)
and low-dpi resampling act on the finished line at its output height. Every effect keeps the shape,
returns float32 in 0..255 and draws only from the line's ``rng`` / ``nrng``.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter

from seqvision.tasks.lines.synth.ink import smooth_field
from seqvision.tasks.lines.synth.profile import Degradations

ScanEffect = Callable[[np.ndarray, random.Random, np.random.Generator, Degradations], np.ndarray]


def grain(img: np.ndarray, rng: random.Random, nrng: np.random.Generator, cfg: Degradations) -> np.ndarray:
    """Paper texture: fine noise stretched along the fibres, plus a faint coarser mottling."""
    h, w = img.shape
    fine = nrng.standard_normal((max(2, h // 2), max(2, w // 4))).astype(np.float32)
    fibres = np.asarray(Image.fromarray(fine).resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32)
    coarse = smooth_field(img.shape, (max(2, h // 12), max(2, w // 12)), nrng)
    strength = rng.uniform(*cfg.grain_strength)
    return np.clip(img + strength * (fibres + 0.5 * coarse), 0, 255)


def dirt(img: np.ndarray, rng: random.Random, nrng: np.random.Generator, cfg: Degradations) -> np.ndarray:
    """Dirty backgrounds: specks and foxing spots, soft stains, sometimes a smudge band along an edge."""
    h, w = img.shape
    out = img.copy()
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    for _ in range(rng.randint(0, 2)):  # soft stains: dark ellipses with blurred edges
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        ry, rx = rng.uniform(0.3, 1.5) * h, rng.uniform(0.3, 3) * h
        d = ((ys - cy) / ry) ** 2 + ((xs - cx) / rx) ** 2
        out -= rng.uniform(8, 35) * np.exp(-d * rng.uniform(1, 4))
    specks = nrng.random((h, w)) < rng.uniform(0.0005, 0.004)  # specks, 1 px
    out[specks] -= nrng.uniform(40, 160, int(specks.sum()))
    for _ in range(rng.randint(0, 4)):  # foxing: small round brownish spots
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(0.8, 3)
        out -= rng.uniform(15, 70) * (((ys - cy) ** 2 + (xs - cx) ** 2) < r * r)
    if rng.random() < 0.25:  # a grey band along the top or bottom edge (a fold, a shadow, a dirty roller)
        band = np.exp(-np.arange(h, dtype=np.float32) / rng.uniform(0.05, 0.2) / h)[:, None]
        out -= rng.uniform(20, 70) * (band if rng.random() < 0.5 else band[::-1])
    return np.clip(out, 0, 255)


def bleed_through(paper: np.ndarray, back: Image.Image, ink: float, rng: random.Random, cfg: Degradations):
    """The paper darkened by ``back`` (an ink mask of another line), mirrored, blurred and offset."""
    h, w = paper.shape
    back = back.transpose(Image.Transpose.FLIP_LEFT_RIGHT).filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 2)))
    canvas = Image.new("L", (w, h), 0)
    canvas.paste(back, (rng.randint(-back.width // 2, max(0, w - back.width // 2)), rng.randint(-h // 3, h // 3)))
    alpha = np.asarray(canvas, dtype=np.float32) / 255.0 * rng.uniform(*cfg.bleed_through_strength)
    return paper - alpha * np.maximum(paper - ink, 0)


def flatten(img: np.ndarray) -> np.ndarray:
    """The paper's own brightness divided out, as scanners and copiers normalise it: paper -> 255, ink keeps
    its contrast (the background is a max filter over a quarter-size copy, wider than any stroke)."""
    h, w = img.shape
    small = Image.fromarray(img.astype(np.float32)).resize((max(2, w // 4), max(2, h // 4)), Image.Resampling.BOX)
    paper = small.filter(ImageFilter.MaxFilter(5)).resize((w, h), Image.Resampling.BILINEAR)
    return np.clip(img / np.maximum(np.asarray(paper, dtype=np.float32), 1.0) * 255, 0, 255)


def _otsu(img: np.ndarray) -> float:
    """Otsu's threshold: the grey level that best splits the histogram into two classes."""
    hist = np.bincount(np.clip(img, 0, 255).astype(np.uint8).ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    weight = np.cumsum(hist)
    mean = np.cumsum(hist * levels)
    total, grand = weight[-1], mean[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (grand * weight - total * mean) ** 2 / (weight * (total - weight))
    return float(np.nanargmax(between[:-1])) if np.isfinite(between[:-1]).any() else 128.0


def binarise(img: np.ndarray, rng: random.Random, nrng: np.random.Generator, cfg: Degradations) -> np.ndarray:
    """A bitonal scan: noise, then Otsu's threshold moved a little either way (ragged, thicker or thinner)."""
    img = flatten(img)
    ink, paper = np.percentile(img, [0.5, 50])
    noisy = img + nrng.normal(0, rng.uniform(0, 0.2) * (paper - ink), img.shape).astype(np.float32)
    threshold = _otsu(img) + rng.uniform(-0.1, 0.25) * (paper - ink)  # rather too much ink than too little
    return np.where(noisy > threshold, 255.0, 0.0).astype(np.float32)


def photocopy(img: np.ndarray, rng: random.Random, nrng: np.random.Generator, cfg: Degradations) -> np.ndarray:
    """A copy of a copy: contrast crushed towards black, toner specks, dark streaks in the feed direction."""
    h, w = img.shape
    img = flatten(img)
    ink, paper = np.percentile(img, [0.5, 90])  # ink may be only a few % of the pixels
    low = ink + rng.uniform(0.05, 0.25) * (paper - ink)  # darker than this turns black
    high = paper - rng.uniform(0.0, 0.3) * (paper - low)  # lighter than this turns white
    out = np.clip((img - low) / max(high - low, 1.0) * 255, 0, 255)
    specks = nrng.random((h, w)) < rng.uniform(0.0005, 0.006)
    out[specks] = nrng.uniform(0, 120, int(specks.sum()))
    for _ in range(rng.randint(0, 3)):  # drum streaks run across the line (down the page)
        x, width = rng.randrange(w), rng.randint(1, 3)
        out[:, x : x + width] *= rng.uniform(0.35, 0.8)
    if rng.random() < 0.5:  # a dark copier edge
        out *= 1 - rng.uniform(0.1, 0.5) * np.exp(-np.arange(w, dtype=np.float32) / (0.05 * w))[None, :]
    return np.clip(out, 0, 255).astype(np.float32)


def fax(img: np.ndarray, rng: random.Random, nrng: np.random.Generator, cfg: Degradations) -> np.ndarray:
    """A fax: bitonal, often at a coarser vertical resolution, rows dropped or shifted, salt and pepper."""
    h, w = img.shape
    rows = max(2, round(h * rng.uniform(0.6, 1.0)))
    coarse = np.asarray(Image.fromarray(flatten(img)).resize((w, rows), Image.Resampling.BILINEAR))
    out = np.asarray(Image.fromarray(coarse).resize((w, h), Image.Resampling.NEAREST), dtype=np.float32)
    ink, paper = np.percentile(out, [0.5, 50])
    out = np.where(out > _otsu(out) + rng.uniform(0.0, 0.25) * (paper - ink), 255.0, 0.0)
    for y in nrng.choice(h, size=rng.randint(0, max(1, h // 12)), replace=False):
        out[y] = 255.0 if rng.random() < 0.5 else np.roll(out[y], rng.choice((-2, -1, 1, 2)))
    flips = nrng.random((h, w))
    out[flips < 0.003], out[flips > 0.997] = 0.0, 255.0
    return out.astype(np.float32)


def thermal(img: np.ndarray, rng: random.Random, nrng: np.random.Generator, cfg: Degradations) -> np.ndarray:
    """A thermal receipt: faded grey print, banding of the print head's dot rows, white streaks, soft edges."""
    h, w = img.shape
    paper = float(np.percentile(img, 90))
    darkness = np.clip(paper - img, 0, None) * rng.uniform(0.35, 0.85)  # faded
    period = rng.choice((2, 3, 4))
    darkness *= 1 - rng.uniform(0.1, 0.4) * (np.arange(h) % period == 0)[:, None]  # dot rows
    dead = np.less(nrng.random(w), rng.uniform(0.0, 0.03)).astype(np.float32)  # dead head dots: white streaks
    darkness *= 1 - 0.6 * dead[None, :]
    darkness *= np.clip(1 + 0.25 * smooth_field((h, w), (2, max(2, w // 40)), nrng), 0.3, 1.2)  # uneven heat
    out = Image.fromarray(np.clip(paper - darkness + 0.5, 0, 255).astype(np.uint8))
    return np.asarray(out.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9))), dtype=np.float32)


def low_dpi(img: np.ndarray, rng: random.Random, nrng: np.random.Generator, cfg: Degradations) -> np.ndarray:
    """Scanned at low resolution: box-filtered down, back up with blocky (nearest) or soft (bilinear) pixels."""
    h, w = img.shape
    factor = rng.uniform(*cfg.low_dpi_factor)
    small = Image.fromarray(img).resize((max(2, round(w * factor)), max(2, round(h * factor))), Image.Resampling.BOX)
    up = Image.Resampling.NEAREST if rng.random() < 0.6 else Image.Resampling.BILINEAR
    return np.clip(np.asarray(small.resize((w, h), up), dtype=np.float32), 0, 255)


PAPER_EFFECTS: dict[str, ScanEffect] = {"grain": grain, "dirt": dirt}  # on the bare paper, in this order
MEDIA: dict[str, ScanEffect] = {"binarise": binarise, "photocopy": photocopy, "fax": fax, "thermal": thermal}
# name -> effect; each name is its probability's field in Degradations
SCAN_EFFECTS: dict[str, ScanEffect] = {**PAPER_EFFECTS, **MEDIA, "low_dpi": low_dpi}


def legible(img: np.ndarray, rng: random.Random, cfg: Degradations) -> np.ndarray:
    """A line whose ink all but vanished (thin face, grey ink, blur) darkened back to a faint but readable contrast."""
    ink, paper = np.percentile(img, [1, 50])
    if paper - ink >= cfg.min_contrast:
        return img
    target = rng.uniform(cfg.min_contrast, 2 * cfg.min_contrast)
    return np.clip(paper - (paper - img) * target / max(paper - ink, 1.0), 0, 255)


def pick_medium(rng: random.Random, cfg: Degradations) -> ScanEffect | None:
    """At most one medium per line: their probabilities are slices of one draw."""
    r = rng.random()
    for name, fn in MEDIA.items():
        r -= getattr(cfg, name)
        if r < 0:
            return fn
    return None
