"""flashlight-text's lexicon-free CTC beam search with a character n-gram LM, compiled with numba.

The same search as :class:`~seqvision.tasks.lines.decoding.beam.BeamSearch` runs through
flashlight with :class:`~seqvision.tasks.lines.decoding.flashlight_lm.HistoryLM` (which stays the
reference), step for step, but the LM is the :class:`~seqvision.tasks.lines.decoding.lm_table.LMTable`
arrays, so no query calls Python. Per frame: the ``token_beam`` most likely classes extend every
hypothesis (a new character scores ``log p + float32(weight * log p_lm + bonus)``, a blank or a
repeat only ``log p``); candidates more than ``prune`` below the best are dropped; candidates with
the same last ``order - 1`` characters, last class and blank flag merge (the best one stays); the
``beam`` best remain. At the end each adds ``float32(weight * log p_lm(</s>))``. Scores add the
same float64 terms in flashlight's order, so they agree with it exactly; only candidates with
exactly equal scores may be ordered differently (flashlight breaks such ties by memory address).

This module imports numba (the ``[lm]`` extra); ``beam.py`` imports it only where numba is installed.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from seqvision.data.alphabet import Alphabet
from seqvision.tasks.lines.decoding.ctc import Decoded, calibrated
from seqvision.tasks.lines.decoding.lm import LN10, NO_PROB
from seqvision.tasks.lines.decoding.lm_table import LMTable


@nb.njit(cache=True, nogil=True)
def _entry(node, token, vocab, keys, first):  # type: ignore[no-untyped-def]
    """Index of the entry ``node + token`` (binary search within the node's entries), -1 if none."""
    key = node * vocab + token
    lo, hi = first[node], first[node + 1]
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < first[node + 1] and keys[lo] == key else -1


@nb.njit(cache=True, nogil=True)
def _logprob(node, token, vocab, keys, first, logp10, backoff10, parent):  # type: ignore[no-untyped-def]
    """Natural-log ``p(token | node)`` by the ARPA back-off walk, summed as ``NgramLM.logprob`` sums it."""
    total = 0.0
    while True:
        if token >= 0:
            e = _entry(node, token, vocab, keys, first)
            if e >= 0 and not np.isnan(logp10[e]):
                return (total + logp10[e]) * LN10
        if node == 0:
            return (total + NO_PROB) * LN10
        total += backoff10[node]
        node = parent[node]


@nb.njit(cache=True, nogil=True)
def _advance(node, token, context, vocab, keys, first, child, parent, node_len):  # type: ignore[no-untyped-def]
    """The node after appending ``token``: the longest node that is a suffix of ``node + token``."""
    if token < 0 or context == 0:
        return 0
    while True:
        if node_len[node] < context:
            e = _entry(node, token, vocab, keys, first)
            if e >= 0 and child[e] >= 0:
                return child[e]
        if node == 0:
            return 0
        node = parent[node]


@nb.njit(cache=True, nogil=True)
def lm_rows(classes, n_classes, start, context, vocab, keys, first, logp10, child, backoff10, parent, node_len,
            prob_tok, next_tok):  # type: ignore[no-untyped-def]  # fmt: skip
    """``(len(classes), K - 1)``: ``log p_lm(k | history)`` for classes 1..K-1 before each of ``classes``.

    One walk down the back-off chain per row: each node's entries fill the tokens not found in a longer context.
    """
    rows = np.empty((len(classes), n_classes - 1))
    by_token = np.empty(vocab)
    node = start
    for i in range(len(classes)):
        by_token[:] = np.nan
        total, s = 0.0, node
        while True:
            for e in range(first[s], first[s + 1]):
                token = keys[e] - s * vocab
                if np.isnan(by_token[token]) and not np.isnan(logp10[e]):
                    by_token[token] = (total + logp10[e]) * LN10
            if s == 0:
                break
            total += backoff10[s]
            s = parent[s]
        for k in range(1, n_classes):
            token = prob_tok[k]
            found = by_token[token] if token >= 0 else np.nan
            rows[i, k - 1] = (total + NO_PROB) * LN10 if np.isnan(found) else found
        node = _advance(node, next_tok[classes[i]], context, vocab, keys, first, child, parent, node_len)
    return rows


@nb.njit(cache=True, nogil=True)
def _top_classes(row, top):  # type: ignore[no-untyped-def]
    """The ``len(top)`` classes of ``row`` with the highest scores, best first (ties: lower class first)."""
    n = 0
    for k in range(len(row)):
        v = row[k]
        if n == len(top) and v <= row[top[n - 1]]:
            continue
        j = n if n < len(top) else n - 1
        while j > 0 and row[top[j - 1]] < v:
            top[j] = top[j - 1]
            j -= 1
        top[j] = k
        if n < len(top):
            n += 1


@nb.njit(cache=True, nogil=True)
def search(lp, beam, token_beam, prune, sil, weight, bonus, keep, start, eos, context, vocab, keys, first, logp10,
           child, backoff10, parent, node_len, prob_tok, next_tok):  # type: ignore[no-untyped-def]  # fmt: skip
    """Best CTC path of ``lp`` (T, K) float32 and its score (see the module docstring); ``keep``: history length."""
    T, K = lp.shape
    tb = min(token_beam, K)
    base = K + 1  # a history is the number whose base-(K+1) digits are its classes, <s> being the digit K
    modulus = 1
    for _ in range(keep):
        modulus *= base
    n_cand = beam * tb
    score, code = np.empty(beam), np.empty(beam, np.int64)
    node, tok, blank = np.empty(beam, np.int32), np.empty(beam, np.int32), np.empty(beam, np.bool_)
    n_score, n_code = np.empty(beam), np.empty(beam, np.int64)
    n_node, n_tok, n_blank = np.empty(beam, np.int32), np.empty(beam, np.int32), np.empty(beam, np.bool_)
    c_score, c_code = np.empty(n_cand), np.empty(n_cand, np.int64)
    c_node, c_tok = np.empty(n_cand, np.int32), np.empty(n_cand, np.int32)
    c_blank, c_from = np.empty(n_cand, np.bool_), np.empty(n_cand, np.int32)
    back_from, back_tok = np.empty((T, beam), np.int32), np.empty((T, beam), np.int32)
    cache_key = np.full(4096, -1, np.int64)  # (node, class) -> LM score and next node, direct-mapped
    cache_lm, cache_node = np.empty(4096, np.float32), np.empty(4096, np.int32)
    top = np.empty(tb, np.int64)
    score[0], code[0], node[0], tok[0], blank[0] = 0.0, K, start, sil, False
    alive = 1
    for t in range(T):
        row = lp[t]
        _top_classes(row, top)
        nc = 0
        for i in range(alive):
            for r in range(tb):
                n = top[r]
                s = score[i] + np.float64(row[n])
                c_code[nc], c_node[nc], c_blank[nc] = code[i], node[i], n == 0
                if n != 0 and (n != tok[i] or blank[i]):
                    key = np.int64(node[i]) * K + n
                    slot = key & 4095
                    if cache_key[slot] != key:
                        value = _logprob(node[i], prob_tok[n], vocab, keys, first, logp10, backoff10, parent)
                        cache_key[slot], cache_lm[slot] = key, np.float32(weight * value + bonus)
                        cache_node[slot] = _advance(
                            node[i], next_tok[n], context, vocab, keys, first, child, parent, node_len
                        )
                    s += np.float64(cache_lm[slot])
                    c_code[nc], c_node[nc] = (code[i] * base + n) % modulus, cache_node[slot]
                c_score[nc], c_tok[nc], c_from[nc] = s, n, i
                nc += 1
        threshold = c_score[:nc].max() - prune
        kept = 0
        for j in np.argsort(-c_score[:nc], kind="mergesort"):
            if c_score[j] < threshold:
                break
            same = False
            for q in range(kept):
                if n_code[q] == c_code[j] and n_tok[q] == c_tok[j] and n_blank[q] == c_blank[j]:
                    same = True
                    break
            if same:  # merges into a better candidate with the same state
                continue
            n_score[kept], n_code[kept], n_node[kept] = c_score[j], c_code[j], c_node[j]
            n_tok[kept], n_blank[kept] = c_tok[j], c_blank[j]
            back_from[t, kept], back_tok[t, kept] = c_from[j], c_tok[j]
            kept += 1
            if kept == beam:
                break
        score, n_score = n_score, score
        code, n_code = n_code, code
        node, n_node = n_node, node
        tok, n_tok = n_tok, tok
        blank, n_blank = n_blank, blank
        alive = kept
    best, best_score = 0, -np.inf
    for i in range(alive):
        final = score[i] + np.float64(
            np.float32(weight * _logprob(node[i], eos, vocab, keys, first, logp10, backoff10, parent))
        )
        if final > best_score:
            best, best_score = i, final
    path = np.empty(T, np.int64)
    for t in range(T - 1, -1, -1):
        path[t] = back_tok[t, best]
        best = back_from[t, best]
    return path, best_score


class NativeSearch:
    """The compiled search for one LM table and decoder settings: ``search(lp) -> (path, score)``."""

    def __init__(self, table: LMTable, classes: int, sil: int, beam: int, token_beam: int, prune: float,
                 weight: float, bonus: float):  # fmt: skip
        self.keep = max(table.order - 1, 1)
        if (classes + 1) ** (self.keep + 1) >= 2**63:
            raise ValueError(f"{classes} classes and {self.keep} characters of history do not fit a 64-bit state")
        self.classes, self.table, self.weight, self.bonus = classes, table, float(weight), float(bonus)
        self.settings = (beam, token_beam, float(prune), sil, float(weight), float(bonus), self.keep, table.start)
        self.lm = (table.eos, table.order - 1, table.vocab, *table.arrays())

    def __call__(self, log_probs: np.ndarray) -> tuple[np.ndarray, float]:
        """Best path of ``log_probs`` (T, K) and its total score (acoustic + weighted LM + bonuses)."""
        lp = np.ascontiguousarray(log_probs, dtype=np.float32)
        path, score = search(lp, *self.settings, *self.lm)
        return path, float(score)

    def rows(self, classes: np.ndarray) -> np.ndarray:
        """``log p_lm`` of every class 1..K-1 after each prefix of ``classes`` (the characters before each)."""
        t = self.table
        return lm_rows(np.asarray(classes, dtype=np.int64), self.classes, t.start, t.order - 1, t.vocab, *t.arrays())

    def confidences(
        self, decoded: Decoded, log_probs: np.ndarray, alphabet: Alphabet, temperature: float
    ) -> list[float]:
        """``BeamSearch.char_confidences`` with a character LM, every character at once from the table's rows."""
        classes = np.array([alphabet.index.get(c, -1) for c in decoded.text], dtype=np.int64)
        known = classes >= 0
        confs = np.zeros(len(classes))
        if not known.any():
            return confs.tolist()
        k = classes[known]
        rows = self.rows(k)  # (n, K - 1) log p_lm of each class before each character
        spans = np.asarray(decoded.char_frames, dtype=np.int64).reshape(-1, 2)[known]
        frames = [a + int(np.argmax(log_probs[a:b, c])) for c, (a, b) in zip(k.tolist(), spans.tolist(), strict=True)]
        prior = np.concatenate((np.zeros((len(k), 1)), self.weight * rows + self.bonus), axis=1)  # blank: no LM
        scores = log_probs[frames].astype(np.float64) + prior  # (n, K)
        own = scores[np.arange(len(k)), k] - np.logaddexp.reduce(scores, axis=1)
        confs[known] = calibrated(own, temperature)
        return confs.tolist()
