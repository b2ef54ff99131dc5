"""Forecast scores per lead time: MSE and MAE (per frame summed over pixels, as OpenSTL reports; per pixel), SSIM, CSI.

Pixels outside the mask (radar: no data) count nowhere. MSE/MAE are in the data's units (Moving
MNIST: intensities 0-1; radar: mm/h). SSIM (Wang et al. 2004; 11x11 Gaussian window, sigma 1.5,
by torchmetrics) is computed on the model's normalised values. CSI, the critical success index, is
``hits / (hits + misses + false alarms)`` of ``value >= threshold`` over all pixels of a lead time.

>>> s = ForecastScores(2, threshold=1.0); x = torch.zeros(1, 2, 1, 16, 16); s.update(x, x, x + 1, x, x)
>>> round(s.summary()["mse_frame"], 3), s.summary()["csi"] != s.summary()["csi"]  # no event: CSI undefined (nan)
(0.0, True)
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def ssim(x: Tensor, y: Tensor, data_range: float = 1.0) -> Tensor:
    """Mean SSIM of each image pair over the windows inside the image: ``(N, 1, H, W)`` twice -> ``(N,)``.

    torchmetrics computes the SSIM map (its Gaussian, sigma 1.5, spans 11 pixels); it pads the
    images by reflection and averages over the whole map, border windows included, so the border
    of ``(window - 1) / 2`` pixels is cut here to keep the standard definition (Wang et al.'s valid
    windows). Images smaller than 11 pixels get the largest odd window that fits, with sigma scaled
    down to match (``1.5 * window / 11``).
    """
    from torchmetrics.functional.image import structural_similarity_index_measure

    side = min(11, *x.shape[-2:])
    window = max(side - 1 + side % 2, 1)
    _, full = structural_similarity_index_measure(
        x, y, sigma=1.5 * window / 11, data_range=data_range, k1=0.01, k2=0.03, reduction="none", return_full_image=True
    )
    if full.shape[-2:] != x.shape[-2:]:  # a torchmetrics that crops by itself would be cut twice here
        raise RuntimeError(f"torchmetrics returned an SSIM map of {tuple(full.shape)} for images of {tuple(x.shape)}")
    cut = (window - 1) // 2
    valid = full[..., cut : full.shape[-2] - cut, cut : full.shape[-1] - cut]  # (N, 1, H - 2 cut, W - 2 cut)
    return valid.flatten(1).mean(1)


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
