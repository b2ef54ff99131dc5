"""The study's outputs: ``cells.csv`` (one row per run), ``results.csv`` and ``results.md`` (one row per
sequence model, metric mean ± std over seeds) and ``results.png`` (metric against latency)."""

from __future__ import annotations

import csv
import io
import math
import statistics
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from seqvision.compare.study import Study
from seqvision.compare.suites import get_suite
from seqvision.io import atomic_write_bytes, atomic_write_text
from seqvision.training.plot import COLOURS

CELL_COLUMNS = [
    "sequence", "seed", "metric", "value", "parameters", "gflops", "input", "train_seconds", "epochs",
    "best_epoch", "latency_ms", "throughput", "threads",
]  # fmt: skip
COLUMNS = [
    "sequence", "metric", "mean", "std", "seeds", "parameters", "mflops_per_sample", "train_seconds", "epochs",
    "latency_ms_batch1", "throughput_per_s",
]  # fmt: skip


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else math.nan


def summarise(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per sequence model, in the order first seen: mean and (sample) std of the metric over seeds."""
    rows = []
    for sequence in dict.fromkeys(c["sequence"] for c in cells):
        mine = [c for c in cells if c["sequence"] == sequence]
        values = [float(c["value"]) for c in mine]
        rows.append(
            {
                "sequence": sequence,
                "metric": mine[0]["metric"],
                "mean": round(_mean(values), 4),
                "std": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
                "seeds": len(values),
                "parameters": mine[0]["parameters"],
                "mflops_per_sample": round(1000 * mine[0]["gflops"], 1),
                "train_seconds": round(_mean([c["train_seconds"] for c in mine]), 1),
                "epochs": round(_mean([c["epochs"] for c in mine]), 1),
                "latency_ms_batch1": round(_mean([c["latency_ms"] for c in mine]), 2),
                "throughput_per_s": round(_mean([c["throughput"] for c in mine]), 1),
            }
        )
    return rows


def _csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def budget_line(study: Study, cells: list[dict[str, Any]]) -> str:
    time_cap = f" or {study.max_minutes:g} min of training, whichever ends first" if study.max_minutes > 0 else ""
    epochs = sorted({c["epochs"] for c in cells})
    ran = f"{epochs[0]}" if len(epochs) == 1 else f"{epochs[0]}-{epochs[-1]}"
    threads = cells[0].get("threads", "?") if cells else "?"
    size = cells[0].get("input", "?") if cells else "?"
    return (
        f"Budget per cell: {study.epochs} epoch(s){time_cap} (cells ran {ran}), batch {study.batch_size}, "
        f"{threads} CPU threads; latency and FLOPs on one {size} input ({_size_words(size)})."
    )


def _size_words(size: str) -> str:
    return "frames x channels x height x width" if size.count("x") == 3 else "height x median validation width"


def markdown(study: Study, rows: list[dict[str, Any]], cells: list[dict[str, Any]]) -> str:
    suite = get_suite(study.suite)
    better = "higher" if suite.mode == "max" else "lower"
    lines = [
        f"# seqvision compare: suite `{suite.name}`",
        "",
        f"{suite.about}. Validation {suite.label} ({better} is better), mean ± std over seeds.",
        budget_line(study, cells),
        "",
        f"| sequence | {suite.label} | seeds | parameters | MFLOPs/sample | training s | epochs "
        "| latency ms (batch 1) | throughput /s (batch 32) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['sequence']} | {r['mean']:.4f} ± {r['std']:.4f} | {r['seeds']} | {r['parameters']:,} "
            f"| {r['mflops_per_sample']:.1f} | {r['train_seconds']:.0f} | {r['epochs']:.1f} "
            f"| {r['latency_ms_batch1']:.2f} | {r['throughput_per_s']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def plot(rows: list[dict[str, Any]], label: str, png_path: Path) -> None:
    """Metric (mean, ± std bar) against latency at batch 1, one labelled point per sequence model."""
    img = Image.new("RGB", (720, 440), "white")
    draw = ImageDraw.Draw(img)
    x0, y0, x1, y1 = 80, 30, 690, 390
    draw.rectangle((x0, y0, x1, y1), outline="#888888")
    draw.text((x0, 10), f"validation {label} vs latency (batch 1)", fill="black")
    draw.text((x1 - 110, y1 + 22), "latency ms (batch 1)", fill="#444444")
    points = [(r["latency_ms_batch1"], r["mean"], r["std"]) for r in rows if math.isfinite(r["mean"])]
    if points:
        xmin, xmax = min(p[0] for p in points), max(p[0] for p in points)
        ymin, ymax = min(p[1] - p[2] for p in points), max(p[1] + p[2] for p in points)
        pad_x, pad_y = max((xmax - xmin) * 0.1, 0.05), max((ymax - ymin) * 0.1, 1e-3)
        xmin, xmax, ymin, ymax = max(0.0, xmin - pad_x), xmax + pad_x, ymin - pad_y, ymax + pad_y

        def px(x: float, y: float) -> tuple[float, float]:
            return x0 + (x - xmin) / (xmax - xmin) * (x1 - x0), y1 - (y - ymin) / (ymax - ymin) * (y1 - y0)

        for frac in (0.0, 0.5, 1.0):
            draw.text((x0 - 60, y1 - frac * (y1 - y0) - 6), f"{ymin + frac * (ymax - ymin):.4g}", fill="#444444")
            draw.text((x0 + frac * (x1 - x0) - 10, y1 + 6), f"{xmin + frac * (xmax - xmin):.3g}", fill="#444444")
        for k, r in enumerate(rows):
            colour = COLOURS[k % len(COLOURS)] if k < len(COLOURS) else "#ff7f0e"
            cx, cy = px(r["latency_ms_batch1"], r["mean"])
            _, top = px(0, r["mean"] + r["std"])
            _, bottom = px(0, r["mean"] - r["std"])
            draw.line((cx, top, cx, bottom), fill=colour, width=1)
            draw.ellipse((cx - 5, cy - 5, cx + 5, cy + 5), fill=colour)
            draw.text((cx + 8, cy - 6), r["sequence"], fill=colour)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    atomic_write_bytes(png_path, buf.getvalue())


def write_reports(study: Study, cells: list[dict[str, Any]], out: Path) -> list[dict[str, Any]]:
    """Write cells.csv, results.csv, results.md and results.png into ``out``; returns the summary rows."""
    rows = summarise(cells)
    _csv(out / "cells.csv", CELL_COLUMNS, cells)
    _csv(out / "results.csv", COLUMNS, rows)
    atomic_write_text(out / "results.md", markdown(study, rows, cells))
    plot(rows, get_suite(study.suite).label, out / "results.png")
    return rows
