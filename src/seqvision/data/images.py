"""Image loading and the line normalisation every model input goes through.

Lines keep their aspect ratio: the height is scaled to the model's input height and the width
follows. Pixels become ink intensity in [0, 1] (background 0), so zero padding is blank paper.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from seqvision.data.samples import LineSample
from seqvision.errors import DataError

Image.MAX_IMAGE_PIXELS = 200_000_000  # whole pages are large, but refuse decompression bombs

NORMALISATION = {"method": "ink-contrast", "invert": "auto", "background": "median", "range": [0.0, 1.0]}


def open_image(path: str | Path, mode: str = "L") -> Image.Image:
    """Decode an image file to 8-bit grayscale (or ``mode``); :class:`DataError` naming the file on any problem."""
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img.load()
                gray = img.convert(mode)
    except FileNotFoundError:
        raise DataError(f"{path}: image file not found") from None
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DataError(f"{path}: not a readable image ({exc.__class__.__name__})") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{path}: corrupt or truncated image ({exc})") from None
    if gray.width == 0 or gray.height == 0:
        raise DataError(f"{path}: image has zero size")
    return gray


def image_size(sample: LineSample) -> tuple[int, int]:
    """(width, height) of a sample's line without decoding pixels (header or polygon only)."""
    if sample.polygon is not None:
        xs = [p[0] for p in sample.polygon]
        ys = [p[1] for p in sample.polygon]
        return int(max(xs) - min(xs)) + 1, int(max(ys) - min(ys)) + 1
    try:
        with Image.open(sample.image) as img:
            return img.size
    except FileNotFoundError:
        raise DataError(f"{sample.image}: image file not found") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{sample.image}: not a readable image ({exc.__class__.__name__})") from None


class PageCache:
    """Keeps the last decoded page image, since consecutive PAGE/ALTO lines share one page."""

    def __init__(self) -> None:
        self._path: Path | None = None
        self._image: Image.Image | None = None

    def get(self, path: Path) -> Image.Image:
        if path != self._path:
            self._image, self._path = open_image(path), path
        assert self._image is not None
        return self._image


def load_line(sample: LineSample, pages: PageCache | None = None) -> Image.Image:
    """The grayscale line image of a sample, cropped from its page when it has a polygon."""
    if sample.polygon is None:
        return open_image(sample.image)
    from seqvision.data.pages import crop_line

    page = (pages or PageCache()).get(sample.image)
    return crop_line(page, sample.polygon)


def resize_to_height(img: Image.Image, height: int, min_width: int = 4) -> Image.Image:
    width = max(min_width, round(img.width * height / img.height))
    return img.resize((width, height), Image.Resampling.BILINEAR)


def normalise(img: Image.Image) -> np.ndarray:
    """8-bit grayscale line -> float32 ink map in [0, 1]: background (median) at 0, ink stretched to 1.

    Ink is whichever side of the background has the longer tail, so light print on a dark ground
    reads like dark ink on paper. Per-line contrast normalisation makes faint pencil and dark print
    look alike to the model.
    """
    pixels = np.asarray(img, dtype=np.float32)  # (H, W)
    background = float(np.median(pixels))
    low, high = np.percentile(pixels, [0.5, 99.5])
    ink = background - pixels if background - low >= high - background else pixels - background
    scale = max(float(max(background - low, high - background)), 24.0)
    return np.clip(ink / scale, 0.0, 1.0)


def pad_arrays(arrays: list[np.ndarray], multiple: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """``[(H, W_i)]`` -> images ``(B, 1, H, W)`` float32 zero-padded on the right, true widths ``(B,)`` int64.

    ``W`` is the widest line rounded up to ``multiple``: fewer distinct shapes lets the CPU
    kernels (oneDNN, onnxruntime) reuse their plans, and the models mask padding anyway.
    """
    widths = np.array([a.shape[1] for a in arrays], dtype=np.int64)
    padded = -(-int(widths.max()) // multiple) * multiple
    batch = np.zeros((len(arrays), 1, arrays[0].shape[0], padded), np.float32)
    for i, a in enumerate(arrays):
        batch[i, 0, :, : a.shape[1]] = a
    return batch, widths


PAGE_MIN_HEIGHT = 400  # pixels: line crops are far lower, even at 600 dpi
PAGE_MAX_ASPECT = 2.5  # width / height: a line is much wider than high, a page (or a spread) is not


def looks_like_page(path: str | Path) -> bool:
    """Whether the image file at ``path`` is a whole page rather than a line (from its header only).

    >>> looks_like_page("letter.jpg")  # 1000 x 1400 px                   # doctest: +SKIP
    True
    """
    try:
        with Image.open(path) as img:
            width, height = img.size
    except (OSError, ValueError, SyntaxError, UnidentifiedImageError):
        return False  # not readable: the line reader says what is wrong with it
    return height >= PAGE_MIN_HEIGHT and width <= PAGE_MAX_ASPECT * height
