"""Ranking metrics of binary and multi-label classifiers: ROC-AUC and PR-AUC (average precision), by torchmetrics.

torchmetrics (installed with Lightning, so no extra) follows scikit-learn's definitions, and figures
compare with published ones: ROC-AUC is the trapezoidal area under the ROC curve over the distinct
thresholds, which equals the probability that a random positive scores above a random negative
with ties counting half (the Mann-Whitney U statistic); PR-AUC is average precision,
``sum_n (R_n - R_{n-1}) P_n`` over the distinct score thresholds from the highest down (a step
sum, no interpolation, so not the optimistic trapezoidal PR area). torchmetrics counts true and
false positives in float32: values agree with a float64 computation to about 1e-7
(``tests/test_metric_libraries.py`` compares it with the numpy code it replaced).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor


def _binary(truth: np.ndarray, scores: np.ndarray) -> tuple[Tensor, Tensor, int]:
    """Flat 0/1 targets and float64 scores as tensors, and the number of positives."""
    target = torch.from_numpy(np.asarray(truth).astype(bool).ravel()).long()
    preds = torch.from_numpy(np.asarray(scores, dtype=np.float64).ravel().copy())
    if len(preds) and (preds.min() < 0 or preds.max() > 1):
        # torchmetrics takes scores outside [0, 1] for logits and applies a sigmoid, which ties large
        # ones; dense ranks scaled into [0, 1] keep the order and the ties exactly
        ranks = torch.unique(preds, sorted=True, return_inverse=True)[1].double()
        preds = ranks / max(float(ranks.max()), 1.0)
    return target, preds, int(target.sum())


def roc_auc(truth: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve of one binary label; NaN when only one class is present.

    >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    from torchmetrics.functional.classification import binary_auroc

    target, preds, positives = _binary(truth, scores)
    if positives == 0 or positives == len(target):
        return float("nan")
    return float(binary_auroc(preds, target))


def average_precision(truth: np.ndarray, scores: np.ndarray) -> float:
    """Average precision (area under the step PR curve) of one binary label; NaN without positives.

    >>> round(average_precision(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])), 6)
    0.833333
    """
    from torchmetrics.functional.classification import binary_average_precision

    target, preds, positives = _binary(truth, scores)
    if positives == 0:
        return float("nan")
    return float(binary_average_precision(preds, target))


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
