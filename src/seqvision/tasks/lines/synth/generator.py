"""The synthetic line generator: text x font x rendering x degradation, deterministic per (seed, index),
so line ``i`` of a data set is the same whichever worker draws it.

>>> from seqvision.tasks.lines.synth import LineGenerator, find_fonts
>>> image, text, font = LineGenerator(find_fonts(), seed=0, height=32)[0]
>>> image.height
32
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
from PIL import Image

from seqvision.errors import DataError
from seqvision.tasks.lines.synth.degrade import Augment, degrade
from seqvision.tasks.lines.synth.fonts import PILLOW_FONT, Font, coverage, find_fonts
from seqvision.tasks.lines.synth.profile import DEFAULT, Degradations
from seqvision.tasks.lines.synth.render import draw_line
from seqvision.tasks.lines.synth.text import CHARSET, MAX_CHARS, TextSampler, load_corpus

# typographic characters a font may lack, and what the printer would have used instead
PLAIN = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "€": "EUR", "£": "GBP"})


class LineGenerator:
    """Random printed lines: ``generator[i]`` -> (grayscale image, text, font).

    Args:
        fonts: fonts to draw from, uniformly.
        seed: data set seed; with the index it fixes everything about a line.
        height: output image height in pixels (width follows the text).
        clean: plain black-on-white rendering with no degradations (for tests and checks).
        max_chars: longest line in characters.
        degradations: probabilities and ranges of the degraded mode (:mod:`.profile`).
        augraphy: augraphy's document pipeline instead of the built-in paper and scan stages (the
            ``augraphy`` extra; see :mod:`.augment`).
    """

    def __init__(
        self,
        fonts: Sequence[Font],
        seed: int = 0,
        height: int = 48,
        clean: bool = False,
        max_chars: int = MAX_CHARS,
        degradations: Degradations = DEFAULT,
        augraphy: bool = False,
    ):
        if not fonts:
            raise ValueError("LineGenerator needs at least one font")
        self.seed, self.height, self.clean, self.cfg = seed, height, clean, degradations
        self.augment: Augment | None = None
        if augraphy and not clean:
            from seqvision.tasks.lines.synth.augment import augraphy_pipeline

            self.augment = augraphy_pipeline()
        self.families: dict[str, list[Font]] = {}
        for font in fonts:  # families are drawn uniformly, so a family with 18 styles is not 18x as likely
            self.families.setdefault(font.family, []).append(font)
        self.family_names = sorted(self.families)
        self.texts = TextSampler(load_corpus(), max_chars)

    def _fit(self, text: str, rng: random.Random) -> tuple[str, Font]:
        """A font that draws every character of ``text``; else the text in plain characters; else trimmed."""
        for _ in range(8):
            font = rng.choice(self.families[rng.choice(self.family_names)])
            covered = coverage(font.path, CHARSET)
            if all(ch in covered for ch in text):
                return text, font
        text = text.translate(PLAIN)
        return "".join(ch for ch in text if ch in covered or ch == " ").strip() or "a", font

    def __getitem__(self, index: int) -> tuple[Image.Image, str, Font]:
        rng = random.Random(f"{self.seed}:{index}")
        nrng = np.random.default_rng([self.seed, index])
        text, font = self._fit(self.texts.line(rng), rng)
        filler = "" if self.clean else self.texts.line(rng)
        mask = draw_line(text, font.path, rng, clean=self.clean, filler=filler, cfg=self.cfg)
        back = None  # bleed-through: another line, from the back of the sheet
        if not self.clean and self.augment is None and rng.random() < self.cfg.bleed_through:
            back = draw_line(self.texts.line(rng), font.path, rng, clean=True)
        image = degrade(mask, self.height, rng, nrng, self.clean, self.cfg, back, self.augment)
        return image, text, font


def render_text(text: str, height: int = 48, font: Font | None = None, seed: int = 0) -> Image.Image:
    """One clean line of ``text`` (black on white), in ``font`` or the first system font (Pillow's own if none).

    >>> render_text("Hello, world", height=32).height
    32
    """
    if font is None:
        try:
            font = find_fonts()[0]
        except DataError:
            font = PILLOW_FONT
    rng = random.Random(seed)
    mask = draw_line(text, font.path, rng, clean=True)
    return degrade(mask, height, rng, np.random.default_rng(seed), clean=True)
