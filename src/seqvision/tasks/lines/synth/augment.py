"""augraphy's document degradations as the paper and scan stages of the line generator (``synth --augraphy``).

`augraphy <https://github.com/sparkfish/augraphy>`_ (the ``augraphy`` extra) simulates printing, paper and
scanning on whole pages. Its effects that are fast and make sense on a 30-70 px line are used here; its
``Letterpress`` (about 0.75 s a line), ``BadPhotoCopy`` (0.12 s), ``DirtyRollers`` with large pages in mind,
``Moire``, ``ShadowCast`` and ``Stains`` (over 0.1 s each) are left out. augraphy draws from Python's and
NumPy's global generators and OpenCV's; they are seeded from the line's own generator before each line,
so a line stays the same for a seed (within one augraphy version). The augmentations run in augraphy's
three phases (ink, paper, then the ink multiplied onto the paper, post) but not through its
``AugraphyPipeline``, which writes every image it gets into ``./augraphy_cache/`` and reads some back.
"""

from __future__ import annotations

import random
import warnings
from typing import Any

import numpy as np

from seqvision.errors import ConfigError

MISSING = "synth --augraphy needs the [augraphy] extra: pip install 'seqvision[augraphy]'"
MIN_SIDE = 32  # augraphy wants images of at least 30 x 30 px


def require_augraphy() -> Any:
    """The ``augraphy`` module, or one clear error naming the extra."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import augraphy
    except ImportError as exc:
        raise ConfigError(f"{MISSING} ({exc})") from None
    return augraphy


def _phases(a: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """The ink, paper and post phases (augraphy's own split), each augmentation with its probability."""
    ink = [
        a.InkBleed(intensity_range=(0.3, 0.7), kernel_size=(3, 3), severity=(0.2, 0.5), p=0.3),
        a.OneOf([a.LowInkRandomLines(use_consistent_lines=False), a.LowInkPeriodicLines()], p=0.25),
        a.InkMottling(p=0.2),
        a.Dithering(p=0.05),
    ]
    paper = [
        a.NoiseTexturize(sigma_range=(2, 6), turbulence_range=(2, 5), p=0.3),
        a.BrightnessTexturize(texturize_range=(0.9, 0.99), deviation=0.05, p=0.3),
    ]
    post = [
        a.OneOf([a.DirtyDrum(), a.Faxify(monochrome=1)], p=0.15),
        a.SubtleNoise(p=0.3),
        a.Brightness(brightness_range=(0.8, 1.1), p=0.3),
        a.Gamma(gamma_range=(0.7, 1.5), p=0.3),
        a.Jpeg(quality_range=(25, 90), p=0.3),
    ]
    return ink, paper, post


def _apply(augmentations: list[Any], image: np.ndarray, cv2: Any) -> np.ndarray:
    """Each augmentation in turn (it decides by its own ``p`` whether to run; not run, it returns None)."""
    for aug in augmentations:
        out = aug(image)
        out = out[0] if isinstance(out, tuple) else out
        if out is not None:
            image = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY) if out.ndim == 3 else out
    return np.ascontiguousarray(image, dtype=np.uint8)


def _seed(state: int, cv2: Any) -> None:
    """augraphy draws from Python's, NumPy's and OpenCV's global generators."""
    random.seed(state)
    np.random.seed(state)
    cv2.setRNGSeed(state)


def augraphy_pipeline() -> Any:
    """A function ``(uint8 (H, W) black on white, rng) -> uint8 (H, W)`` running the pipeline on one line."""
    a = require_augraphy()
    import cv2  # augraphy needs OpenCV, so it is there

    _seed(0, cv2)  # some augmentations draw settings when they are made: the same for every generator
    ink, paper, post = _phases(a)

    def run(gray: np.ndarray, rng: random.Random) -> np.ndarray:
        _seed(rng.getrandbits(31) + 1, cv2)
        h, w = gray.shape
        padded = np.full((max(h, MIN_SIDE), max(w, MIN_SIDE)), 255, dtype=np.uint8)
        padded[:h, :w] = gray
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inked = _apply(ink, padded, cv2)
            sheet = _apply(paper, np.full_like(padded, 255), cv2)
            out = _apply(post, (inked.astype(np.float32) * sheet / 255 + 0.5).astype(np.uint8), cv2)
        out = out[:h, :w] if out.shape[:2] == padded.shape else cv2.resize(out, (w, h), interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(out, dtype=np.uint8)

    return run
