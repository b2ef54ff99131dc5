"""Pages as the segmenter sees them: scaled grayscale arrays, and target maps drawn from the ground truth.

A page is scaled to the model's input height (``model.height``, 768 px by default) and
normalised to ink = 1, paper = 0 by its own 2nd/98th percentiles, so a grey, yellowed or dark
scan looks alike. Targets are drawn at the map resolution (half the input): each line's baseline
as a band :data:`BAND` map pixels wide, its polygon filled. Training reads random crops of pages
under a random scale, small rotation and contrast change; validation reads whole pages.
"""

from __future__ import annotations

import math
import random

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter
from torch.utils.data import Dataset

from seqvision.data.images import open_image
from seqvision.tasks.segment.geometry import Line, Point
from seqvision.tasks.segment.ground_truth import PageLayout
from seqvision.tasks.segment.model import MULTIPLE, STRIDE

BAND = 2  # baseline band width in map pixels


def ink(gray: np.ndarray) -> np.ndarray:
    """uint8 page (paper light) -> float32 in [0, 1] with ink high, stretched by the page's 2nd/98th percentiles."""
    lo, hi = np.percentile(gray, [2, 98]) if gray.size else (0.0, 255.0)
    if hi - lo < 16:  # a blank or nearly flat page: no stretching of its noise
        lo, hi = 0.0, 255.0
    return np.clip((hi - gray.astype(np.float32)) / (hi - lo), 0.0, 1.0)


def scaled_page(image: Image.Image, height: int) -> tuple[Image.Image, float]:
    """The page in grayscale at ``height`` px, and the factor from page pixels to those pixels."""
    gray = image.convert("L")
    factor = height / gray.height
    size = (max(MULTIPLE, round(gray.width * factor)), height)
    return gray.resize(size, Image.Resampling.BILINEAR), factor


def pad_to_multiple(arr: np.ndarray, multiple: int = MULTIPLE) -> np.ndarray:
    """Zero-pad (ink 0 = paper) right and bottom to sides that are multiples of ``multiple``."""
    h, w = arr.shape[-2:]
    ph, pw = -h % multiple, -w % multiple
    return np.pad(arr, [(0, 0)] * (arr.ndim - 2) + [(0, ph), (0, pw)]) if ph or pw else arr


def draw_targets(lines: list[Line], transform: np.ndarray, map_size: tuple[int, int]) -> np.ndarray:
    """``(2, h, w)`` uint8 maps: baselines and line areas, the lines mapped by the 2x3 affine ``transform``."""
    maps = [Image.new("L", map_size, 0) for _ in range(2)]
    base, area = (ImageDraw.Draw(m) for m in maps)
    for line in lines:
        polygon = _apply(transform, line.polygon)
        if len(polygon) >= 3:
            area.polygon(polygon, fill=1)
        base.line(_apply(transform, line.baseline), fill=1, width=BAND)
    return np.stack([np.asarray(m) for m in maps])


def map_coordinates(to_input: np.ndarray) -> np.ndarray:
    """Page -> map pixels from page -> input pixels: map pixel ``v`` covers input pixels ``[v, v + 1) * STRIDE``.

    So a map coordinate ``v`` is input coordinate ``(v + 0.5) * STRIDE - 0.5``, as :mod:`.vectorise` reads it.
    """
    out = to_input / STRIDE
    out[:, 2] += 0.5 / STRIDE - 0.5
    return out


def _apply(transform: np.ndarray, points: list[Point]) -> list[Point]:
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    out = pts @ transform[:, :2].T + transform[:, 2]
    return [(float(x), float(y)) for x, y in out]


def _affine(scale: float, angle: float, centre: Point, shift: Point) -> np.ndarray:
    """Forward 2x3 map of page pixels: scale, rotate by ``angle`` about ``centre`` (scaled), move by ``shift``."""
    cos, sin = math.cos(angle), math.sin(angle)
    rot = np.array([[cos, -sin], [sin, cos]])
    c = np.array(centre)
    offset = c - rot @ c + np.array(shift)
    return np.hstack([rot * scale, offset[:, None]])


class PageCrops(Dataset):
    """Training crops: ``crops`` random windows of ``size`` input px per page and epoch, with their target maps."""

    def __init__(self, pages: list[PageLayout], height: int, size: int = 384, crops: int = 4, seed: int = 0):
        self.pages, self.height, self.size, self.crops = pages, height, size, crops
        self.rng = random.Random(seed)
        self.cache: dict[int, Image.Image] = {}

    def __len__(self) -> int:
        return len(self.pages) * self.crops

    def _gray(self, i: int) -> Image.Image:
        if i not in self.cache:  # pages decoded once per worker: a few hundred pages fit in memory
            with open_image(self.pages[i].image) as img:
                self.cache[i] = img.convert("L")
        return self.cache[i]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        i, rng = index % len(self.pages), self.rng
        page, gray = self.pages[i], self._gray(index % len(self.pages))
        seg = page.segmentation
        scale = self.height / seg.height * rng.uniform(0.8, 1.25)
        angle = math.radians(rng.uniform(-2.0, 2.0))
        width, height = seg.width * scale, seg.height * scale
        x0 = rng.uniform(min(0.0, width - self.size), max(0.0, width - self.size))
        y0 = rng.uniform(min(0.0, height - self.size), max(0.0, height - self.size))
        forward = _affine(scale, angle, (seg.width / 2 * scale, seg.height / 2 * scale), (-x0, -y0))
        inverse = np.linalg.inv(np.vstack([forward, [0, 0, 1]]))[:2]
        paper = int(np.percentile(np.asarray(gray), 90))
        crop = gray.transform(
            (self.size, self.size),
            Image.Transform.AFFINE,
            tuple(inverse.flatten()),
            Image.Resampling.BILINEAR,
            fillcolor=paper,
        )
        if rng.random() < 0.3:
            crop = crop.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
        arr = ink(np.asarray(crop)) * rng.uniform(0.7, 1.1)
        to_map = map_coordinates(forward)
        targets = draw_targets(seg.lines, to_map, (self.size // STRIDE, self.size // STRIDE))
        return {"pages": torch.from_numpy(arr[None].astype(np.float32)), "targets": torch.from_numpy(targets).float()}


class WholePages(Dataset):
    """Validation: each page scaled to the input height, padded, with its target maps and ground truth."""

    def __init__(self, pages: list[PageLayout], height: int):
        self.pages, self.height = pages, height

    def __len__(self) -> int:
        return len(self.pages)

    def __getitem__(self, i: int) -> dict:
        page = self.pages[i]
        with open_image(page.image) as img:
            scaled, factor = scaled_page(img, self.height)
        arr = pad_to_multiple(ink(np.asarray(scaled)))
        to_map = map_coordinates(np.array([[factor, 0.0, 0.0], [0.0, factor, 0.0]]))
        targets = draw_targets(page.segmentation.lines, to_map, (arr.shape[1] // STRIDE, arr.shape[0] // STRIDE))
        return {
            "pages": torch.from_numpy(arr[None].astype(np.float32)),
            "targets": torch.from_numpy(targets).float(),
            "index": i,
            "factor": factor,
        }


def collate_whole(items: list[dict]) -> dict:
    """Validation batches of one page (pages differ in width)."""
    (item,) = items
    return {**item, "pages": item["pages"][None], "targets": item["targets"][None]}
