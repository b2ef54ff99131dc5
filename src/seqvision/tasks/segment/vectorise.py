"""From the segmenter's probability maps to text lines: baseline polylines, line polygons, reading order.

Pure numpy (no torch, no scipy), so it runs wherever the maps come from. Map pixel ``i`` covers page pixels
``[i * scale, (i + 1) * scale)``; a map coordinate ``v`` is page coordinate ``(v + 0.5) * scale - 0.5``.

The steps: threshold the baseline map; cut away vertical runs much taller than a baseline band (where two
lines touch, or a blot sits on one); 8-connected components; link pieces that continue each other (a broken
line, the halves of a cut one) end to start; drop short ones; per line a left-to-right polyline (mean y per
x-bin, resampled to about one point per ``point_spacing`` page pixels, ends kept) and a polygon from the
region map (how far the region reaches above and below each column, within limits); then
:func:`~seqvision.tasks.segment.layout.reading_order`.
"""

from __future__ import annotations

import math

import numpy as np

from seqvision.tasks.segment.components import label_runs, row_runs, run_pixels, vertical_run_length
from seqvision.tasks.segment.geometry import Line, Point
from seqvision.tasks.segment.layout import drop_doubles, interline_distance, reading_order

__all__ = ["reading_order", "vectorise"]


def vectorise(
    baseline: np.ndarray,
    region: np.ndarray,
    scale: float,
    threshold: float = 0.5,
    *,
    region_threshold: float = 0.5,
    line_height: float | None = None,
    min_length: float | None = None,
    point_spacing: float = 15.0,
    bin_px: int = 3,
    above: float = 1.5,
    below: float = 0.5,
    link_gap: float = 0.75,
    link_dy: float = 0.25,
    marginalia: str = "after",
) -> list[Line]:
    """Text lines found in a baseline map and a line-region map, in reading order, in page pixels.

    Args:
        baseline: ``(H, W)`` probability in [0, 1] of a thin band along each baseline.
        region: ``(H, W)`` probability in [0, 1] of the filled area of each line.
        scale: page pixels per map pixel.
        threshold: baseline probability that counts as baseline.
        region_threshold: region probability that counts as inside a line.
        line_height: the interline distance in page pixels; measured from the lines when not given (the
            median distance between horizontally overlapping neighbours; else the median height of the
            region map's vertical runs; else a 25th of the map height).
        min_length: lines shorter than this many page pixels are dropped; default 0.4 line heights. Lines
            shorter than three times the median thickness of the baseline band (blobs) always are.
        point_spacing: about one baseline (and polygon) point per this many page pixels.
        bin_px: width in map pixels of the x-bins whose mean y gives the polyline.
        above, below: the polygon reaches at most this many line heights above and below the baseline.
        link_gap: pieces whose ends are at most this many line heights apart (and ...)
        link_dy: ... at most this many line heights apart in y are one line.
        marginalia: where marginal notes are read, see :func:`~seqvision.tasks.segment.layout.reading_order`.
    """
    if baseline.ndim != 2 or baseline.shape != region.shape:
        raise ValueError(
            f"baseline and region maps must be two (H, W) arrays of one shape, not {baseline.shape} and {region.shape}"
        )
    mask = baseline >= threshold
    if not mask.any():
        return []
    height_map, width_map = mask.shape
    thickness = vertical_run_length(mask)
    band = float(np.median(thickness[mask]))
    thin = mask & (thickness <= max(2 * band, band + 3))  # taller runs: two lines touching, or a blot
    rows, starts, ends, labels, n = label_runs(thin)
    if n == 0:
        return []
    ys, xs, run = run_pixels(rows, starts, ends)
    piece = labels[run]
    x0, x1 = _group_min(xs, piece, n), _group_max(xs, piece, n)
    count = np.bincount(piece, minlength=n)
    y_mean = np.bincount(piece, ys, minlength=n) / count
    if line_height is not None:
        spacing = line_height / scale
    else:
        long = (x1 - x0 + 1) >= 4 * max(2 * band, band + 3)
        text_height = _region_height(region >= region_threshold)  # a baseline found twice is nearer than this
        gap = max(2 * band, band + 3, 0.6 * (text_height or 0.0))
        spacing = interline_distance(x0[long], x1[long], y_mean[long], min_gap=gap) or text_height or height_map / 25
    solid = ((x1 - x0 + 1) >= 2 * band) & (count >= 2 * band * band)  # specks would link into phantom lines
    if not solid.any():
        return []
    kept = solid[piece]
    xs, ys, piece = xs[kept], ys[kept], (np.cumsum(solid) - 1)[piece[kept]]
    chain = _link(xs, ys, piece, x0[solid], x1[solid], spacing * link_gap, spacing * link_dy)
    lines_n = int(chain.max()) + 1
    line_of = chain[piece]  # (P,) line of each pixel
    lx0, lx1 = _group_min(xs, line_of, lines_n), _group_max(xs, line_of, lines_n)
    shortest = max((0.4 * spacing * scale if min_length is None else min_length) / scale, 3 * band)  # 3 * band: blobs
    keep = np.nonzero((lx1 - lx0 + 1) >= shortest)[0]
    if len(keep) == 0:
        return []
    weight = np.maximum(baseline[ys, xs].astype(np.float64), 1e-6)
    bins = (xs - lx0[line_of]) // bin_px
    key = line_of * (width_map // bin_px + 2) + bins
    size = lines_n * (width_map // bin_px + 2)
    w_sum = np.bincount(key, weight, minlength=size).reshape(lines_n, -1)
    bx = np.bincount(key, weight * xs, minlength=size).reshape(lines_n, -1) / np.maximum(w_sum, 1e-12)
    by = np.bincount(key, weight * ys, minlength=size).reshape(lines_n, -1) / np.maximum(w_sum, 1e-12)
    confidence = np.bincount(line_of, baseline[ys, xs], minlength=lines_n) / np.bincount(line_of, minlength=lines_n)
    hits = np.bincount(key, minlength=size).reshape(lines_n, -1)
    bin_x0 = _group_min(xs, key, size).reshape(lines_n, -1)
    bin_x1 = _group_max(xs, key, size).reshape(lines_n, -1)
    strong = [np.nonzero(_strong_bins(hits[k]))[0] for k in keep]
    tracks = [(bx[k][b], by[k][b]) for k, b in zip(keep, strong, strict=True)]  # (x, y) per strong bin
    spans = [(int(bin_x0[k, b[0]]), int(bin_x1[k, b[-1]])) for k, b in zip(keep, strong, strict=True)]
    owner = np.full(mask.shape, -1, np.int64)  # which kept line each baseline pixel belongs to
    rank = np.full(lines_n, -1, np.int64)
    rank[keep] = np.arange(len(keep))
    owner[ys, xs] = rank[line_of]
    polygons = _polygons(
        region >= region_threshold,
        owner,
        spans,
        tracks,
        spacing,
        above,
        below,
        max(1, round(point_spacing / scale)),
    )

    def page(x: float, y: float) -> Point:
        return (
            float(min(max((x + 0.5) * scale - 0.5, 0.0), width_map * scale - 1)),
            float(min(max((y + 0.5) * scale - 0.5, 0.0), height_map * scale - 1)),
        )

    found = []
    for i, k in enumerate(keep):
        left, right = float(spans[i][0]), float(spans[i][1])
        points = max(2, math.ceil((right - left) * scale / point_spacing) + 1)
        px = np.linspace(left, right, points)
        py = np.interp(px, *tracks[i])
        found.append(
            Line(
                baseline=[page(x, y) for x, y in zip(px, py, strict=True)],
                polygon=[page(x, y) for x, y in polygons[i]],
                confidence=float(confidence[k]),
            )
        )
    found = drop_doubles(found, spacing * scale)
    return reading_order(found, line_height=spacing * scale, marginalia=marginalia)


def _group_min(values: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(out, group, values)
    return out


def _group_max(values: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, np.iinfo(np.int64).min, np.int64)
    np.maximum.at(out, group, values)
    return out


def _strong_bins(hits: np.ndarray) -> np.ndarray:
    """Bins of one line holding at least half its median pixel count: stray pixels off an end neither move its
    height nor lengthen it."""
    used = hits > 0
    strong = hits >= 0.5 * np.median(hits[used])
    return strong if strong.any() else used


def _region_height(region: np.ndarray) -> float | None:
    """Median height of the region mask's vertical runs (about one line's polygon height), or ``None``."""
    _, starts, ends = row_runs(region.T)
    return float(np.median(ends - starts)) if len(starts) else None


def _link(
    xs: np.ndarray, ys: np.ndarray, piece: np.ndarray, x0: np.ndarray, x1: np.ndarray, max_gap: float, max_dy: float
) -> np.ndarray:
    """Chain pieces that continue each other left to right; returns each piece's chain number ``0..m-1``."""
    n = len(x0)
    ends_at = 3  # columns at each end whose mean y is the end's height
    left = xs <= x0[piece] + ends_at - 1
    right = xs >= x1[piece] - ends_at + 1
    y_left = np.bincount(piece[left], ys[left], minlength=n) / np.bincount(piece[left], minlength=n)
    y_right = np.bincount(piece[right], ys[right], minlength=n) / np.bincount(piece[right], minlength=n)
    gap = x0[None, :] - x1[:, None]  # [i, j]: from the right end of i to the left end of j
    dy = np.abs(y_left[None, :] - y_right[:, None])
    ok = (gap >= -2) & (gap <= max_gap) & (dy <= max_dy) & (x1[None, :] > x1[:, None])
    succ, pred = np.full(n, -1), np.full(n, -1)
    i_idx, j_idx = np.nonzero(ok)
    for c in np.argsort((np.maximum(gap, 0) + 4 * dy)[i_idx, j_idx], kind="stable"):
        i, j = int(i_idx[c]), int(j_idx[c])
        if succ[i] < 0 and pred[j] < 0 and i != j:
            succ[i], pred[j] = j, i
    chain = np.full(n, -1)
    number = 0
    for head in np.nonzero(pred < 0)[0]:
        node = int(head)
        while node >= 0 and chain[node] < 0:
            chain[node] = number
            node = int(succ[node])
        number += 1
    chain[chain < 0] = np.arange(number, number + int((chain < 0).sum()))  # a cycle cannot form; kept safe
    return chain


def _polygons(
    region: np.ndarray,
    owner: np.ndarray,
    spans: list[tuple[int, int]],
    tracks: list[tuple[np.ndarray, np.ndarray]],
    spacing: float,
    above: float,
    below: float,
    group: int,
) -> list[list[tuple[float, float]]]:
    """Per line, its polygon in map coordinates: top points left to right, then bottom points right to left.

    Each column of a line reaches up (down) while the region mask holds, at most ``above`` (``below``)
    line heights, stopping at another line's baseline; columns with no region at the baseline take the
    page's median reach (or 0.75 / 0.25 line heights when the region map is empty along every line).
    """
    height, _ = region.shape
    cols = [np.arange(a, b + 1) for a, b in spans]
    cx = np.concatenate(cols)
    which = np.repeat(np.arange(len(spans)), [len(c) for c in cols])
    cy = np.concatenate([np.rint(np.interp(c, *t)) for c, t in zip(cols, tracks, strict=True)]).astype(np.int64)

    def reach(direction: int, limit: int) -> np.ndarray:
        steps = np.arange(1, max(limit, 1) + 1)
        rr = cy[:, None] + direction * steps[None, :]  # (P, K): the rows above (below) each column's baseline
        inside = (rr >= 0) & (rr < height)
        rr = np.clip(rr, 0, height - 1)
        other = owner[rr, cx[:, None]]
        ok = inside & region[rr, cx[:, None]] & ((other < 0) | (other == which[:, None]))
        return np.cumprod(ok, axis=1).sum(axis=1)

    up, down = reach(-1, math.ceil(above * spacing)), reach(1, math.ceil(below * spacing))
    near = np.clip(cy[:, None] + np.arange(-1, 2)[None, :], 0, height - 1)
    present = region[near, cx[:, None]].any(axis=1)
    fallback_up = float(np.median(up[present])) if present.any() else 0.75 * spacing
    fallback_down = float(np.median(down[present])) if present.any() else 0.25 * spacing
    up = np.where(present, up, fallback_up)
    down = np.where(present, down, fallback_down)
    polygons = []
    offset = 0
    for (a, b), track in zip(spans, tracks, strict=True):
        width = b - a + 1
        first = np.arange(0, width, group)
        top = np.maximum.reduceat(up[offset : offset + width], first)
        bottom = np.maximum.reduceat(down[offset : offset + width], first)
        centre = a + np.minimum(first + (group - 1) / 2, width - 1)
        gx = np.concatenate([[a - 0.5], centre, [b + 0.5]])
        gy = np.interp(gx, *track)
        top = np.concatenate([top[:1], top, top[-1:]])
        bottom = np.concatenate([bottom[:1], bottom, bottom[-1:]])
        upper = [(float(x), float(y - t - 0.5)) for x, y, t in zip(gx, gy, top, strict=True)]
        lower = [(float(x), float(y + d + 0.5)) for x, y, d in zip(gx, gy, bottom, strict=True)]
        polygons.append(upper + lower[::-1])
        offset += width
    return polygons
