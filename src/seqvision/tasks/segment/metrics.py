"""How well a page was segmented: baseline detection as in cBAD, line polygons by IoU.

Baselines (in the spirit of the cBAD competition, Grüning et al. 2017, "READ-BAD"): every polyline is sampled
every :data:`SAMPLE_STEP` page pixels. A ground-truth line's recall is the largest share of its samples that
lie within the tolerance of any one found line; a found line's precision is the largest share of its samples
within the tolerance of any one ground-truth line. The page's recall and precision are those shares averaged
with each line's length as its weight. Because each line is compared with its single best partner, a found
line that merges two lines loses precision (half of it is far from either partner) and two pieces of one line
lose recall, which plain point coverage would not notice. Unlike cBAD, the tolerance is one hard distance per
page (not a soft ramp per line): by default :data:`TOLERANCE_SHARE` of the ground truth's median interline
distance (:func:`~seqvision.tasks.segment.layout.interline_distance`), :data:`FALLBACK_TOLERANCE` pixels
when the page has no two lines one above the other.

Polygons: rasterised with PIL at most :data:`RASTER_SIDE` pixels on the longer side, IoU of every pair, and
a one-to-one matching, greedy by IoU descending, of pairs with IoU at or above the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from seqvision.tasks.segment.geometry import Point, Segmentation
from seqvision.tasks.segment.layout import interline_distance

SAMPLE_STEP = 2.0  # page pixels between samples of a polyline
TOLERANCE_SHARE = 0.25  # default tolerance: this share of the median interline distance ...
FALLBACK_TOLERANCE = 10.0  # ... or this many page pixels on a page without neighbouring lines
RASTER_SIDE = 1000  # polygons are compared at most this many pixels on the page's longer side


def sample_polyline(points: Sequence[Point], step: float = SAMPLE_STEP) -> np.ndarray:
    """Points along a polyline every ``step`` pixels of its length, both ends included; ``(N, 2)``."""
    xy = np.asarray(points, np.float64).reshape(-1, 2)
    if len(xy) < 2:
        return xy
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])  # arc length at each vertex
    at = np.linspace(0.0, along[-1], max(2, int(np.ceil(along[-1] / step)) + 1))
    return np.stack([np.interp(at, along, xy[:, 0]), np.interp(at, along, xy[:, 1])], axis=1)


def polyline_distance(points: np.ndarray, polyline: np.ndarray) -> np.ndarray:
    """Distance of each of ``points`` ``(N, 2)`` to the polyline ``(M, 2)`` (its segments, not its vertices)."""
    if len(polyline) == 1:
        return np.hypot(*(points - polyline[0]).T)
    a, b = polyline[:-1], polyline[1:]  # (S, 2) segment starts and ends
    ab = b - a
    t = ((points[:, None, :] - a[None]) * ab[None]).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12)[None]  # (N, S)
    nearest = a[None] + np.clip(t, 0.0, 1.0)[..., None] * ab[None]  # (N, S, 2)
    return np.hypot(*(points[:, None, :] - nearest).transpose(2, 0, 1)).min(axis=1)


def default_tolerance(truth: Sequence[Sequence[Point]]) -> float:
    """:data:`TOLERANCE_SHARE` of the ground truth's median interline distance (see the module docstring)."""
    lines = [np.asarray(t, np.float64).reshape(-1, 2) for t in truth if len(t)]
    if len(lines) < 2:
        return FALLBACK_TOLERANCE
    x0, x1 = [p[:, 0].min() for p in lines], [p[:, 0].max() for p in lines]
    distance = interline_distance(np.array(x0), np.array(x1), np.array([p[:, 1].mean() for p in lines]))
    return TOLERANCE_SHARE * distance if distance else FALLBACK_TOLERANCE


def baseline_scores(
    truth: Sequence[Sequence[Point]], found: Sequence[Sequence[Point]], tolerance: float | None = None
) -> dict[str, float]:
    """Baseline precision, recall and F1 of one page (see the module docstring), in page pixels.

    Returns:
        ``precision``, ``recall``, ``f1``, the ``tolerance`` used, and the sums an aggregate needs:
        ``truth_length`` / ``truth_hit`` (length-weighted recall numerator), ``found_length`` / ``found_hit``.
        No lines on either side scores 1.0; lines on one side only score 0.
    """
    tol = default_tolerance(truth) if tolerance is None else float(tolerance)
    t_pts = [sample_polyline(t) for t in truth if len(t)]
    f_pts = [sample_polyline(f) for f in found if len(f)]
    t_len, f_len = np.array([_length(p) for p in t_pts]), np.array([_length(p) for p in f_pts])
    recall, precision = np.zeros(len(t_pts)), np.zeros(len(f_pts))
    t_box = [(p.min(0) - tol, p.max(0) + tol) for p in t_pts]
    for j, fp in enumerate(f_pts):
        lo, hi = fp.min(0), fp.max(0)
        for i, tp in enumerate(t_pts):
            if (lo > t_box[i][1]).any() or (hi < t_box[i][0]).any():
                continue  # boxes apart by more than the tolerance: no sample can be near
            recall[i] = max(recall[i], float((polyline_distance(tp, fp) <= tol).mean()))
            precision[j] = max(precision[j], float((polyline_distance(fp, tp) <= tol).mean()))
    out = {
        "tolerance": tol,
        "truth_length": float(t_len.sum()),
        "found_length": float(f_len.sum()),
        "truth_hit": float((t_len * recall).sum()),
        "found_hit": float((f_len * precision).sum()),
    }
    return out | _prf(out["found_hit"], out["found_length"], out["truth_hit"], out["truth_length"])


def _length(samples: np.ndarray) -> float:
    """A sampled polyline's length, at least one sample step (so a single point still weighs something)."""
    return max(float(np.hypot(*np.diff(samples, axis=0).T).sum()) if len(samples) > 1 else 0.0, SAMPLE_STEP)


def _prf(found_hit: float, found_total: float, truth_hit: float, truth_total: float) -> dict[str, float]:
    """Precision, recall and F1 from hit and total amounts; nothing on both sides is a perfect 1.0."""
    if found_total == 0 and truth_total == 0:
        return {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    p = found_hit / found_total if found_total else 0.0
    r = truth_hit / truth_total if truth_total else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def _rasterise(polygon: Sequence[Point], factor: float, size: tuple[int, int]) -> tuple[int, int, np.ndarray]:
    """A polygon's mask within its bounding box at ``factor`` of page resolution: ``(left, top, mask)``."""
    xy = np.asarray(polygon, np.float64).reshape(-1, 2) * factor
    if len(xy) < 3:
        return 0, 0, np.zeros((0, 0), bool)
    left, top = (int(max(v, 0)) for v in np.floor(xy.min(0)))
    right, bottom = int(min(np.ceil(xy[:, 0].max()), size[0] - 1)), int(min(np.ceil(xy[:, 1].max()), size[1] - 1))
    if right < left or bottom < top:
        return 0, 0, np.zeros((0, 0), bool)
    image = Image.new("1", (right - left + 1, bottom - top + 1))
    ImageDraw.Draw(image).polygon([(float(x - left), float(y - top)) for x, y in xy], fill=1, outline=1)
    return left, top, np.asarray(image, bool)


def iou_matrix(truth: Sequence[Sequence[Point]], found: Sequence[Sequence[Point]], size: tuple[int, int]) -> np.ndarray:
    """IoU of every (truth, found) polygon pair, ``(len(truth), len(found))``; ``size``: the page's (width, height)."""
    factor = min(1.0, RASTER_SIDE / max(size))
    small = (max(1, round(size[0] * factor)), max(1, round(size[1] * factor)))
    t_masks = [_rasterise(p, factor, small) for p in truth]
    f_masks = [_rasterise(p, factor, small) for p in found]
    out = np.zeros((len(truth), len(found)))
    for i, (tl, tt, tm) in enumerate(t_masks):
        for j, (fl, ft, fm) in enumerate(f_masks):
            left, top = max(tl, fl), max(tt, ft)
            right, bottom = min(tl + tm.shape[1], fl + fm.shape[1]), min(tt + tm.shape[0], ft + fm.shape[0])
            if right <= left or bottom <= top:
                continue
            both = (
                tm[top - tt : bottom - tt, left - tl : right - tl] & fm[top - ft : bottom - ft, left - fl : right - fl]
            )
            inter = int(both.sum())
            union = int(tm.sum()) + int(fm.sum()) - inter
            out[i, j] = inter / union if union else 0.0
    return out


def polygon_f1(
    truth: Sequence[Sequence[Point]], found: Sequence[Sequence[Point]], size: tuple[int, int], iou: float = 0.5
) -> dict[str, float]:
    """Line-polygon precision, recall and F1 at an IoU threshold, and the mean IoU of the matched pairs.

    Args:
        truth, found: polygons in page pixels.
        size: the page's ``(width, height)``.
        iou: a pair matches at this IoU or above; each polygon matches at most once (greedy, best IoU first).

    Returns:
        ``precision``, ``recall``, ``f1``, ``mean_iou`` (0.0 with no match, 1.0 when both sides are empty),
        ``matched``, ``truth_lines``, ``found_lines``.
    """
    ious = iou_matrix(truth, found, size)
    used_t, used_f, matched = set(), set(), []
    for flat in np.argsort(-ious, axis=None, kind="stable"):
        i, j = divmod(int(flat), ious.shape[1])
        if ious[i, j] < iou:
            break
        if i not in used_t and j not in used_f:
            used_t.add(i)
            used_f.add(j)
            matched.append(float(ious[i, j]))
    counts = {"matched": float(len(matched)), "truth_lines": float(len(truth)), "found_lines": float(len(found))}
    mean_iou = float(np.mean(matched)) if matched else (1.0 if not truth and not found else 0.0)
    return counts | {"mean_iou": mean_iou} | _prf(len(matched), len(found), len(matched), len(truth))


def page_scores(truth: Segmentation, found: Segmentation, tolerance: float | None = None) -> dict[str, float]:
    """Baseline and polygon scores of one page: :func:`baseline_scores` keys prefixed ``baseline_``,
    :func:`polygon_f1` keys (IoU 0.5, at the ground truth's page size) prefixed ``polygon_``."""
    base = baseline_scores([ln.baseline for ln in truth.lines], [ln.baseline for ln in found.lines], tolerance)
    poly = polygon_f1(
        [ln.polygon for ln in truth.lines], [ln.polygon for ln in found.lines], (truth.width, truth.height)
    )
    return {f"baseline_{k}": v for k, v in base.items()} | {f"polygon_{k}": v for k, v in poly.items()}


def aggregate_scores(pages: Sequence[dict[str, float]]) -> dict[str, float]:
    """Scores of many pages from their :func:`page_scores`.

    ``macro_*``: the mean over pages of each page's precision, recall and F1 (every page counts the same).
    ``micro_*``: pooled over pages: baseline from the summed length-weighted hits and lengths, polygon from the
    summed matched, truth and found line counts (every line, by its length for baselines, counts the same).
    ``pages`` is the number of pages. No pages: every score is 1.0 (nothing to find, nothing found).
    """
    out: dict[str, float] = {"pages": float(len(pages))}
    for kind in ("baseline", "polygon"):
        for name in ("precision", "recall", "f1"):
            out[f"macro_{kind}_{name}"] = float(np.mean([p[f"{kind}_{name}"] for p in pages])) if pages else 1.0
    total = {key: sum(p[key] for p in pages) for key in (pages[0] if pages else {})}
    base = _prf(
        total.get("baseline_found_hit", 0.0),
        total.get("baseline_found_length", 0.0),
        total.get("baseline_truth_hit", 0.0),
        total.get("baseline_truth_length", 0.0),
    )
    matched = total.get("polygon_matched", 0.0)
    poly = _prf(matched, total.get("polygon_found_lines", 0.0), matched, total.get("polygon_truth_lines", 0.0))
    out |= {f"micro_baseline_{k}": v for k, v in base.items()} | {f"micro_polygon_{k}": v for k, v in poly.items()}
    return out
