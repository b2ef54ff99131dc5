"""Synthetic printed text lines: real English text, system fonts, scan and photo degradations.

>>> from seqvision.tasks.lines.synth import LineGenerator, find_fonts
>>> generator = LineGenerator(find_fonts(exclude=HELD_OUT), seed=0)
"""

from seqvision.tasks.lines.synth.dataset import write_dataset
from seqvision.tasks.lines.synth.fonts import HELD_OUT, PILLOW_FONT, Font, find_fonts
from seqvision.tasks.lines.synth.generator import LineGenerator, render_text
from seqvision.tasks.lines.synth.render import BUILTIN
from seqvision.tasks.lines.synth.text import CHARSET, load_corpus

__all__ = [
    "BUILTIN",
    "CHARSET",
    "HELD_OUT",
    "PILLOW_FONT",
    "Font",
    "LineGenerator",
    "find_fonts",
    "load_corpus",
    "render_text",
    "write_dataset",
]
