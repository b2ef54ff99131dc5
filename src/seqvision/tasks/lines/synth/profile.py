"""Every probability and parameter range of the degraded pipeline, in one place (the clean mode uses none).

A field named after an effect is its probability per line; ``<effect>_<what>`` fields are its parameters
(ranges are drawn uniformly). ``docs/synth.md`` describes each effect; the figures come from looking at the
real printed lines of ``../shared/data/printed`` (typewritten EHRI reports, 19th-century print, receipts).

>>> from dataclasses import replace
>>> only_thermal = replace(DEFAULT, thermal=1.0, binarise=0.0, photocopy=0.0, fax=0.0)
"""

from __future__ import annotations

from dataclasses import dataclass

Range = tuple[float, float]


@dataclass(frozen=True)
class Degradations:
    # layout (render.py): what the line segmenter left in the crop
    neighbours: float = 0.45  # descenders of the line above / ascenders of the line below at the edges
    neighbours_pitch: Range = (0.9, 1.3)  # line pitch as a multiple of the font's ascent + descent
    tight_crop: float = 0.25  # the crop cuts into ascenders and descenders
    tight_crop_cut: Range = (0.0, 0.12)  # how much, as a fraction of the font size, at each edge
    # typewriter inking (render.py), per line; monospace faces are far more likely typewritten
    typewriter_mono: float = 0.7
    typewriter_other: float = 0.08
    typewriter_darkness: Range = (0.6, 1.0)  # each glyph's ink, as a fraction of full
    typewriter_heavy: float = 0.12  # per glyph: struck twice, one pixel apart (heavier)
    typewriter_baseline: float = 0.03  # per glyph: baseline offset, std as a fraction of the font size
    # ink on the mask (ink.py)
    letterpress: float = 0.15  # ink spread (rounded, bolder) and ink squeeze (darker rims, lighter cores)
    letterpress_spread: Range = (0.5, 1.4)  # blur radius in px before the ink threshold
    letterpress_squeeze: Range = (0.0, 0.3)  # how much lighter the inside of a stroke is
    mottle: float = 0.15  # patchy inking: low-frequency ink density
    mottle_depth: Range = (0.15, 0.45)
    curvature: float = 0.15  # the baseline bows or waves (page curl, a bent sheet)
    curvature_amplitude: Range = (0.02, 0.07)  # peak shift as a fraction of the line height
    # paper (scan.py), before the ink goes on
    paper_bright: float = 0.8  # a white scan; else a darker, older or photographed page
    paper_bright_level: Range = (228.0, 255.0)
    paper_dark_level: Range = (170.0, 225.0)
    ink_dark: float = 0.7  # black ink; else a grey, worn ribbon or faded print
    ink_dark_level: Range = (0.0, 50.0)
    ink_grey_level: Range = (50.0, 110.0)
    grain: float = 0.35  # paper texture: fine fibrous grain
    grain_strength: Range = (3.0, 12.0)
    dirt: float = 0.2  # spots, foxing and soft stains
    bleed_through: float = 0.1  # faint mirrored text of another line (the back of the sheet)
    bleed_through_strength: Range = (0.08, 0.3)
    # the scan: one medium per line, at most (the probabilities add up, the rest is a plain scan)
    binarise: float = 0.18  # Otsu threshold after noise: ragged hard edges, as in bitonal archive scans
    photocopy: float = 0.08  # over-dark copy: crushed contrast, toner specks, drum streaks
    fax: float = 0.04  # bitonal, dropped and shifted rows, salt and pepper
    thermal: float = 0.1  # receipt: faded grey print, dot-row banding, white streaks of dead head dots
    low_dpi: float = 0.12  # scanned at low resolution: down, then up with blocky pixels (not with a soft one)
    low_dpi_factor: Range = (0.4, 0.7)
    # a line whose ink all but vanished (thin face, grey ink, blur) is darkened back to this contrast at least
    # (grey levels from the 1st percentile to the median); real lines were all legible to their transcribers
    min_contrast: float = 70.0


DEFAULT = Degradations()
