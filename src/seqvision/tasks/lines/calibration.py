"""Calibrated word confidences: a confidence temperature, expected calibration error, reliability plots.

A character's confidence is the decoder's probability for it (the network's, or with a character
LM the decoder's combined odds) at the best of its frames; a word's is the product of its
characters'. Networks trained with CTC are mis-calibrated, and a language model makes raw
network probabilities under-confident. One temperature ``T`` fixes most of it without changing
what is read: each character confidence ``c`` becomes ``c ** T`` (log-confidences scaled by ``T``;
``T > 1`` lowers confidences, like a hotter softmax), so words stay products of characters.
``T`` is fitted on labelled lines by minimising the negative log-likelihood of "this word is
right" and stored in the model's metadata (``calibration.temperature``), which
:class:`~seqvision.tasks.lines.predictor.Recognizer` applies.

(Classic temperature scaling of the network's logits was measured too: on hooker val it helps
greedy decoding about as much, but does nothing for beam search with an LM.)

>>> expected_calibration_error([0.9, 0.9, 0.2], [True, False, False])   # doctest: +ELLIPSIS
0.3666...
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqvision.data.alphabet import Alphabet
from seqvision.errors import DataError
from seqvision.tasks.lines.decoding.ctc import Decoded, acoustic_confidences
from seqvision.training.plot import check_plotting as check_plotting  # re-exported for `calibrate --plot`
from seqvision.training.plot import figure, save_png

CharConfidences = Callable[[Decoded, np.ndarray, float], list[float]]
MIN_WORDS = 20
RELIABILITY_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd"]


def matched_words(hypothesis: Sequence[str], reference: Sequence[str]) -> list[bool]:
    """For each hypothesis word: is it aligned to an identical reference word (Levenshtein alignment)?"""
    n, m = len(hypothesis), len(reference)
    cost = np.zeros((n + 1, m + 1), dtype=np.int32)
    cost[:, 0] = np.arange(n + 1)
    cost[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(
                cost[i - 1, j] + 1, cost[i, j - 1] + 1, cost[i - 1, j - 1] + (hypothesis[i - 1] != reference[j - 1])
            )
    right = [False] * n
    i, j = n, m
    while i > 0 and j > 0:
        same = hypothesis[i - 1] == reference[j - 1]
        if cost[i, j] == cost[i - 1, j - 1] + (not same):
            right[i - 1] = same
            i, j = i - 1, j - 1
        elif cost[i, j] == cost[i - 1, j] + 1:
            i -= 1
        else:
            j -= 1
    return right


def word_confidences(
    decoded: Decoded,
    log_probs: np.ndarray,
    alphabet: Alphabet,
    temperature: float,
    char_confidences: CharConfidences | None = None,
) -> list[float]:
    """Word confidences of an already decoded line recomputed at ``temperature`` (the path stays the same).

    Args:
        char_confidences: How the decoder scores its characters (``Decoder.char_confidences``); default:
            the network's probabilities.
    """
    if char_confidences is None:
        chars = acoustic_confidences(decoded, log_probs, alphabet, temperature)
    else:
        chars = char_confidences(decoded, log_probs, temperature)
    return [float(np.prod(chars[w.chars[0] : w.chars[1]])) for w in decoded.words(1.0)]


def expected_calibration_error(
    confidences: Sequence[float] | np.ndarray, correct: Sequence[bool], bins: int = 15
) -> float:
    """ECE: the bin-weighted mean gap between confidence and accuracy over ``bins`` equal-width bins."""
    conf = np.asarray(confidences, dtype=np.float64)
    right = np.asarray(correct, dtype=np.float64)
    if not len(conf):
        return 0.0
    which = np.minimum((conf * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(right[mask].mean() - conf[mask].mean())
    return float(total / len(conf))


@dataclass
class Calibration:
    temperature: float
    words: int
    accuracy: float  # fraction of hypothesis words that match the reference
    ece_before: float
    ece_after: float
    nll_before: float
    nll_after: float
    before: tuple[list[float], list[bool]]  # (confidences, correct) per word, at T = 1
    after: tuple[list[float], list[bool]]

    def summary(self) -> dict:
        keys = ("temperature", "accuracy", "ece_before", "ece_after", "nll_before", "nll_after")
        return {"words": self.words, **{k: round(float(getattr(self, k)), 5) for k in keys}}


def _nll(conf: np.ndarray, right: np.ndarray) -> float:
    p = np.clip(conf, 1e-6, 1 - 1e-6)
    return float(-(right * np.log(p) + (1 - right) * np.log1p(-p)).mean())


def fit_temperature(
    decoded: Sequence[Decoded],
    log_probs: Sequence[np.ndarray],
    references: Sequence[str],
    alphabet: Alphabet,
    char_confidences: CharConfidences | None = None,
) -> Calibration:
    """Fit the temperature that minimises the word-correctness NLL (golden-section search over log T).

    Args:
        char_confidences: The decoder's ``char_confidences`` (default: the network's probabilities).
    """
    right: list[bool] = []
    for d, ref in zip(decoded, references, strict=True):
        right += matched_words(d.text.split(), ref.split())
    target = np.asarray(right, dtype=np.float64)
    if len(target) < MIN_WORDS:
        raise DataError(f"only {len(target)} words were read; calibration needs at least {MIN_WORDS}")

    def confidences(t: float) -> np.ndarray:
        out: list[float] = []
        for d, lp in zip(decoded, log_probs, strict=True):
            out += word_confidences(d, lp, alphabet, t, char_confidences)
        return np.asarray(out, dtype=np.float64)

    def loss(log_t: float) -> float:
        return _nll(confidences(math.exp(log_t)), target)

    lo, hi = math.log(0.02), math.log(50.0)
    golden = (math.sqrt(5) - 1) / 2
    a, b = hi - golden * (hi - lo), lo + golden * (hi - lo)
    fa, fb = loss(a), loss(b)
    for _ in range(30):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - golden * (hi - lo)
            fa = loss(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + golden * (hi - lo)
            fb = loss(b)
    t = math.exp((lo + hi) / 2)
    c0, c1 = confidences(1.0), confidences(t)
    return Calibration(
        temperature=t,
        words=len(right),
        accuracy=float(target.mean()) if len(target) else 0.0,
        ece_before=expected_calibration_error(c0, right),
        ece_after=expected_calibration_error(c1, right),
        nll_before=_nll(c0, target),
        nll_after=_nll(c1, target),
        before=(c0.tolist(), right),
        after=(c1.tolist(), right),
    )


def reliability_plot(path: str | Path, curves: dict[str, tuple[list[float], list[bool]]], bins: int = 10) -> None:
    """A reliability diagram (accuracy against confidence per bin, with the diagonal) as a PNG, by matplotlib.

    Raises:
        PlotUnavailable: matplotlib (the ``[plot]`` extra) is not installed.
    """
    fig = figure(6.4, 6.4)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="#999999", linewidth=1, label="perfectly calibrated")
    for n, (name, (conf, right)) in enumerate(curves.items()):
        c = np.asarray(conf, dtype=np.float64)
        r = np.asarray(right, dtype=np.float64)
        which = np.minimum((c * bins).astype(int), bins - 1)
        points = [
            (c[which == b].mean(), r[which == b].mean(), int((which == b).sum()))
            for b in range(bins)
            if (which == b).any()
        ]
        colour = RELIABILITY_COLOURS[n % len(RELIABILITY_COLOURS)]
        ece = expected_calibration_error(conf, right)
        if points:
            xs, ys, counts = zip(*points, strict=True)
            ax.plot(xs, ys, color=colour, linewidth=2.5, label=f"{name}: ECE {100 * ece:.1f} %")
            # a dot of radius 2-10 px (100 dpi; area in points squared) that grows with the bin
            sizes = [(2 * 0.72 * (2 + min(8.0, math.sqrt(count) / 3))) ** 2 for count in counts]
            ax.scatter(xs, ys, s=sizes, color=colour, zorder=3)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="word confidence", ylabel="accuracy (fraction of words right)")
    ax.set_aspect("equal")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    save_png(fig, path)
