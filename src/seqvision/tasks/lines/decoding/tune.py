"""Pick the LM weight and insertion bonus that give the lowest CER on labelled lines.

The network runs once; only decoding repeats, spread over processes (each loads the LM once).
The search is coordinate descent on a grid: weights at the starting bonus, then bonuses at the
best weight, then weights again at the best bonus.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from seqvision.data.alphabet import Alphabet
from seqvision.tasks.lines.decoding.beam import DecoderSpec, make_decoder
from seqvision.tasks.lines.decoding.ctc import Decoded
from seqvision.tasks.lines.metrics import ErrorRates

WEIGHTS = (0.2, 0.4, 0.6, 0.8, 1.0, 1.3, 1.6)
BONUSES = (-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0)

LINES_PER_WORKER = 4  # lines a decoding process must have to be worth forking (flashlight's speed)
_WORK: dict = {}  # what forked workers decode: set before the pool starts, inherited, never pickled


@dataclass
class Trial:
    lm_weight: float
    bonus: float
    cer: float
    wer: float
    seconds: float  # decoding time of all lines


def _decode_part(part: int, parts: int) -> tuple[list[Decoded], float]:
    decode, lps = _WORK["decoder"], _WORK["log_probs"]
    start = time.perf_counter()
    lines = [decode(lps[i], len(lps[i])) for i in range(part, len(lps), parts)]
    return lines, time.perf_counter() - start


def decode_all(
    spec: DecoderSpec,
    log_probs: Sequence[np.ndarray],
    alphabet: Alphabet,
    workers: int = 0,
    temperature: float = 1.0,
) -> tuple[list[Decoded], float]:
    """Every line decoded under ``spec`` on ``workers`` processes (0: all cores), and the decoding CPU seconds.

    The decoder is built here, once (the forked workers inherit it with its LM loaded); a worker is
    worth its fork for ``LINES_PER_WORKER`` lines, or 16 times as many for the compiled search
    (~3 ms a line, not ~50).
    """
    decoder = make_decoder(spec, alphabet, temperature)
    per_worker = LINES_PER_WORKER * (16 if getattr(decoder, "native", False) else 1)
    workers = min(workers or os.cpu_count() or 1, max(1, len(log_probs) // per_worker))
    _WORK.update(log_probs=list(log_probs), decoder=decoder)
    if workers == 1 or "fork" not in mp.get_all_start_methods():
        return _decode_part(0, 1)
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
        futures = [pool.submit(_decode_part, k, workers) for k in range(workers)]
        parts = [f.result() for f in futures]
    lines: list[Decoded] = [None] * len(log_probs)  # type: ignore[list-item]
    for k, (part, _) in enumerate(parts):
        lines[k::workers] = part
    return lines, sum(s for _, s in parts)


def score(texts: Sequence[str], references: Sequence[str]) -> ErrorRates:
    rates = ErrorRates()
    for text, ref in zip(texts, references, strict=True):
        rates.update(text, ref)
    return rates


def tune_lm(
    spec: DecoderSpec,
    log_probs: Sequence[np.ndarray],
    references: Sequence[str],
    alphabet: Alphabet,
    weights: Sequence[float] = WEIGHTS,
    bonuses: Sequence[float] = BONUSES,
    workers: int = 0,
    on_trial: Callable[[Trial], None] | None = None,
) -> tuple[DecoderSpec, list[Trial]]:
    """Best ``(lm_weight, bonus)`` for ``spec`` (which names the LM) by CER on ``references``, and every trial."""
    trials: dict[tuple[float, float], Trial] = {}

    def trial(weight: float, bonus: float) -> Trial:
        if (weight, bonus) not in trials:
            candidate = replace(spec, lm_weight=weight, bonus=bonus)
            lines, seconds = decode_all(candidate, log_probs, alphabet, workers)
            rates = score([d.text for d in lines], references)
            trials[(weight, bonus)] = t = Trial(weight, bonus, rates.cer, rates.wer, seconds)
            if on_trial:
                on_trial(t)
        return trials[(weight, bonus)]

    def best(candidates: list[Trial]) -> Trial:
        return min(candidates, key=lambda t: (t.cer, t.wer))

    bonus = spec.bonus
    weight = best([trial(w, bonus) for w in weights]).lm_weight
    bonus = best([trial(weight, b) for b in bonuses]).bonus
    winner = best([trial(w, bonus) for w in weights])
    return replace(spec, lm_weight=winner.lm_weight, bonus=winner.bonus), list(trials.values())
