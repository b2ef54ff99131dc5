"""ONNX export of a forecaster: ``frames (B, T_in, C, H, W)`` -> ``forecast (B, T_out, C, H, W)``, parity-checked.

The recurrences are unrolled over the fixed ``frames_in`` and ``frames_out`` of the model; the
batch size is dynamic. Parity is checked by onnxruntime on a batch size that was not traced.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqvision.export.onnx import OPSET, TOLERANCE, with_metadata
from seqvision.export.runtime import ExportError, quiet_stderr, require_onnx, session
from seqvision.io import atomic_write_bytes
from seqvision.tasks.forecast.model import ForecastModel


def _example(meta: dict[str, Any], batch: int, seed: int) -> torch.Tensor:
    inp = meta["input"]
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(batch, inp["frames_in"], inp["channels"], inp["height"], inp["width"], generator=gen)


def forecaster_to_onnx(model: ForecastModel, meta: dict[str, Any]) -> bytes:
    """ONNX bytes of ``model`` with ``meta`` embedded; raises :class:`ExportError` when onnxruntime disagrees."""
    require_onnx()
    model = model.eval()
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), quiet_stderr():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                (_example(meta, 2, 0),),
                buffer,  # type: ignore[arg-type]
                dynamo=False,
                input_names=["frames"],
                output_names=["forecast"],
                dynamic_axes={"frames": {0: "batch"}, "forecast": {0: "batch"}},
                opset_version=OPSET,
            )
    except Exception as exc:  # the exporter raises many types
        raise ExportError(f"cannot export the forecaster: {str(exc).splitlines()[0]}") from None
    data = buffer.getvalue()
    frames = _example(meta, 3, 1)
    got = session(data).run(None, {"frames": frames.numpy()})[0]
    with torch.no_grad():
        expected = model(frames).numpy()
    diff = float(np.abs(got - expected).max()) if got.shape == expected.shape else float("inf")
    if diff > TOLERANCE:
        raise ExportError(f"cannot export the forecaster: onnxruntime differs from PyTorch by {diff:.2g}")
    return with_metadata(data, {**meta, "onnx": {"opset": OPSET, "inputs": ["frames"], "outputs": ["forecast"]}})


def export_forecaster(name_or_path: str | Path, out: str | Path) -> dict[str, Any]:
    """Export a saved forecaster to ``out`` (atomically); returns its metadata."""
    from seqvision.tasks.forecast.evaluate import load_forecaster

    model, meta = load_forecaster(name_or_path)
    atomic_write_bytes(out, forecaster_to_onnx(model, meta))
    return meta
