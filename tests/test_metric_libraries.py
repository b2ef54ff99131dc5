"""Library metrics against the hand-written code they replaced (issue 18), on fixed inputs.

ROC-AUC and PR-AUC are torchmetrics' now; the numpy versions below are the ones seqvision shipped
before, kept here as the reference. Both define PR-AUC as **average precision** (the step sum
``sum_n (R_n - R_{n-1}) P_n`` over distinct thresholds), not the trapezoidal area under the PR
curve, and ROC-AUC as the trapezoidal ROC area, which is the Mann-Whitney statistic with ties
counting half. torchmetrics counts in float32, so they agree to 1e-6, not bit for bit.

SSIM is torchmetrics' too, checked against the conv2d code below to 1e-5 (float32) on frames of
11 pixels and more; smaller frames have no old value to keep (see ``ssim``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from seqvision.tasks.dna.ranking import average_precision, macro, per_label, roc_auc
from seqvision.tasks.forecast.metrics import ForecastScores, ssim

AUC_TOLERANCE = 1e-6  # torchmetrics' float32 true/false-positive counts; measured differences are below 1e-7

# ------------------------------------------------------------------ the numpy ranking metrics replaced


def _numpy_ranks(scores: np.ndarray) -> np.ndarray:
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


def numpy_roc_auc(truth: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve of one binary label; NaN when only one class is present."""
    truth, scores = np.asarray(truth).astype(bool).ravel(), np.asarray(scores, dtype=np.float64).ravel()
    positives, negatives = int(truth.sum()), int((~truth).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    u = _numpy_ranks(scores)[truth].sum() - positives * (positives + 1) / 2.0
    return float(u / (positives * negatives))


def numpy_average_precision(truth: np.ndarray, scores: np.ndarray) -> float:
    """Average precision (area under the step PR curve) of one binary label; NaN without positives."""
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


# ------------------------------------------------------------------------------------ ROC-AUC, PR-AUC

_rng = np.random.default_rng(18)
RANKING_CASES = [
    ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]),
    ([0, 0, 1, 1], [0.5, 0.5, 0.5, 0.5]),  # every score tied
    ([0, 1, 0, 1, 1], [0.1, 0.5, 0.5, 0.9, 0.5]),  # ties across the classes
    ([1, 0, 1, 0, 0, 1], [0.9, 0.8, 0.7, 0.6, 0.55, 0.1]),
    ([0, 1], [1.0, 0.0]),  # perfectly wrong
    ([0, 0, 0, 1], [0.0, 0.0, 0.0, 1.0]),
    ([1, 0, 1, 1, 0, 0, 1, 0], [0.3, 0.3, 0.3, 0.7, 0.7, 0.1, 0.9, 0.9]),
    (list(_rng.integers(0, 2, 500)), list(_rng.integers(0, 8, 500) / 7)),  # 500 scores, 8 distinct: heavy ties
    (list(_rng.integers(0, 2, 2000)), list(_rng.random(2000))),
    (list((_rng.random(1000) < 0.05).astype(int)), list(_rng.random(1000))),  # rare positives
]


@pytest.mark.parametrize(("truth", "scores"), RANKING_CASES, ids=range(len(RANKING_CASES)))
def test_torchmetrics_auc_agrees_with_the_numpy_code(truth: list[int], scores: list[float]) -> None:
    t, s = np.array(truth), np.array(scores)
    assert 0 < t.sum() < len(t)
    assert roc_auc(t, s) == pytest.approx(numpy_roc_auc(t, s), abs=AUC_TOLERANCE)
    assert average_precision(t, s) == pytest.approx(numpy_average_precision(t, s), abs=AUC_TOLERANCE)


def test_average_precision_is_not_the_trapezoidal_pr_area() -> None:
    # thresholds 0.9 .. 0.6 give (recall, precision) (1/2, 1), (1/2, 1/2), (1/2, 1/3), (1, 1/2):
    # AP = 1/2 * 1 + 1/2 * 1/2 = 0.75; the trapezoid through those points (from (0, 1)) is 0.708
    truth, scores = np.array([1, 0, 0, 1]), np.array([0.9, 0.8, 0.7, 0.6])
    recall, precision = np.array([0, 0.5, 0.5, 0.5, 1]), np.array([1, 1, 0.5, 1 / 3, 0.5])
    trapezoid = float(np.sum(np.diff(recall) * (precision[1:] + precision[:-1]) / 2))
    assert trapezoid == pytest.approx(0.5 + 0.5 * (1 / 3 + 1 / 2) / 2)
    assert average_precision(truth, scores) == pytest.approx(0.75, abs=AUC_TOLERANCE)
    assert numpy_average_precision(truth, scores) == pytest.approx(0.75)
    assert abs(average_precision(truth, scores) - trapezoid) > 0.04


def test_scores_outside_unit_interval_are_ranked_not_squashed() -> None:
    # torchmetrics would read these as logits and apply a sigmoid, which makes 40, 45 and 100 all 1.0
    truth, scores = np.array([1, 0, 1, 0, 1]), np.array([-50.0, 40.0, 45.0, 35.0, 100.0])
    assert roc_auc(truth, scores) == pytest.approx(numpy_roc_auc(truth, scores), abs=AUC_TOLERANCE)
    assert average_precision(truth, scores) == pytest.approx(numpy_average_precision(truth, scores), abs=AUC_TOLERANCE)
    assert roc_auc(truth, scores) == pytest.approx(4 / 6)  # 45 > 40, 35; 100 > 40, 35; -50 > none


def test_undefined_cases_stay_nan() -> None:
    assert np.isnan(roc_auc(np.array([1, 1]), np.array([0.2, 0.3])))
    assert np.isnan(roc_auc(np.array([0, 0]), np.array([0.2, 0.3])))
    assert np.isnan(average_precision(np.array([0, 0]), np.array([0.2, 0.3])))
    assert average_precision(np.array([1, 1]), np.array([0.2, 0.3])) == 1.0  # defined: every prediction right


def test_macro_and_per_label_on_a_multi_label_set() -> None:
    rng = np.random.default_rng(3)
    truth = (rng.random((300, 3)) < [0.5, 0.2, 0.05]).astype(int)
    scores = np.clip(truth * 0.3 + rng.random((300, 3)) * 0.7, 0, 1).round(2)  # informative, with ties
    for metric, old in ((roc_auc, numpy_roc_auc), (average_precision, numpy_average_precision)):
        expected = np.mean([old(truth[:, k], scores[:, k]) for k in range(3)])
        assert macro(metric, truth, scores) == pytest.approx(expected, abs=AUC_TOLERANCE)
    labels = per_label(truth, scores, ["a", "b", "c"])
    for k, name in enumerate("abc"):
        assert labels[name]["roc_auc"] == pytest.approx(numpy_roc_auc(truth[:, k], scores[:, k]), abs=AUC_TOLERANCE)
        assert labels[name]["positives"] == truth[:, k].sum()


# ------------------------------------------------------------------------------------------------ SSIM
# torchmetrics' SSIM map cropped to the windows inside the image, against the conv2d code it replaced


def _old_gaussian(size: int = 11, sigma: float = 1.5) -> Tensor:
    x = torch.arange(size, dtype=torch.float32) - size // 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]  # (1, 1, size, size)


def old_ssim(x: Tensor, y: Tensor, data_range: float = 1.0) -> Tensor:
    """Mean SSIM of each image pair: ``(N, 1, H, W)`` twice -> ``(N,)`` (valid windows only, no padding)."""
    side = min(11, *x.shape[-2:])  # images smaller than the window: the largest odd window that fits
    window = _old_gaussian(max(side - 1 + side % 2, 1)).to(x)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_x, mu_y = F.conv2d(x, window), F.conv2d(y, window)
    var_x = F.conv2d(x * x, window) - mu_x**2
    var_y = F.conv2d(y * y, window) - mu_y**2
    cov = F.conv2d(x * y, window) - mu_x * mu_y
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return s.flatten(1).mean(1)


SSIM_TOLERANCE = (
    1e-5  # float32 sums in another order (and torchmetrics clamps tiny negative variances); measured < 2e-6
)


def _pairs(shape: tuple[int, ...], seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(*shape, generator=g)
    noisy = (x + 0.2 * torch.randn(*shape, generator=g)).clamp(0, 1)
    dark_x, dark_y = x.clone(), noisy.clone()
    dark_x[..., : shape[-2] // 2, :] = 0  # a flat masked-out half, as radar frames have
    dark_y[..., : shape[-2] // 2, :] = 0
    return [(x, noisy), (x, x), (x, 1 - x), (dark_x, dark_y), (3 * x - 1, 2 * noisy)]  # last: not in [0, 1]


@pytest.mark.parametrize("shape", [(4, 1, 64, 64), (4, 1, 16, 16), (4, 1, 11, 11), (3, 1, 12, 40)])
def test_torchmetrics_ssim_agrees_with_the_conv2d_code(shape: tuple[int, ...]) -> None:
    for x, y in _pairs(shape, seed=shape[-1]):
        torch.testing.assert_close(ssim(x, y), old_ssim(x, y), atol=SSIM_TOLERANCE, rtol=0)
    x, y = _pairs(shape, 0)[0]
    torch.testing.assert_close(ssim(x, y, data_range=2.0), old_ssim(x, y, data_range=2.0), atol=SSIM_TOLERANCE, rtol=0)


@pytest.mark.parametrize("shape", [(2, 1, 8, 8), (2, 1, 1, 5), (2, 1, 3, 30)])
def test_ssim_of_frames_smaller_than_the_window(shape: tuple[int, ...]) -> None:
    # the largest odd window that fits, with sigma scaled to it: not the old truncated sigma-1.5 window, so no parity
    x, y = _pairs(shape, 1)[0]
    assert ssim(x, y).shape == (shape[0],)
    torch.testing.assert_close(ssim(x, x), torch.ones(shape[0]))
    torch.testing.assert_close(ssim(x, y), ssim(y, x))
    assert (ssim(x, y) < 1).all() and (ssim(x, y) > -1).all()


def test_forecast_scores_keep_their_ssim() -> None:
    g = torch.Generator().manual_seed(5)
    pred, target = torch.rand(2, 3, 1, 24, 24, generator=g), torch.rand(2, 3, 1, 24, 24, generator=g)
    mask = (torch.rand(2, 3, 1, 24, 24, generator=g) > 0.3).float()
    scores = ForecastScores(3)
    scores.update(pred, target, mask, pred, target)
    masked = lambda v: torch.where(mask > 0, v, torch.zeros_like(v)).reshape(-1, 1, 24, 24)  # noqa: E731
    expected = old_ssim(masked(pred), masked(target)).reshape(2, 3).mean(0)
    for lead, row in enumerate(scores.per_lead()):
        assert row["ssim"] == pytest.approx(float(expected[lead]), abs=SSIM_TOLERANCE)
