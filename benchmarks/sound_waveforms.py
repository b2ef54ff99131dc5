"""How close the written waveforms are to the real sound: Griffin-Lim vs example retrieval (docs/sound.md).

For every clip of a validation list, the log-mel features of the waveform a sound model writes are
compared (mean L1) with the clip's real sound; the mean sound is the reference. Generated data::

    python benchmarks/sound_waveforms.py data/sound-val/clips.csv runs/sound-none runs/sound-lstm
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import torch

from seqvision.data.audio import Soundtrack
from seqvision.tasks.sound.clips import SoundSample
from seqvision.tasks.sound.dataset import probe_sound
from seqvision.tasks.sound.predictor import SoundPredictor


def score(model: str, listing: Path) -> str:
    rows = list(csv.DictReader(listing.read_text(encoding="utf-8").splitlines()))
    sp = SoundPredictor.load(model)
    f = sp.features
    gl = retrieved = mean = 0.0
    same = 0
    for row in rows:
        path = listing.parent / row["path"]
        true = probe_sound(SoundSample(path, "", str(path)), f).features
        rec = sp.predict([path])[0]

        def features(wave: np.ndarray, frames: int = rec.frames, fps: float = rec.fps) -> np.ndarray:
            return f.of_track(Soundtrack(wave, f.rate, 0.0), frames, fps)

        gl += float(np.abs(features(sp.griffin_lim(rec)) - true).mean())
        nearest = sp.retrieve(rec)
        assert nearest is not None, f"{model}: no sound bank beside the model"
        retrieved += float(np.abs(features(nearest[0]) - true).mean())
        mean += float(np.abs(sp.mean[None] - true).mean())
        same += Path(nearest[1]).parent.name == row.get("material")
    n = len(rows)
    return (
        f"{model}: Griffin-Lim {gl / n:.4f}, retrieval {retrieved / n:.4f}, mean sound {mean / n:.4f}; "
        f"retrieved clip of the right material {same}/{n}"
    )


if __name__ == "__main__":
    torch.set_num_threads(1)
    listing = Path(sys.argv[1])
    for model in sys.argv[2:]:
        print(score(model, listing))
