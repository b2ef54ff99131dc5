"""Forecast scores per lead time: MSE and MAE (per frame summed over pixels, as OpenSTL reports; per pixel), SSIM, CSI.

Pixels outside the mask (radar: no data) count nowhere. MSE/MAE are in the data's units (Moving
MNIST: intensities 0-1; radar: mm/h). SSIM (Wang et al. 2004; 11x11 Gaussian window, sigma 1.5)
is computed on the model's normalised values. CSI, the critical success index, is
``hits / (hits + misses + false alarms)`` of ``value >= threshold`` over all pixels of a lead time.

>>> s = ForecastScores(2, threshold=1.0); x = torch.zeros(1, 2, 1, 16, 16); s.update(x, x, x + 1, x, x)
>>> round(s.summary()["mse_frame"], 3), s.summary()["csi"] != s.summary()["csi"]  # no event: CSI undefined (nan)
(0.0, True)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def _gaussian(size: int = 11, sigma: float = 1.5) -> Tensor:
    x = torch.arange(size, dtype=torch.float32) - size // 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]  # (1, 1, size, size)


def ssim(x: Tensor, y: Tensor, data_range: float = 1.0) -> Tensor:
    """Mean SSIM of each image pair: ``(N, 1, H, W)`` twice -> ``(N,)`` (valid windows only, no padding)."""
    side = min(11, *x.shape[-2:])  # images smaller than the window: the largest odd window that fits
    window = _gaussian(max(side - 1 + side % 2, 1)).to(x)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_x, mu_y = F.conv2d(x, window), F.conv2d(y, window)
    var_x = F.conv2d(x * x, window) - mu_x**2
    var_y = F.conv2d(y * y, window) - mu_y**2
    cov = F.conv2d(x * y, window) - mu_x * mu_y
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return s.flatten(1).mean(1)


class ForecastScores:
    """Accumulates per-lead-time sums over batches; :meth:`per_lead` and :meth:`summary` read them."""

    def __init__(self, frames_out: int, threshold: float | None = None):
        self.threshold = threshold
        z = lambda: torch.zeros(frames_out, dtype=torch.float64)  # noqa: E731
        self.sq, self.abs, self.pixels, self.frames, self.ssim = z(), z(), z(), z(), z()
        self.hits, self.misses, self.false_alarms = z(), z(), z()

    @torch.no_grad()
    def update(self, pred: Tensor, target: Tensor, mask: Tensor, pred_norm: Tensor, target_norm: Tensor) -> None:
        """``(B, T_out, C, H, W)`` in data units, the mask, and both again normalised (for SSIM)."""
        m = mask.float()
        err = torch.where(m > 0, pred - target, torch.zeros_like(pred))
        self.sq += err.pow(2).sum((0, 2, 3, 4)).double().cpu()
        self.abs += err.abs().sum((0, 2, 3, 4)).double().cpu()
        self.pixels += m.sum((0, 2, 3, 4)).double().cpu()
        self.frames += pred.shape[0]
        b, t = pred.shape[:2]
        # (B, T, C, H, W) -> (B*T*C, 1, H, W): one SSIM per frame and channel
        flat = lambda v: torch.where(m > 0, v, torch.zeros_like(v)).reshape(-1, 1, *v.shape[-2:])  # noqa: E731
        per_frame = ssim(flat(pred_norm), flat(target_norm)).reshape(b, t, -1).mean(-1)
        self.ssim += per_frame.sum(0).double().cpu()
        if self.threshold is not None:
            p, o = (pred >= self.threshold) & (m > 0), (target >= self.threshold) & (m > 0)
            self.hits += (p & o).sum((0, 2, 3, 4)).double().cpu()
            self.misses += (~p & o).sum((0, 2, 3, 4)).double().cpu()
            self.false_alarms += (p & ~o & (m > 0)).sum((0, 2, 3, 4)).double().cpu()

    def per_lead(self) -> list[dict[str, float]]:
        rows = []
        for k in range(len(self.sq)):
            frames, pixels = max(float(self.frames[k]), 1.0), max(float(self.pixels[k]), 1.0)
            row = {
                "mse_frame": float(self.sq[k]) / frames,
                "mae_frame": float(self.abs[k]) / frames,
                "mse": float(self.sq[k]) / pixels,
                "mae": float(self.abs[k]) / pixels,
                "ssim": float(self.ssim[k]) / frames,
            }
            if self.threshold is not None:
                events = float(self.hits[k] + self.misses[k] + self.false_alarms[k])
                row["csi"] = float(self.hits[k]) / events if events else math.nan
            rows.append(row)
        return rows

    def summary(self) -> dict[str, float]:
        """Every metric averaged over lead times (CSI: pooled counts over all lead times)."""
        rows = self.per_lead()
        out = {k: sum(r[k] for r in rows) / len(rows) for k in ("mse_frame", "mae_frame", "mse", "mae", "ssim")}
        if self.threshold is not None:
            events = float((self.hits + self.misses + self.false_alarms).sum())
            out["csi"] = float(self.hits.sum()) / events if events else math.nan
        return out
