"""Training curves as a PNG, drawn with Pillow (no plotting dependency)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from PIL import Image, ImageDraw

from seqvision.io import atomic_write_bytes

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]


def read_metrics(
    csv_paths: list[Path], metrics: tuple[str, ...] = ("val_cer", "val_wer")
) -> dict[str, list[tuple[float, float]]]:
    """Lightning CSVLogger rows (one or more files, in order) -> {metric: [(epoch, value)]}, epoch-level only."""
    series: dict[str, list[tuple[float, float]]] = {}
    for csv_path in csv_paths:
        with csv_path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                epoch = row.get("epoch")
                for key in ("train_loss_epoch", "val_loss", *metrics):
                    if row.get(key) and epoch:
                        series.setdefault(key, []).append((float(epoch) + 1, float(row[key])))
    return series


def _panel(
    draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], title: str, series: dict[str, list[tuple[float, float]]]
) -> None:
    x0, y0, x1, y1 = box
    draw.rectangle(box, outline="#888888")
    draw.text((x0 + 4, y0 - 14), title, fill="black")
    points = [p for s in series.values() for p in s]
    if not points:
        return
    xmin, xmax = min(p[0] for p in points), max(p[0] for p in points)
    ymin, ymax = min(p[1] for p in points), max(p[1] for p in points)
    xmax, ymax = max(xmax, xmin + 1), ymax if ymax > ymin else ymin + 1
    ymin = min(0.0, ymin)
    for frac in (0.0, 0.5, 1.0):
        y = y1 - frac * (y1 - y0)
        draw.text((x0 - 44, y - 6), f"{ymin + frac * (ymax - ymin):.3g}", fill="#444444")
    draw.text((x1 - 60, y1 + 4), f"epoch {int(xmax)}", fill="#444444")
    for k, (name, pts) in enumerate(series.items()):
        colour = COLOURS[k % len(COLOURS)]
        xy = [
            (x0 + (x - xmin) / (xmax - xmin) * (x1 - x0), y1 - (y - ymin) / (ymax - ymin) * (y1 - y0))
            for x, y in pts
            if math.isfinite(y)
        ]
        if len(xy) > 1:
            draw.line(xy, fill=colour, width=2)
        for x, y in xy:
            draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=colour)
        draw.text((x0 + 8, y0 + 4 + 12 * k), name, fill=colour)


def plot_curves(csv_paths: list[Path], png_path: Path, metrics: tuple[str, ...] = ("val_cer", "val_wer")) -> None:
    """Loss curves on the left, the task's validation ``metrics`` on the right."""
    series = read_metrics(csv_paths, metrics)
    img = Image.new("RGB", (900, 360), "white")
    draw = ImageDraw.Draw(img)
    losses = {k: v for k, v in series.items() if k.endswith("loss") or k.endswith("loss_epoch")}
    rates = {k: v for k, v in series.items() if k in metrics}
    _panel(draw, (60, 30, 430, 320), "loss", losses)
    _panel(draw, (510, 30, 880, 320), "validation " + " / ".join(m.removeprefix("val_") for m in metrics), rates)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    atomic_write_bytes(png_path, buf.getvalue())


def plot_confusion(matrix: list[list[int]], labels: list[str], png_path: str | Path) -> None:
    """Confusion matrix as a PNG: rows are true classes, columns predictions, shade = row fraction."""
    n, cell, left, top = len(labels), 28, 30 + 7 * max(len(s) for s in labels), 40
    img = Image.new("RGB", (left + n * cell + 20, top + n * cell + 30), "white")
    draw = ImageDraw.Draw(img)
    draw.text((left, 8), "predicted ->  (rows: true class)", fill="black")
    for i, row in enumerate(matrix):
        total = max(sum(row), 1)
        draw.text((6, top + i * cell + 8), f"{i} {labels[i]}", fill="black")
        for j, count in enumerate(row):
            shade = int(255 * (1 - count / total))
            box = (left + j * cell, top + i * cell, left + (j + 1) * cell - 1, top + (i + 1) * cell - 1)
            draw.rectangle(box, fill=(shade, shade, 255) if i != j else (shade, 255, shade), outline="#cccccc")
            if count:
                draw.text((box[0] + 4, box[1] + 8), str(count), fill="black" if shade > 100 else "white")
        draw.text((left + i * cell + 10, top + n * cell + 6), str(i), fill="#444444")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    atomic_write_bytes(png_path, buf.getvalue())
