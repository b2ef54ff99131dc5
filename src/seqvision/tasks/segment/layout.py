"""Page layout from found lines: the interline distance, and reading order by blocks (columns, marginal notes)."""

from __future__ import annotations

import dataclasses

import numpy as np

from seqvision.tasks.segment.geometry import Line


def interline_distance(
    x0: np.ndarray, x1: np.ndarray, y: np.ndarray, overlap: float = 0.5, min_gap: float = 0.0
) -> float | None:
    """Median vertical distance from each line to the nearest line below it that overlaps it horizontally.

    Args:
        x0, x1, y: each line's left end, right end and mean baseline height, ``(N,)``.
        overlap: two lines are neighbours when their x-ranges overlap by this share of the shorter one.
        min_gap: nearer lines are not neighbours but pieces of one (a baseline band detected twice).

    Returns:
        The median distance, or ``None`` when no line has a neighbour below.
    """
    x0, x1, y = (np.asarray(v, np.float64) for v in (x0, x1, y))
    if len(y) < 2:
        return None
    shared = np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :])  # (N, N)
    shorter = np.minimum((x1 - x0)[:, None], (x1 - x0)[None, :])
    below = y[None, :] - y[:, None]  # [i, j]: how far line j lies below line i
    neighbour = (shared >= overlap * np.maximum(shorter, 1e-9)) & (below > max(min_gap, 0.0))
    gaps = np.where(neighbour, below, np.inf).min(axis=1)
    gaps = gaps[np.isfinite(gaps)]
    return float(np.median(gaps)) if len(gaps) else None


def line_extent(line: Line) -> tuple[float, float, float]:
    """``(left, right, mean y)`` of a line's baseline."""
    xs = [p[0] for p in line.baseline]
    return min(xs), max(xs), float(np.mean([p[1] for p in line.baseline]))


def _beside(x0: np.ndarray, x1: np.ndarray, y: np.ndarray, m: int, i: int, height: float) -> bool:
    """Lines ``m`` and ``i`` sit side by side: about the same height, and more than half a line height apart."""
    gap = max(x0[i] - x1[m], x0[m] - x1[i])
    return bool(abs(y[m] - y[i]) < 0.5 * height and gap > 0.5 * height)


def reading_order(
    lines: list[Line],
    *,
    line_height: float | None = None,
    overlap: float = 0.5,
    marginal_width: float = 1 / 3,
    follow: float = 3.0,
    marginalia: str = "after",
) -> list[Line]:
    """Lines in reading order, each with ``region`` set to its block (``"r1"``, ``"r2"``, ...).

    Blocks grow top to bottom: a line joins the block whose x-range it overlaps most, by at least
    ``overlap`` of the narrower of the two, or else the block just above it (``follow``), unless the block
    already holds a line beside it (about the same height, more than half a line height apart
    horizontally): that is another column or a marginal note, which opens its own block. Blocks are read
    left to right (by their left edge), except that a block wholly above one it overlaps horizontally (a
    heading, an address) is read before it; blocks narrower than ``marginal_width`` of the widest (marginal
    notes, page numbers beside the text) come after all main blocks, top to bottom. Within a block lines
    are read top to bottom. A heading above two columns joins the first column's block, so it is read first.

    Args:
        lines: lines in any order, baselines left to right, page pixels.
        line_height: the interline distance in page pixels; measured from the lines when not given.
        overlap: share of the narrower x-range a line must overlap to join a block.
        marginal_width: blocks narrower than this share of the widest block are marginal.
        follow: a line overlapping no block and beside no line joins the block whose lowest line is at most
            this many line heights above it (a salutation, an indented last line).
        marginalia: ``"after"`` reads marginal blocks after the main ones; ``"inline"`` reads each marginal
            line at its height among the lines of the nearest main block (a letter's ground truth often
            does), keeping its own region id.
    """
    if not lines:
        return []
    extents = np.array([line_extent(line) for line in lines])  # (N, 3): left, right, mean y
    x0, x1, y = extents[:, 0], extents[:, 1], extents[:, 2]
    height = line_height or interline_distance(x0, x1, y) or max(float(np.ptp(y)) / max(len(lines), 1), 1.0)
    blocks: list[list[int]] = []
    spans: list[list[float]] = []  # [left, right] of each block
    for i in np.argsort(y, kind="stable"):
        best, best_score = -1, -np.inf
        apart = [any(_beside(x0, x1, y, m, i, height) for m in members) for members in blocks]
        for b, (members, (left, right)) in enumerate(zip(blocks, spans, strict=True)):
            if apart[b]:
                continue  # a line at the same height, well apart: i is in another column
            shared = min(x1[i], right) - max(x0[i], left)
            if shared >= overlap * max(min(x1[i] - x0[i], right - left), 1e-9):
                score = shared
            elif not any(apart) and 0 < y[i] - max(y[m] for m in members) <= follow * height:
                score = -(y[i] - max(y[m] for m in members))  # just below the block: an indented or short line
            else:
                continue
            if score > best_score:
                best, best_score = b, score
        if best < 0:
            blocks.append([int(i)])
            spans.append([float(x0[i]), float(x1[i])])
        else:
            blocks[best].append(int(i))
            spans[best] = [min(spans[best][0], float(x0[i])), max(spans[best][1], float(x1[i]))]
    tops = [min(y[m] for m in members) for members in blocks]
    bottoms = [max(y[m] for m in members) for members in blocks]
    widest = max(right - left for left, right in spans)
    main = sorted(
        (b for b in range(len(blocks)) if spans[b][1] - spans[b][0] >= marginal_width * widest),
        key=lambda b: (spans[b][0], tops[b]),
    )
    for _ in range(len(main)):  # a block above another one it overlaps (a heading, an address) goes first
        moved = False
        for k in range(1, len(main)):
            above, below_ = main[k], main[k - 1]
            shared = min(spans[above][1], spans[below_][1]) - max(spans[above][0], spans[below_][0])
            if shared > 0 and bottoms[above] < tops[below_]:
                main[k - 1], main[k] = above, below_
                moved = True
        if not moved:
            break
    marginal = sorted((b for b in range(len(blocks)) if b not in main), key=lambda b: (tops[b], spans[b][0]))
    region = {b: f"r{number}" for number, b in enumerate(main + marginal, start=1)}
    groups = [[(m, b) for m in blocks[b]] for b in main]  # (line, block) pairs, read top to bottom per group
    if marginalia == "inline":  # a note is read where it stands, among the lines of the main block nearest it
        for b in marginal:
            centre = (tops[b] + bottoms[b]) / 2
            host = min(range(len(main)), key=lambda k: max(tops[main[k]] - centre, centre - bottoms[main[k]], 0))
            groups[host] += [(m, b) for m in blocks[b]]
    else:
        groups += [[(m, b) for m in blocks[b]] for b in marginal]
    return [
        dataclasses.replace(lines[m], region=region[b])
        for group in groups
        for m, b in sorted(group, key=lambda e: (y[e[0]], x0[e[0]]))
    ]


def drop_doubles(lines: list[Line], line_height: float, overlap: float = 0.5, near: float = 0.4) -> list[Line]:
    """``lines`` without the ones that double a longer line: a baseline found twice, a piece just above it.

    A line is a double when at least ``overlap`` of its x-range lies within a longer line's and its
    baseline runs less than ``near`` line heights from that line's there; two real lines are a whole
    line height apart.
    """
    order = sorted(range(len(lines)), key=lambda i: -(lines[i].baseline[-1][0] - lines[i].baseline[0][0]))
    kept: list[int] = []
    for i in order:
        xs, ys = (np.array(v) for v in zip(*lines[i].baseline, strict=True))
        double = False
        for j in kept:
            kx, ky = (np.array(v) for v in zip(*lines[j].baseline, strict=True))
            inside = (xs >= kx[0]) & (xs <= kx[-1])
            if (
                inside.mean() >= overlap
                and np.median(np.abs(ys[inside] - np.interp(xs[inside], kx, ky))) < near * line_height
            ):
                double = True
                break
        if not double:
            kept.append(i)
    return [lines[i] for i in sorted(kept)]
