"""CTC greedy (best-path) decoding with per-character and line confidences."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from seqvision.decoding.alphabet import Alphabet


@dataclass
class Decoded:
    text: str
    confidence: float  # geometric mean of the best path's per-frame probabilities
    char_confidences: list[float] = field(default_factory=list)  # max frame probability per character
    char_frames: list[tuple[int, int]] = field(default_factory=list)  # [start, end) output frames per character


def greedy_decode(log_probs: np.ndarray, length: int, alphabet: Alphabet) -> Decoded:
    """Best path of one ``(T, K)`` log-probability matrix over its first ``length`` frames."""
    lp = log_probs[:length]
    best = lp.argmax(-1)
    best_lp = lp[np.arange(len(best)), best]
    ids: list[int] = []
    confs: list[float] = []
    frames: list[tuple[int, int]] = []
    prev = Alphabet.BLANK
    for t, k in enumerate(best.tolist()):
        if k != Alphabet.BLANK and k != prev:
            ids.append(k)
            confs.append(float(np.exp(best_lp[t])))
            frames.append((t, t + 1))
        elif k != Alphabet.BLANK and k == prev:
            confs[-1] = max(confs[-1], float(np.exp(best_lp[t])))
            frames[-1] = (frames[-1][0], t + 1)
        prev = k
    confidence = float(np.exp(best_lp.mean())) if len(best_lp) else 0.0
    return Decoded(alphabet.decode(ids), confidence, confs, frames)
