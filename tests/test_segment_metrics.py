"""Segmentation metrics: cBAD-style baseline precision/recall/F1, polygon IoU F1, page and aggregate scores."""

from __future__ import annotations

import numpy as np
import pytest

from seqvision.tasks.segment.geometry import Line, Point, Segmentation
from seqvision.tasks.segment.metrics import (
    aggregate_scores,
    baseline_scores,
    default_tolerance,
    iou_matrix,
    page_scores,
    polygon_f1,
    polyline_distance,
    sample_polyline,
)

LINES: list[list[Point]] = [[(50.0, 100.0 + 40 * k), (450.0, 100.0 + 40 * k)] for k in range(5)]


def box(x0: float, y0: float, x1: float, y1: float) -> list[Point]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def shifted(lines: list[list[Point]], dx: float = 0.0, dy: float = 0.0) -> list[list[Point]]:
    return [[(x + dx, y + dy) for x, y in line] for line in lines]


def test_sampling_and_distance() -> None:
    samples = sample_polyline([(0, 0), (10, 0), (10, 10)])
    assert samples[0].tolist() == [0, 0] and samples[-1].tolist() == [10, 10]
    assert np.allclose(np.hypot(*np.diff(samples, axis=0).T), 2.0)
    d = polyline_distance(np.array([[5.0, 3.0], [13.0, 5.0], [-4.0, -3.0]]), np.array([[0.0, 0.0], [10, 0], [10, 10]]))
    assert np.allclose(d, [3.0, 3.0, 5.0])


def test_default_tolerance_is_a_quarter_of_the_interline_distance() -> None:
    assert default_tolerance(LINES) == pytest.approx(10.0)
    assert default_tolerance(LINES[:1]) == 10.0  # no neighbours: the fixed fallback


def test_identical_and_shifted_baselines() -> None:
    same = baseline_scores(LINES, LINES)
    assert same["precision"] == same["recall"] == same["f1"] == 1.0
    near = baseline_scores(LINES, shifted(LINES, dy=6))  # within the 10 px tolerance
    assert near["f1"] == 1.0
    far = baseline_scores(LINES, shifted(LINES, dy=15))  # beyond it, yet far from the next line too (40 px)
    assert far["f1"] < 0.05
    assert baseline_scores(LINES, shifted(LINES, dy=15), tolerance=20)["f1"] == 1.0


def test_merging_two_lines_costs_precision_and_splitting_costs_recall() -> None:
    two = [[(50.0, 100.0), (250.0, 100.0)], [(270.0, 140.0), (450.0, 140.0)]]
    merged = baseline_scores(two, [[(50.0, 100.0), (250.0, 100.0), (270.0, 140.0), (450.0, 140.0)]])
    assert merged["recall"] == 1.0 and merged["precision"] < 0.6
    split = baseline_scores(LINES[:2], [[(50.0, 100.0), (250.0, 100.0)], [(252.0, 100.0), (450.0, 100.0)], LINES[1]])
    assert split["precision"] == 1.0 and 0.7 < split["recall"] < 0.8  # line 1 half found, line 2 whole
    missing = baseline_scores(LINES, LINES[:4])
    assert missing["precision"] == 1.0 and missing["recall"] == pytest.approx(0.8)


def test_empty_cases() -> None:
    assert baseline_scores([], [])["f1"] == 1.0
    assert baseline_scores(LINES, [])["f1"] == 0.0 and baseline_scores(LINES, [])["precision"] == 0.0
    assert baseline_scores([], LINES)["f1"] == 0.0 and baseline_scores([], LINES)["recall"] == 0.0
    assert polygon_f1([], [], (100, 100))["f1"] == 1.0 and polygon_f1([], [], (100, 100))["mean_iou"] == 1.0
    assert polygon_f1([box(0, 0, 10, 10)], [], (100, 100))["f1"] == 0.0
    assert polygon_f1([], [box(0, 0, 10, 10)], (100, 100))["f1"] == 0.0


def test_polygon_iou_and_matching() -> None:
    truth = [box(10, 10, 110, 40), box(10, 50, 110, 80)]
    ious = iou_matrix(truth, [box(10, 10, 110, 40), box(60, 50, 160, 80)], (200, 100))
    assert ious[0, 0] == pytest.approx(1.0) and ious[1, 0] == 0.0
    assert ious[1, 1] == pytest.approx(1 / 3, abs=0.03)  # half of each box overlaps: 50 / 150
    same = polygon_f1(truth, truth, (200, 100))
    assert same["f1"] == 1.0 and same["mean_iou"] == pytest.approx(1.0)
    one_off = polygon_f1(truth, [box(10, 10, 110, 40), box(60, 50, 160, 80)], (200, 100))
    assert one_off["matched"] == 1 and one_off["precision"] == one_off["recall"] == 0.5
    merged = polygon_f1(truth, [box(10, 10, 110, 80)], (200, 100))  # one polygon over both: IoU 30/70 each
    assert merged["matched"] == 0 and merged["f1"] == 0.0
    assert polygon_f1(truth, [box(10, 10, 110, 80)], (200, 100), iou=0.4)["matched"] == 1  # only one of the two


def test_polygons_on_a_large_page_are_compared_at_reduced_resolution() -> None:
    truth = [box(100, 100 + 60 * k, 2900, 150 + 60 * k) for k in range(20)]
    found = shifted(truth, dy=5)
    scores = polygon_f1(truth, found, (3000, 4000))
    assert scores["f1"] == 1.0 and scores["mean_iou"] == pytest.approx(45 / 55, abs=0.05)


def test_page_and_aggregate_scores() -> None:
    def seg(lines: list[list[Point]]) -> Segmentation:
        return Segmentation(
            500, 400, [Line(baseline=ln, polygon=box(ln[0][0], ln[0][1] - 25, ln[-1][0], ln[0][1] + 8)) for ln in lines]
        )

    perfect = page_scores(seg(LINES), seg(LINES))
    assert perfect["baseline_f1"] == 1.0 and perfect["polygon_f1"] == 1.0 and perfect["polygon_truth_lines"] == 5
    half = page_scores(seg(LINES[:2]), seg(LINES[:1]))
    assert half["baseline_recall"] == pytest.approx(0.5) and half["polygon_recall"] == 0.5
    total = aggregate_scores([perfect, half])
    assert total["pages"] == 2
    assert total["macro_baseline_recall"] == pytest.approx(0.75)  # (1 + 0.5) / 2: pages weigh the same
    assert total["micro_baseline_recall"] == pytest.approx(6 / 7)  # 6 of 7 equally long lines: lines weigh the same
    assert total["micro_polygon_recall"] == pytest.approx(6 / 7) and total["micro_polygon_precision"] == 1.0
    assert aggregate_scores([])["micro_baseline_f1"] == 1.0
