"""Light augmentation for line images: what scans and handwriting vary in, not what changes the text.

Works on the 8-bit grayscale line already scaled to the model height, so it costs ~1 ms a line.
"""

from __future__ import annotations

import random

import numpy as np
from PIL import Image, ImageFilter


def augment_line(img: Image.Image, rng: random.Random, warp: float = 0.0) -> Image.Image:
    """Random width stretch, shear (slant), small rotation and vertical shift, stroke width, blur, contrast.

    ``warp`` > 0 adds, to half the lines, a smooth random distortion whose control points move by
    ``warp`` times the line height (standard deviation): how one hand's letters vary in shape and size.
    """
    w, h = img.size
    paper = int(np.median(np.asarray(img)))
    if warp > 0 and rng.random() < 0.5:
        img = grid_warp(img, rng, warp, paper)
    if rng.random() < 0.5:  # writing width / letter spacing
        img = img.resize((max(4, round(w * rng.uniform(0.85, 1.15))), h), Image.Resampling.BILINEAR)
        w = img.width
    if rng.random() < 0.6:  # slant, rotation and vertical jitter as one affine map
        shear = rng.uniform(-0.3, 0.3)
        angle = np.deg2rad(rng.uniform(-1.5, 1.5))
        dy = rng.uniform(-0.06, 0.06) * h
        cos, sin = np.cos(angle), np.sin(angle)
        # inverse map output (x, y) -> input: rotation about the centre, then shear along x
        a, b = cos, -sin + shear
        d, e = sin, cos
        cx, cy = w / 2, h / 2
        c = cx - a * cx - b * cy
        f = cy - d * cx - e * cy + dy
        img = img.transform(
            (w, h), Image.Transform.AFFINE, (a, b, c, d, e, f), Image.Resampling.BILINEAR, fillcolor=paper
        )
    r = rng.random()
    if r < 0.15:
        img = img.filter(ImageFilter.MinFilter(3))  # thicker strokes (ink is dark)
    elif r < 0.25:
        img = img.filter(ImageFilter.MaxFilter(3))  # thinner strokes
    if rng.random() < 0.2:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    if rng.random() < 0.3:
        arr = np.asarray(img, dtype=np.float32)
        arr = (arr - paper) * rng.uniform(0.6, 1.2) + paper + rng.uniform(-20, 20)
        arr += np.random.default_rng(rng.getrandbits(32)).normal(0, rng.uniform(0, 8), arr.shape)
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    return img


def grid_warp(img: Image.Image, rng: random.Random, strength: float, fill: int) -> Image.Image:
    """Elastic-like distortion: a grid of cells one line height wide and half a height tall, whose corners move.

    Each corner's source point is displaced by a normal draw of ``strength * height`` pixels (x and y);
    the left and right ends stay in place so no letter is pushed out of the line. PIL's MESH
    transform maps every cell by its own quadrilateral, so this costs about as much as one affine map.
    """
    w, h = img.size
    g = np.random.default_rng(rng.getrandbits(32))
    xs = np.linspace(0, w, max(1, round(w / h)) + 1).round().astype(int)
    ys = np.array([0, h // 2, h])
    sx = xs[None, :] + g.normal(0, strength * h, (len(ys), len(xs)))
    sy = ys[:, None] + g.normal(0, strength * h, (len(ys), len(xs)))
    sx[:, 0], sx[:, -1] = 0, w
    mesh = []
    for r in range(len(ys) - 1):
        for c in range(len(xs) - 1):
            box = (int(xs[c]), int(ys[r]), int(xs[c + 1]), int(ys[r + 1]))
            # source quadrilateral: upper left, lower left, lower right, upper right
            corners = [(r, c), (r + 1, c), (r + 1, c + 1), (r, c + 1)]
            mesh.append((box, tuple(float(v) for rc in corners for v in (sx[rc], sy[rc]))))
    return img.transform((w, h), Image.Transform.MESH, mesh, Image.Resampling.BILINEAR, fillcolor=fill)
