"""Connected components of a binary map without scipy: row runs, joined by a vectorised union-find.

A mask is cut into horizontal runs (one row, a start column, an end column past the last pixel); runs of
neighbouring rows that touch (8-connected: their column ranges overlap or meet at a corner) are joined.
Everything is whole-array numpy: the cost grows with the number of runs, never with a Python loop per pixel.
"""

from __future__ import annotations

import numpy as np


def row_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The horizontal runs of a boolean ``(H, W)`` mask, sorted by row then start.

    Returns:
        ``rows``, ``starts``, ``ends`` (``ends`` one past the run's last column), each ``(N,)`` int64.
    """
    height, width = mask.shape
    padded = np.zeros((height, width + 2), np.int8)
    padded[:, 1:-1] = mask
    step = np.diff(padded, axis=1)  # (H, W + 1): +1 where a run starts, -1 one past where it ends
    rows, starts = np.nonzero(step == 1)
    _, ends = np.nonzero(step == -1)
    return rows.astype(np.int64), starts.astype(np.int64), ends.astype(np.int64)


def _touching_pairs(rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int) -> tuple[np.ndarray, ...]:
    """Index pairs ``(a, b)`` of runs where ``a`` lies in the row above ``b`` and they touch (8-connected)."""
    stride = width + 2  # a key row * stride + column orders all runs, and never spills into the next row
    start_keys, end_keys = rows * stride + starts, rows * stride + ends
    above = (rows - 1) * stride
    lo = np.searchsorted(end_keys, above + starts, side="left")  # first run above with end >= my start
    hi = np.searchsorted(start_keys, above + ends, side="right")  # past the last run above with start <= my end
    counts = np.maximum(hi - lo, 0)
    total = int(counts.sum())
    b = np.repeat(np.arange(len(rows)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    a = np.repeat(lo, counts) + (np.arange(total) - first)
    return a, b


def _union_find(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Root of every node after joining each pair ``(a[i], b[i])``: hook roots to the smaller root, then shortcut."""
    parent = np.arange(n)
    while True:
        root_a, root_b = parent[a], parent[b]
        differ = root_a != root_b
        if not differ.any():
            return parent
        low, high = np.minimum(root_a[differ], root_b[differ]), np.maximum(root_a[differ], root_b[differ])
        np.minimum.at(parent, high, low)  # parent[x] <= x always, so no cycle can form
        while True:  # pointer jumping until every node points at its root
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped


def label_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """8-connected components of a boolean ``(H, W)`` mask, as labelled row runs.

    Returns:
        ``rows``, ``starts``, ``ends`` as :func:`row_runs`, ``labels`` (component of each run, ``0..n-1``,
        numbered in order of each component's first run) and ``n``.
    """
    rows, starts, ends = row_runs(mask)
    if len(rows) == 0:
        return rows, starts, ends, rows.copy(), 0
    a, b = _touching_pairs(rows, starts, ends, mask.shape[1])
    roots = _union_find(len(rows), a, b)
    _, labels = np.unique(roots, return_inverse=True)  # roots are each component's first run, so order is kept
    return rows, starts, ends, labels.astype(np.int64), int(labels.max()) + 1


def run_pixels(rows: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expand runs to pixels: ``ys``, ``xs`` and the index of the run each pixel came from."""
    lengths = ends - starts
    run = np.repeat(np.arange(len(rows)), lengths)
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return rows[run], starts[run] + offsets, run


def label_image(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected components as an ``(H, W)`` int image: ``-1`` outside the mask, ``0..n-1`` inside."""
    rows, starts, ends, labels, n = label_runs(mask)
    image = np.full(mask.shape, -1, np.int64)
    ys, xs, run = run_pixels(rows, starts, ends)
    image[ys, xs] = labels[run]
    return image, n


def vertical_run_length(mask: np.ndarray) -> np.ndarray:
    """Per pixel of a boolean mask, the length of the vertical run through it (0 outside the mask)."""
    rows, starts, ends = row_runs(mask.T)  # runs of the transpose: row = column, start/end = y
    out = np.zeros(mask.T.shape, np.int64)
    ys, xs, run = run_pixels(rows, starts, ends)
    out[ys, xs] = (ends - starts)[run]
    return out.T
