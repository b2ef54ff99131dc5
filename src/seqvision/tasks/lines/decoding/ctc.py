"""From CTC log-probabilities to text: the best path (greedy), confidences and positions.

Every decoder (greedy here, beam search in :mod:`seqvision.tasks.lines.decoding.beam`) produces a *path*, one
class per output frame; :func:`from_path` turns any path into a :class:`Decoded` line with
per-character confidences, per-character frame ranges and, given the image width, x-ranges of
characters and words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from seqvision.data.alphabet import Alphabet


@dataclass
class Word:
    text: str
    confidence: float  # product of its characters' confidences: the chance that the whole word is right
    x0: float  # x-range in the coordinates given to Decoded.words(width)
    x1: float
    chars: tuple[int, int]  # [start, end) indices into Decoded.text


@dataclass
class Decoded:
    text: str
    confidence: float  # geometric mean of the path's per-frame probabilities
    char_confidences: list[float] = field(default_factory=list)  # max probability of the character over its frames
    char_frames: list[tuple[int, int]] = field(default_factory=list)  # [start, end) frames where it was emitted
    frames: int = 0  # output frames of the line (the time axis of the log-probabilities)
    width: float = 0.0  # width of the line image in its own pixels (set by the Recognizer); frames span it
    log_probs: np.ndarray | None = field(default=None, repr=False)  # (T, K), kept only when asked (tuning, calibration)

    def char_spans(self, width: float | None = None) -> list[tuple[float, float]]:
        """Each character's x-range in an image ``width`` wide (default: the line image as given, not as resized).

        A character owns the frames where it fires and half of the blank frames on either side; the
        first and last character get as much again outside, so boxes have a similar width.
        """
        width = self.width if width is None else width
        if not self.char_frames or self.frames <= 0:
            return []
        starts = [float(a) for a, _ in self.char_frames]
        ends = [float(b) for _, b in self.char_frames]
        cuts = [(ends[i] + starts[i + 1]) / 2 for i in range(len(starts) - 1)]
        first_pad = (cuts[0] - ends[0]) if cuts else 0.5
        last_pad = (starts[-1] - cuts[-1]) if cuts else 0.5
        lefts = [max(0.0, starts[0] - first_pad), *cuts]
        rights = [*cuts, min(float(self.frames), ends[-1] + last_pad)]
        scale = width / self.frames
        return [(round(a * scale, 1), round(b * scale, 1)) for a, b in zip(lefts, rights, strict=True)]

    def words(self, width: float | None = None) -> list[Word]:
        """Space-separated words with confidences and x-ranges in an image ``width`` wide (default: as given)."""
        spans = self.char_spans(width)
        words: list[Word] = []
        start = None
        for i, ch in enumerate(self.text + " "):
            if ch != " " and start is None:
                start = i
            elif ch == " " and start is not None:
                conf = float(np.prod(self.char_confidences[start:i])) if self.char_confidences else 0.0
                x0, x1 = (spans[start][0], spans[i - 1][1]) if spans else (0.0, 0.0)
                words.append(Word(self.text[start:i], conf, x0, x1, (start, i)))
                start = None
        return words


def calibrated(log_confidence: np.ndarray | float, temperature: float) -> np.ndarray | float:
    """A confidence ``c`` as ``c ** temperature``, from ``log c``: the calibration every decoder applies.

    ``temperature > 1`` lowers confidences (for an over-confident model), ``< 1`` raises them. Scaling
    log-confidences (not the network's logits) keeps a word's confidence the product of its
    characters' and works whether or not a language model chose the characters.
    """
    return np.exp(np.asarray(log_confidence, dtype=np.float64) * temperature)


def from_path(path: np.ndarray, log_probs: np.ndarray, alphabet: Alphabet, temperature: float = 1.0) -> Decoded:
    """Collapse a CTC path (one class per frame) into text, with confidences from ``log_probs``.

    Args:
        path: ``(T,)`` class per frame (repeats merge, blanks drop, as CTC defines).
        log_probs: ``(T, K)`` log-probabilities of the same frames.
        temperature: Confidence calibration (:func:`calibrated`); the path itself is not changed.
    """
    lp = log_probs[: len(path)]
    path_lp = lp[np.arange(len(path)), path] if len(path) else np.zeros(0)
    ids: list[int] = []
    confs: list[float] = []
    frames: list[tuple[int, int]] = []
    prev = Alphabet.BLANK
    for t, k in enumerate(path.tolist()):
        if k != Alphabet.BLANK and k != prev:
            ids.append(k)
            confs.append(float(calibrated(path_lp[t], temperature)))
            frames.append((t, t + 1))
        elif k != Alphabet.BLANK and k == prev:
            confs[-1] = max(confs[-1], float(calibrated(path_lp[t], temperature)))
            frames[-1] = (frames[-1][0], t + 1)
        prev = k
    confidence = float(np.exp(path_lp.mean())) if len(path_lp) else 0.0
    return Decoded(alphabet.decode(ids), confidence, confs, frames, len(path))


def acoustic_confidences(
    decoded: Decoded, log_probs: np.ndarray, alphabet: Alphabet, temperature: float = 1.0
) -> list[float]:
    """Each character's highest network probability over the frames where it was emitted, calibrated."""
    lp = log_probs[: decoded.frames]
    return [
        float(calibrated(lp[a:b, alphabet.index[c]].max(), temperature)) if c in alphabet.index else 0.0
        for c, (a, b) in zip(decoded.text, decoded.char_frames, strict=True)
    ]


def greedy_decode(log_probs: np.ndarray, length: int, alphabet: Alphabet, temperature: float = 1.0) -> Decoded:
    """Best path of one ``(T, K)`` log-probability matrix over its first ``length`` frames."""
    lp = log_probs[:length]
    return from_path(lp.argmax(-1), lp, alphabet, temperature)
