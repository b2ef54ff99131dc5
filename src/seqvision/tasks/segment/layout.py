"""Page layout from found lines: the interline distance, and reading order by blocks (columns, marginal notes)."""

from __future__ import annotations

import dataclasses

import numpy as np

from seqvision.tasks.segment.geometry import Line


def interline_distance(x0: np.ndarray, x1: np.ndarray, y: np.ndarray, overlap: float = 0.5) -> float | None:
    """Median vertical distance from each line to the nearest line below it that overlaps it horizontally.

    Args:
        x0, x1, y: each line's left end, right end and mean baseline height, ``(N,)``.
        overlap: two lines are neighbours when their x-ranges overlap by this share of the shorter one.

    Returns:
        The median distance, or ``None`` when no line has a neighbour below.
    """
    x0, x1, y = (np.asarray(v, np.float64) for v in (x0, x1, y))
    if len(y) < 2:
        return None
    shared = np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :])  # (N, N)
    shorter = np.minimum((x1 - x0)[:, None], (x1 - x0)[None, :])
    below = y[None, :] - y[:, None]  # [i, j]: how far line j lies below line i
    neighbour = (shared >= overlap * np.maximum(shorter, 1e-9)) & (below > 0)
    gaps = np.where(neighbour, below, np.inf).min(axis=1)
    gaps = gaps[np.isfinite(gaps)]
    return float(np.median(gaps)) if len(gaps) else None


def line_extent(line: Line) -> tuple[float, float, float]:
    """``(left, right, mean y)`` of a line's baseline."""
    xs = [p[0] for p in line.baseline]
    return min(xs), max(xs), float(np.mean([p[1] for p in line.baseline]))


def reading_order(
    lines: list[Line],
    *,
    line_height: float | None = None,
    overlap: float = 0.5,
    marginal_width: float = 1 / 3,
) -> list[Line]:
    """Lines in reading order, each with ``region`` set to its block (``"r1"``, ``"r2"``, ...).

    Blocks grow top to bottom: a line joins the block whose x-range it overlaps most, by at least
    ``overlap`` of the narrower of the two, unless the block already holds a line beside it (at about the
    same height, x-ranges apart): that is a second column, which opens its own block. Blocks are read left
    to right (by their left edge); blocks narrower than ``marginal_width`` of the widest (marginal notes,
    page numbers beside the text) come after all main blocks, top to bottom. Within a block lines are read
    top to bottom. A heading above two columns joins the first column's block, so it is read first.

    Args:
        lines: lines in any order, baselines left to right, page pixels.
        line_height: the interline distance in page pixels; measured from the lines when not given.
        overlap: share of the narrower x-range a line must overlap to join a block.
        marginal_width: blocks narrower than this share of the widest block are marginal.
    """
    if not lines:
        return []
    extents = np.array([line_extent(line) for line in lines])  # (N, 3): left, right, mean y
    x0, x1, y = extents[:, 0], extents[:, 1], extents[:, 2]
    height = line_height or interline_distance(x0, x1, y) or max(float(np.ptp(y)) / max(len(lines), 1), 1.0)
    blocks: list[list[int]] = []
    spans: list[list[float]] = []  # [left, right] of each block
    for i in np.argsort(y, kind="stable"):
        best, best_shared = -1, 0.0
        for b, (members, (left, right)) in enumerate(zip(blocks, spans, strict=True)):
            shared = min(x1[i], right) - max(x0[i], left)
            if shared < overlap * max(min(x1[i] - x0[i], right - left), 1e-9) or shared <= best_shared:
                continue
            beside = [m for m in members if abs(y[m] - y[i]) < 0.5 * height and (x1[m] < x0[i] or x1[i] < x0[m])]
            if not beside:
                best, best_shared = b, shared
        if best < 0:
            blocks.append([int(i)])
            spans.append([float(x0[i]), float(x1[i])])
        else:
            blocks[best].append(int(i))
            spans[best] = [min(spans[best][0], float(x0[i])), max(spans[best][1], float(x1[i]))]
    widest = max(right - left for left, right in spans)
    main = [b for b in range(len(blocks)) if spans[b][1] - spans[b][0] >= marginal_width * widest]
    marginal = [b for b in range(len(blocks)) if b not in main]
    main.sort(key=lambda b: (spans[b][0], min(y[m] for m in blocks[b])))
    marginal.sort(key=lambda b: (min(y[m] for m in blocks[b]), spans[b][0]))
    ordered: list[Line] = []
    for number, b in enumerate(main + marginal, start=1):
        for m in sorted(blocks[b], key=lambda m: (y[m], x0[m])):
            ordered.append(dataclasses.replace(lines[m], region=f"r{number}"))
    return ordered
