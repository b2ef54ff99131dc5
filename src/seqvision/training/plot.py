"""Charts as PNG files, drawn with matplotlib (the ``[plot]`` extra): training curves, a confusion matrix.

matplotlib is imported by :func:`figure` on first use, so importing seqvision (and
``seqvision --help``) never pays for it. pyplot is not used: each chart is a bare ``Figure``
printed by the Agg canvas, with no global backend or figure state, so plotting is safe from
threads and leaves an interactive matplotlib session alone. Without matplotlib, :func:`figure`
raises :class:`PlotUnavailable`; a training run then writes no ``curves.png`` and says so in one line.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

from seqvision.errors import ConfigError
from seqvision.io import atomic_write_bytes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
INSTALL = "install seqvision[plot]"


class PlotUnavailable(ConfigError):
    """matplotlib, which draws every chart, is not installed."""


def check_plotting() -> None:
    """Raise :class:`PlotUnavailable` (one line naming the extra) unless matplotlib can be imported.

    Verbs that were asked for a chart call it before their work, not after.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotUnavailable("charts need matplotlib: pip install 'seqvision[plot]'") from None


def figure(width: float, height: float) -> Figure:
    """An empty ``width x height`` inch figure at 100 dpi (constrained layout), without pyplot."""
    check_plotting()  # the package first: where it is missing, importing its submodule could still succeed
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def save_png(fig: Figure, path: str | Path) -> None:
    """Write ``fig`` as a PNG, atomically (rendered by the Agg canvas)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor="white")
    atomic_write_bytes(path, buf.getvalue())


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


def _panel(ax: Axes, title: str, series: dict[str, list[tuple[float, float]]]) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.set_title(title, loc="left", fontsize=10)
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)
    for k, (name, points) in enumerate(series.items()):
        finite = [(x, y) for x, y in points if math.isfinite(y)]
        if finite:
            xs, ys = zip(*finite, strict=True)
            ax.plot(xs, ys, color=COLOURS[k % len(COLOURS)], linewidth=2, marker="o", markersize=3, label=name)
    if series:
        ax.legend(fontsize=8, loc="best")
        ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs


def plot_curves(csv_paths: list[Path], png_path: Path, metrics: tuple[str, ...] = ("val_cer", "val_wer")) -> None:
    """Loss curves on the left, the task's validation ``metrics`` on the right (900 x 360 px)."""
    series = read_metrics(csv_paths, metrics)
    fig = figure(9, 3.6)
    left, right = fig.subplots(1, 2)
    _panel(left, "loss", {k: v for k, v in series.items() if k.endswith("loss") or k.endswith("loss_epoch")})
    title = "validation " + " / ".join(m.removeprefix("val_") for m in metrics)
    _panel(right, title, {k: v for k, v in series.items() if k in metrics})
    save_png(fig, png_path)


def write_curves(csv_paths: list[Path], png_path: Path, metrics: tuple[str, ...]) -> bool:
    """:func:`plot_curves`, or one line saying why it was skipped when matplotlib is missing; True if written."""
    try:
        plot_curves(csv_paths, png_path, metrics)
    except PlotUnavailable:
        print(f"{png_path.name} skipped: {INSTALL}")
        return False
    return True


def plot_confusion(matrix: list[list[int]], labels: list[str], png_path: str | Path) -> None:
    """Confusion matrix as a PNG: rows are true classes, columns predictions, shade = row fraction, counts inside."""
    n = len(labels)
    fractions = [[count / max(sum(row), 1) for count in row] for row in matrix]
    side = 1.5 + 0.45 * n + 0.07 * max(len(s) for s in labels)
    fig = figure(side, side)
    ax = fig.subplots()
    ax.imshow(fractions, cmap="Blues", vmin=0.0, vmax=1.0)
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            if count:
                colour = "white" if fractions[i][j] > 0.6 else "black"
                ax.text(j, i, str(count), ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(range(n), [str(i) for i in range(n)], fontsize=8)
    ax.set_yticks(range(n), [f"{i} {label}" for i, label in enumerate(labels)], fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true class")
    save_png(fig, png_path)
