"""Inference for forecasting models: past frames in the data's units -> predicted frames in the same units.

>>> fc = Forecaster.load("runs/mm")                                   # doctest: +SKIP
>>> fc.predict([past])[0].shape           # past: (T_in, H, W) or (T_in, C, H, W)   # doctest: +SKIP
(10, 1, 64, 64)

Eager PyTorch (``torch``), onnxruntime (``onnx``) or OpenVINO (``openvino``) run the same network, the
last two from an ``.onnx`` file of ``seqvision export`` or exported on the fly (parity-checked).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from seqvision.errors import DataError
from seqvision.tasks.forecast.model import ForecastModel
from seqvision.tasks.forecast.normalise import Normalisation
from seqvision.tasks.predictor import EXPORTED, check_backend, open_onnx


@dataclass
class Forecaster:
    """A forecasting model (task ``forecast``) ready to continue sequences of frames."""

    task: ClassVar[str] = "forecast"
    model: ForecastModel | None
    metadata: dict[str, Any]
    path: Path | None = None
    session: Any = None  # an onnxruntime InferenceSession (backend onnx) or an OpenVinoSession (openvino)

    @classmethod
    def load(cls, name_or_path: str | Path, backend: str | None = "torch", threads: int = 0) -> Forecaster:
        """A ``.safetensors`` file or run folder of a forecaster, or its exported ``.onnx`` file."""
        from seqvision.export.runtime import session
        from seqvision.tasks.forecast.evaluate import load_forecaster
        from seqvision.tasks.forecast.onnx import forecaster_to_onnx

        threads = check_backend(backend, threads)
        if str(name_or_path).endswith(".onnx"):
            meta, path, onnx_session = open_onnx(name_or_path, threads, "forecast", backend)
            return cls(None, meta, path, onnx_session)
        model, meta = load_forecaster(name_or_path)
        onnx = session(forecaster_to_onnx(model, meta), threads, backend or "onnx") if backend in EXPORTED else None
        return cls(model, meta, Path(name_or_path), onnx)

    @property
    def normalisation(self) -> Normalisation:
        return Normalisation.from_dict(self.metadata["input"]["normalisation"])

    def run(self, frames: np.ndarray) -> np.ndarray:
        """Normalised ``(B, T_in, C, H, W)`` -> normalised ``(B, T_out, C, H, W)``."""
        if self.session is not None:
            return self.session.run(None, {"frames": frames})[0]
        assert self.model is not None
        with torch.inference_mode():
            return self.model(torch.from_numpy(frames)).numpy()

    def predict(self, inputs: list[np.ndarray], batch_size: int = 16) -> list[np.ndarray]:
        """The next ``frames_out`` frames after each input's last ``frames_in``, in the data's units.

        Each input is ``(T, H, W)`` or ``(T, C, H, W)`` with at least ``frames_in`` frames; each result
        is ``(T_out, C, H, W)``.
        """
        inp = self.metadata["input"]
        t_in, shape = int(inp["frames_in"]), (int(inp["channels"]), int(inp["height"]), int(inp["width"]))
        norm, windows = self.normalisation, []
        for i, frames in enumerate(inputs):
            frames = np.asarray(frames, dtype=np.float32)
            frames = frames[:, None] if frames.ndim == 3 else frames  # (T, H, W) -> (T, 1, H, W)
            if frames.ndim != 4 or frames.shape[1:] != shape or len(frames) < t_in:
                raise DataError(
                    f"input {i}: frames of shape {frames.shape}; the model reads at least {t_in} frames of {shape}"
                )
            windows.append(norm.forward(frames[-t_in:]))
        out: list[np.ndarray] = []
        for start in range(0, len(windows), max(1, batch_size)):
            pred = self.run(np.stack(windows[start : start + batch_size]))  # (B, T_out, C, H, W)
            out += [norm.inverse(p) for p in pred]
        return out

    def to_json(self, record: np.ndarray) -> dict[str, Any]:
        """The predicted frames as nested lists, with their units."""
        return {"units": self.normalisation.units, "frames": np.asarray(record, dtype=float).round(4).tolist()}
