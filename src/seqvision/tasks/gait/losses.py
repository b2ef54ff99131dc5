"""Metric losses on unit-length embeddings: batch-hard triplet (Hermans et al. 2017) and ArcFace (Deng et al. 2019)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def distances(a: Tensor, b: Tensor) -> Tensor:
    """``(N, D)`` x ``(M, D)`` unit vectors -> ``(N, M)`` Euclidean distances (in [0, 2])."""
    return (2 - 2 * a @ b.T).clamp(min=1e-12).sqrt()


def batch_hard_triplet(embeddings: Tensor, subjects: Tensor, margin: float) -> Tensor:
    """For each anchor its farthest positive and nearest negative in the batch: ``mean(relu(d+ - d- + margin))``,
    or with ``margin <= 0`` the soft margin ``mean(log(1 + exp(d+ - d-)))``, which never stops pulling.

    Anchors with no positive or no negative in the batch are left out (P x K batches have both).
    """
    d = distances(embeddings, embeddings)  # (B, B)
    same = subjects[:, None] == subjects[None, :]  # (B, B)
    eye = torch.eye(len(subjects), dtype=torch.bool, device=d.device)
    positive = (d * (same & ~eye)).amax(1)  # (B,) farthest other clip of the same subject
    negative = d.masked_fill(same, float("inf")).amin(1)  # (B,) nearest clip of another subject
    valid = (same & ~eye).any(1) & (~same).any(1)
    if not valid.any():
        return embeddings.sum() * 0.0  # nothing to compare: no gradient, no NaN
    gap = (positive - negative)[valid]
    return F.softplus(gap).mean() if margin <= 0 else F.relu(gap + margin).mean()  # margin 0: the soft margin


def arcface_loss(embeddings: Tensor, weight: Tensor, subjects: Tensor, margin: float, scale: float) -> Tensor:
    """Cross-entropy over the training subjects with the angle to the true subject's centre widened by ``margin``.

    ``weight`` ``(K, D)``: one learnt centre per training subject (kept in the training module, not the model).
    """
    cos = F.linear(embeddings, F.normalize(weight, dim=-1)).clamp(-1 + 1e-6, 1 - 1e-6)  # (B, K)
    target = torch.cos(torch.acos(cos.gather(1, subjects[:, None])) + margin)  # (B, 1)
    logits = cos.scatter(1, subjects[:, None], target) * scale
    return F.cross_entropy(logits, subjects)
