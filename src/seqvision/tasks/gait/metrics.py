"""Gallery/probe retrieval scores: CMC rank-k accuracy and mean average precision (mAP).

Each probe clip is ranked against every gallery clip by embedding distance. Rank-k: the share of
probes whose k nearest gallery clips include one of the same subject. AP of a probe: the mean of
the precision at each correct gallery clip in its ranking; mAP averages it over the probes.
Probes of a subject with no gallery clip cannot be ranked and are left out (counted).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def distance_matrix(probe: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """``(N, D)`` x ``(M, D)`` embeddings -> ``(N, M)`` Euclidean distances (float64: a clip to itself is 0)."""
    a, b = probe.astype(np.float64), gallery.astype(np.float64)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T  # (N, M)
    return np.sqrt(np.clip(squared, 0.0, None))


def retrieval_scores(
    probe: np.ndarray, probe_ids: Sequence[str], gallery: np.ndarray, gallery_ids: Sequence[str], ks: tuple = (1, 5)
) -> dict[str, float]:
    """``{"rank1": .., "rank5": .., "map": .., "probes": n, "unranked": m}`` (shares in [0, 1]).

    >>> e = np.eye(3, dtype=np.float32)
    >>> retrieval_scores(e[:2], ["a", "b"], e, ["a", "c", "b"])["rank1"]
    0.5
    """
    ids = np.asarray(gallery_ids)
    known = [i for i, s in enumerate(probe_ids) if s in set(gallery_ids)]
    scores = {f"rank{k}": 0.0 for k in ks} | {"map": 0.0, "probes": len(known), "unranked": len(probe_ids) - len(known)}
    if not known:
        return scores
    d = distance_matrix(probe[known], gallery)
    order = np.argsort(d, axis=1, kind="stable")  # (N, M) nearest first
    hits = ids[order] == np.asarray([probe_ids[i] for i in known])[:, None]  # (N, M)
    first = hits.argmax(1)  # rank of the first correct clip (0-based)
    for k in ks:
        scores[f"rank{k}"] = float((first < k).mean())
    precision = np.cumsum(hits, 1) / np.arange(1, hits.shape[1] + 1)  # (N, M) precision at each rank
    scores["map"] = float(((precision * hits).sum(1) / hits.sum(1)).mean())
    return scores


def nearest_subjects(distances: np.ndarray, gallery_ids: Sequence[str], top_k: int) -> list[tuple[str, float]]:
    """One probe's ``(M,)`` distances -> the ``top_k`` nearest subjects, each at its nearest clip, nearest first."""
    best: dict[str, float] = {}
    for j in np.argsort(distances, kind="stable"):
        best.setdefault(gallery_ids[j], float(distances[j]))
        if len(best) == top_k:
            break
    return list(best.items())
