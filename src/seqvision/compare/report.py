"""The study's outputs: ``cells.csv`` (one row per run), ``results.csv`` and ``results.md`` (one row per
sequence model, metric mean ± std over seeds) and ``results.png`` (metric against latency; needs matplotlib)."""

from __future__ import annotations

import csv
import io
import math
import statistics
from pathlib import Path
from typing import Any

from seqvision.compare.study import Study
from seqvision.compare.suites import get_suite
from seqvision.io import atomic_write_text
from seqvision.training.plot import COLOURS, INSTALL, PlotUnavailable, figure, save_png

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
    """Metric (mean, ± std bar) against latency at batch 1, one labelled point per sequence model.

    Raises:
        PlotUnavailable: matplotlib (the ``[plot]`` extra) is not installed.
    """
    fig = figure(7.2, 4.4)
    ax = fig.subplots()
    ax.set_title(f"validation {label} vs latency (batch 1)", loc="left", fontsize=10)
    ax.set(xlabel="latency ms (batch 1)", ylabel=f"validation {label}")
    ax.grid(alpha=0.3)
    for k, r in enumerate(rows):
        if not math.isfinite(r["mean"]):
            continue
        colour = COLOURS[k] if k < len(COLOURS) else "#ff7f0e"
        x, y = r["latency_ms_batch1"], r["mean"]
        ax.errorbar([x], [y], yerr=[r["std"]], color=colour, marker="o", markersize=7, capsize=3)
        ax.annotate(r["sequence"], (x, y), xytext=(7, -3), textcoords="offset points", color=colour, fontsize=9)
    latencies = [r["latency_ms_batch1"] for r in rows if math.isfinite(r["mean"])]
    ax.set_xlim(0, 1.2 * max(latencies) if latencies and max(latencies) > 0 else 1)  # room for the names
    ax.margins(y=0.1)
    save_png(fig, png_path)


def write_reports(study: Study, cells: list[dict[str, Any]], out: Path) -> list[dict[str, Any]]:
    """Write cells.csv, results.csv, results.md and results.png (with matplotlib) into ``out``; returns the rows."""
    rows = summarise(cells)
    _csv(out / "cells.csv", CELL_COLUMNS, cells)
    _csv(out / "results.csv", COLUMNS, rows)
    atomic_write_text(out / "results.md", markdown(study, rows, cells))
    try:
        plot(rows, get_suite(study.suite).label, out / "results.png")
    except PlotUnavailable:
        print(f"results.png skipped: {INSTALL}")
    return rows
