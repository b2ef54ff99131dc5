"""Scores of predicted sound features: the L1/L2 loss (and a "mean sound" baseline's), and onset detection.

Onsets are found the same way in real and predicted features: the rise of the log energy (log of
the summed mel energies) over ``LAG`` sound frames (a window straddles two hops) peaks above
``RISE`` (a factor of e, 4.3 dB), at least 0.1 s after the previous onset. A predicted onset is
correct when it lies within ``TOLERANCE`` seconds of a true one (each matched at most once), as Owens et al. score their
onsets; precision, recall and their F1 (called the onset accuracy in the reports) are counted
over all clips. A constant "mean sound" has no onsets: its recall is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RISE = 1.0  # log-energy rise over LAG sound frames that counts as an onset
LAG = 2
TOLERANCE = 0.1  # seconds between a predicted and a true onset that still match
SEPARATION = 0.1  # seconds: an onset this close after another is the same one


def onsets(features: np.ndarray, frame_rate: float, rise: float = RISE) -> np.ndarray:
    """Onset times in seconds of ``(N, bands)`` log-mel features with ``frame_rate`` frames per second."""
    if len(features) <= LAG:
        return np.zeros(0)
    energy = np.log(np.exp(features.astype(np.float64)).sum(1))  # (N, M) -> (N,)
    flux = energy[LAG:] - energy[:-LAG]  # flux[i]: the rise from frame i to frame i + LAG
    peaks = [
        i
        for i in range(len(flux))
        if flux[i] > rise and flux[i] >= flux[max(i - 1, 0)] and (i + 1 == len(flux) or flux[i] >= flux[i + 1])
    ]
    out: list[float] = []
    for i in peaks:
        t = (i + 1) / frame_rate  # the first frame of the rise that holds the new sound
        if not out or t - out[-1] >= SEPARATION:
            out.append(t)
    return np.array(out)


def match(predicted: np.ndarray, true: np.ndarray, tolerance: float = TOLERANCE) -> int:
    """How many predicted onsets lie within ``tolerance`` of a true onset, each true onset used once."""
    used = np.zeros(len(true), dtype=bool)
    hits = 0
    for t in predicted:
        free = np.flatnonzero(~used & (np.abs(true - t) <= tolerance))
        if len(free):
            used[free[np.argmin(np.abs(true[free] - t))]] = True
            hits += 1
    return hits


@dataclass
class SoundScores:
    """Running sums over clips: feature error of the model and of the mean sound, onset counts."""

    loss: str = "l1"
    error: float = 0.0
    baseline: float = 0.0
    values: int = 0
    hits: int = 0
    predicted: int = 0
    true: int = 0
    clips: int = 0

    def update(self, pred: np.ndarray, target: np.ndarray, mean: np.ndarray, frame_rate: float) -> None:
        """One clip: ``(N, bands)`` predicted and true features, the ``(bands,)`` mean sound."""
        self.error += _error(pred - target, self.loss)
        self.baseline += _error(mean[None, :] - target, self.loss)
        self.values += target.size
        p, t = onsets(pred, frame_rate), onsets(target, frame_rate)
        self.hits += match(p, t)
        self.predicted += len(p)
        self.true += len(t)
        self.clips += 1

    def summary(self) -> dict[str, float]:
        precision = self.hits / self.predicted if self.predicted else 0.0
        recall = self.hits / self.true if self.true else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        n = max(self.values, 1)
        return {
            "loss": self.error / n,
            "mean_sound_loss": self.baseline / n,
            "onset_precision": precision,
            "onset_recall": recall,
            "onset_accuracy": f1,
            "true_onsets": float(self.true),
        }


def _error(diff: np.ndarray, loss: str) -> float:
    return float(np.abs(diff).sum()) if loss == "l1" else float((diff.astype(np.float64) ** 2).sum())
