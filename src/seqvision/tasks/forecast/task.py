"""Forecasting task (nowcasting): ``frames_in`` past frames -> ``frames_out`` future frames.

Masked MSE on the normalised values (radar pixels without data count nowhere); validation scores
MSE/MAE per frame, SSIM and (radar) CSI at 1 mm/h for the model and for persistence (repeat the
last input frame), so every run says whether it beats the baseline. The model is selected by
``val_loss``, the masked MSE it is trained on.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqvision.errors import ConfigError
from seqvision.registry import TASKS
from seqvision.tasks.base import Prepared, Task, saved_metadata

if TYPE_CHECKING:
    from seqvision.config import ExperimentConfig
    from seqvision.tasks.forecast.data import ForecastData
    from seqvision.tasks.predictor import Predictor


@TASKS.register("forecast")
class Forecast(Task):
    """Past frames -> future frames (ConvLSTM nowcasting): Moving MNIST, radar events, frame arrays; MSE, SSIM, CSI."""

    name = "forecast"
    title = "forecasting"

    def add_parsers(self, sub: Any, after: str) -> None:
        from seqvision.tasks.forecast.cli import add_parsers

        add_parsers(sub, after)

    @property
    def predictor(self) -> type[Predictor]:
        from seqvision.tasks.forecast.predictor import Forecaster

        return Forecaster

    def read(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int:
        raise ConfigError(f"{model} is a forecasting model: use `seqvision forecast MODEL DATA --out FILE`")

    def evaluate(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int:
        from seqvision.tasks.forecast.cli import evaluate

        return evaluate(args, model, inputs)

    def export(self, args: argparse.Namespace, model: str, out: Path) -> int:
        from seqvision.tasks.forecast.onnx import export_forecaster

        if args.int8:
            raise ConfigError("--int8 quantises LSTM and linear layers; a ConvLSTM forecaster has none")
        meta = export_forecaster(model, out)
        inp = meta["input"]
        print(f"{out}  (fp32, {out.stat().st_size / 1e6:.1f} MB, {inp['frames_in']} -> {inp['frames_out']} frames)")
        return 0

    default_preset = "convlstm-small"
    monitor, mode = "val_loss", "min"
    metric_names = ("val_mse_frame", "val_persist_mse_frame")
    model_input = "frames"

    def prepare(self, cfg: ExperimentConfig, out: Path, resume: bool, log: Path | None) -> Prepared:
        from torch.utils.data import DataLoader

        from seqvision.data.batches import RandomBatches
        from seqvision.tasks.forecast.data import load
        from seqvision.tasks.forecast.model import build_forecaster
        from seqvision.tasks.forecast.module import ForecastModule

        self.check_model(cfg)
        fc = cfg.data.forecast
        data = load(cfg)
        model = build_forecaster(cfg.model, fc.frames_out)
        loader = lambda ds, shuffle: DataLoader(  # noqa: E731
            ds,
            batch_sampler=RandomBatches(len(ds), cfg.data.batch_size, shuffle=shuffle, seed=cfg.train.seed),
            num_workers=cfg.data.num_workers,
            persistent_workers=cfg.data.num_workers > 0,
        )
        train, val = loader(data.train, True), loader(data.val, False)
        params = sum(p.numel() for p in model.parameters())
        metadata = saved_metadata(
            self.name,
            cfg,
            params,
            input=input_metadata(cfg, data),
        )
        counts = dict(data.counts)
        summary = (
            f"seqvision: {cfg.model.preset} (patch {cfg.model.encoder.patch} -> {cfg.model.sequence.name} "
            f"encoder-forecaster, {cfg.model.sequence.layers}x{cfg.model.sequence.hidden}), {params / 1e6:.2f} M "
            f"parameters, {data.kind}: {len(data.train)} train / {len(data.val)} val windows of "  # type: ignore[arg-type]
            f"{fc.frames_in} -> {fc.frames_out} frames at {cfg.model.height} px -> {out}"
        )
        module = ForecastModule(model, data.normalisation, data.threshold, cfg.train, cfg.train.epochs * len(train))
        return Prepared(model, module, train, val, metadata, counts, summary)  # type: ignore[arg-type]

    def describe(self, metrics: dict[str, float]) -> str:
        nan = float("nan")
        text = (
            f"val MSE/frame {metrics.get('val_mse_frame', nan):.2f} "
            f"(persistence {metrics.get('val_persist_mse_frame', nan):.2f})"
        )
        if "val_csi" in metrics:
            text += f", CSI {metrics['val_csi']:.3f} (persistence {metrics.get('val_persist_csi', nan):.3f})"
        return text


def input_metadata(cfg: ExperimentConfig, data: ForecastData) -> dict[str, Any]:
    """What a saved model needs to read new data: size, frames, normalisation, units, window choice."""
    fc = cfg.data.forecast
    return {
        "kind": data.kind,
        "height": cfg.model.height,
        "width": cfg.model.height,
        "channels": cfg.model.in_channels,
        "frames_in": fc.frames_in,
        "frames_out": fc.frames_out,
        "interval_min": data.interval_min,
        "normalisation": data.normalisation.to_dict(),
        "units": data.normalisation.units,
        "threshold": data.threshold,
        "stride": fc.stride,
        "rain_fraction": fc.rain_fraction,
        "downsample": fc.downsample,
    }
