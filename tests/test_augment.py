"""Line augmentation: shapes kept, seeded, and the grid warp (data.warp) really distorts without losing ink."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image, ImageDraw

from seqvision.config import DataConfig
from seqvision.data.augment import augment_line, grid_warp


def line_image(width: int = 300, height: int = 48) -> Image.Image:
    img = Image.new("L", (width, height), 230)
    draw = ImageDraw.Draw(img)
    for x in range(10, width - 20, 24):  # strokes like letters
        draw.line([(x, 12), (x + 10, 36)], fill=20, width=3)
    return img


@pytest.mark.parametrize("warp", [0.0, 0.05])
def test_augment_keeps_height_and_is_seeded(warp):
    img = line_image()
    a = [augment_line(img, random.Random(seed), warp) for seed in range(20)]
    b = [augment_line(img, random.Random(seed), warp) for seed in range(20)]
    assert all(x.height == img.height for x in a)
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b, strict=True))
    assert len({np.asarray(x).tobytes() for x in a}) > 10  # the draws differ between seeds


def test_grid_warp_moves_strokes_but_keeps_the_ink():
    img = line_image()
    src = np.asarray(img, dtype=np.float32)
    out = np.asarray(grid_warp(img, random.Random(3), 0.06, 230), dtype=np.float32)
    assert out.shape == src.shape
    assert np.abs(out - src).mean() > 1.0  # strokes moved
    ink_before, ink_after = (230 - src).sum(), (230 - out).sum()
    assert abs(ink_after - ink_before) / ink_before < 0.15  # nothing pushed off the line
    # the ends stay put: the first and last strokes are still where they were (columns of ink)
    assert (out[:, :8] > 200).all()


def test_grid_warp_of_zero_strength_is_the_identity():
    img = line_image()
    out = grid_warp(img, random.Random(0), 0.0, 230)
    assert np.abs(np.asarray(out, dtype=np.int16) - np.asarray(img, dtype=np.int16)).max() <= 1


def test_warp_is_off_by_default_and_reaches_the_dataset(tmp_path):
    from seqvision.data.alphabet import Alphabet
    from seqvision.data.lines import LineDataset
    from seqvision.data.samples import LineSample

    assert DataConfig().warp == 0.0
    line_image().save(tmp_path / "a.png")
    samples = [LineSample(tmp_path / "a.png", "abc", "a.png")]
    alphabet = Alphabet.from_texts(["abc"])
    plain = [LineDataset(samples, alphabet, 48, augment=True, seed=s)[0][0] for s in range(8)]
    warped = [LineDataset(samples, alphabet, 48, augment=True, seed=s, warp=0.08)[0][0] for s in range(8)]
    assert any(p.shape != w.shape or not np.array_equal(p, w) for p, w in zip(plain, warped, strict=True))
