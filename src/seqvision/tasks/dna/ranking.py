"""Ranking metrics of binary and multi-label classifiers: ROC-AUC and PR-AUC (average precision), in numpy.

Both follow scikit-learn's definitions, so figures compare with published ones without adding
scikit-learn as a dependency: ROC-AUC is the probability that a random positive scores above a
random negative (ties count half: the Mann-Whitney U statistic from average ranks); average
precision is ``sum_n (R_n - R_{n-1}) P_n`` over the distinct score thresholds, from the highest
down (no interpolation, so it is not the optimistic trapezoidal PR area).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _ranks(scores: np.ndarray) -> np.ndarray:
    """1-based ranks of ``scores``, tied scores sharing the average of their ranks."""
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    # start index of each run of equal scores, and the average rank of the run
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], len(scores)]
    average = (starts + ends + 1) / 2.0  # mean of the ranks starts+1 .. ends
    ranks = np.empty(len(scores))
    ranks[order] = np.repeat(average, ends - starts)
    return ranks


def roc_auc(truth: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve of one binary label; NaN when only one class is present.

    >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    truth, scores = np.asarray(truth).astype(bool).ravel(), np.asarray(scores, dtype=np.float64).ravel()
    positives, negatives = int(truth.sum()), int((~truth).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    u = _ranks(scores)[truth].sum() - positives * (positives + 1) / 2.0
    return float(u / (positives * negatives))


def average_precision(truth: np.ndarray, scores: np.ndarray) -> float:
    """Average precision (area under the step PR curve) of one binary label; NaN without positives.

    >>> average_precision(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.8333333333333333
    """
    truth, scores = np.asarray(truth).astype(bool).ravel(), np.asarray(scores, dtype=np.float64).ravel()
    positives = int(truth.sum())
    if positives == 0:
        return float("nan")
    order = np.argsort(-scores, kind="mergesort")
    scores, truth = scores[order], truth[order]
    # the last index of each run of equal scores: one threshold per distinct score
    last = np.flatnonzero(np.r_[scores[1:] != scores[:-1], True])
    true_pos = np.cumsum(truth)[last]
    precision = true_pos / (last + 1)
    recall = true_pos / positives
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def macro(metric: Callable[[np.ndarray, np.ndarray], float], truth: np.ndarray, scores: np.ndarray) -> float:
    """Mean of ``metric`` over the columns of ``(N, K)`` arrays, skipping labels where it is undefined (NaN)."""
    truth, scores = np.asarray(truth).reshape(len(truth), -1), np.asarray(scores).reshape(len(scores), -1)
    values = [metric(truth[:, k], scores[:, k]) for k in range(truth.shape[1])]
    defined = [v for v in values if not np.isnan(v)]
    return float(np.mean(defined)) if defined else float("nan")


def per_label(truth: np.ndarray, scores: np.ndarray, names: list[str]) -> dict[str, dict[str, float]]:
    """``{label: {"roc_auc": .., "pr_auc": .., "positives": ..}}`` for ``(N, K)`` arrays."""
    truth, scores = np.asarray(truth).reshape(len(truth), -1), np.asarray(scores).reshape(len(scores), -1)
    return {
        name: {
            "roc_auc": roc_auc(truth[:, k], scores[:, k]),
            "pr_auc": average_precision(truth[:, k], scores[:, k]),
            "positives": int(truth[:, k].sum()),
        }
        for k, name in enumerate(names)
    }
