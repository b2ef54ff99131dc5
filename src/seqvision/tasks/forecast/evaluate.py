"""Load a saved forecaster and score it against persistence, per lead time.

>>> model, meta = load_forecaster("runs/mm/model.safetensors")   # doctest: +SKIP
>>> result = evaluate(model, meta, eval_set("moving-mnist:mnist.npz", meta))   # doctest: +SKIP
>>> result["model"]["summary"]["mse_frame"], result["persistence"]["summary"]["mse_frame"]   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from seqvision.checkpoint import load_state
from seqvision.config import ModelConfig, from_dict
from seqvision.errors import CheckpointError, ConfigError
from seqvision.tasks.forecast.metrics import ForecastScores
from seqvision.tasks.forecast.model import ForecastModel, build_forecaster
from seqvision.tasks.forecast.normalise import Normalisation
from seqvision.tasks.predictor import check_task


def load_forecaster(name_or_path: str | Path) -> tuple[ForecastModel, dict[str, Any]]:
    """A saved forecasting model in eval mode and its metadata; a wrong or damaged file: :class:`CheckpointError`."""
    tensors, meta, path = load_state(name_or_path)
    check_task(meta, path, "forecast")
    try:
        model = build_forecaster(from_dict(ModelConfig, meta["architecture"]), int(meta["input"]["frames_out"]))
        model.load_state_dict(tensors, strict=True)
    except (KeyError, TypeError, ValueError, ConfigError, RuntimeError) as exc:
        raise CheckpointError(
            f"{path}: metadata and weights do not fit together ({str(exc).splitlines()[0]})"
        ) from None
    return model.eval(), meta


@torch.no_grad()
def evaluate(model: ForecastModel, meta: dict[str, Any], data: Dataset, batch_size: int = 16) -> dict[str, Any]:
    """Per-lead-time and averaged scores of the model and of persistence on ``data``."""
    from seqvision.tasks.forecast.module import persistence, score

    inp = meta["input"]
    norm = Normalisation.from_dict(inp["normalisation"])
    scores = {name: ForecastScores(inp["frames_out"], inp.get("threshold")) for name in ("model", "persistence")}
    count = 0
    for batch in DataLoader(data, batch_size=batch_size):
        pred = model(batch["inputs"])
        score(scores["model"], pred, batch, norm)
        score(scores["persistence"], persistence(batch["inputs"], pred.shape[1]), batch, norm)
        count += len(pred)
    interval = getattr(data, "interval_min", None) or inp.get("interval_min")  # the data's own, when it says
    result: dict[str, Any] = {"windows": count, "units": norm.units, "interval_min": interval}
    result["threshold"] = inp.get("threshold")
    for name, s in scores.items():
        result[name] = {"summary": s.summary(), "per_lead": s.per_lead()}
    return result


def table(result: dict[str, Any]) -> str:
    """A plain-text table: one row per lead time, model vs persistence."""
    interval = result.get("interval_min")
    csi = result.get("threshold") is not None
    head = f"{'lead':>8} {'MSE/frame':>10} {'persist':>10} {'MAE/frame':>10} {'persist':>10} {'SSIM':>6} {'persist':>7}"
    head += f" {'CSI':>6} {'persist':>7}" if csi else ""
    lines = [head]
    rows = zip(result["model"]["per_lead"], result["persistence"]["per_lead"], strict=True)
    summary = [(result["model"]["summary"], result["persistence"]["summary"])]
    for k, (m, p) in enumerate([*rows, *summary], 1):
        last = k > len(result["model"]["per_lead"])
        lead = "mean" if last else (f"{k * interval:g} min" if interval else f"+{k}")
        line = (
            f"{lead:>8} {m['mse_frame']:>10.2f} {p['mse_frame']:>10.2f} {m['mae_frame']:>10.2f} {p['mae_frame']:>10.2f}"
        )
        line += f" {m['ssim']:>6.3f} {p['ssim']:>7.3f}"
        if csi:
            line += f" {m['csi']:>6.3f} {p['csi']:>7.3f}"
        lines.append(line)
    return "\n".join(lines)
