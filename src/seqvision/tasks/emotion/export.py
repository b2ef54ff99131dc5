"""ONNX export of an emotion model: the inputs of its streams -> ``logits (B, K)`` and ``stream_logits (B, S, K)``.

A video stream reads ``clips (B, T, 3, S, S)`` + ``lengths (B,)``, an audio stream ``audio (B, T_a, bands)``
(normalised log-mel) + ``audio_lengths (B,)``; batch, frames and audio frames are dynamic. Every export
is checked: onnxruntime must match eager PyTorch on a batch size and lengths that were not traced.
"""

from __future__ import annotations

import io
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from seqvision.export.onnx import OPSET, TOLERANCE, save_export, with_metadata
from seqvision.export.runtime import ExportError, quiet_stderr, require_onnx, session
from seqvision.tasks.emotion.model import EmotionModel

NAMES = {"video": ("clips", "lengths"), "audio": ("audio", "audio_lengths")}
AXES = {"clips": {0: "batch", 1: "time"}, "lengths": {0: "batch"}, "audio": {0: "batch", 1: "audio_time"}}
AXES |= {"audio_lengths": {0: "batch"}, "logits": {0: "batch"}, "stream_logits": {0: "batch"}}


def input_names(model: EmotionModel) -> list[str]:
    return [name for stream in model.streams for name in NAMES[stream]]


class _Streams(nn.Module):
    """The model with only its own streams' inputs (an unused input would not survive the export)."""

    def __init__(self, model: EmotionModel):
        super().__init__()
        self.model = model

    def forward(self, *tensors: Tensor) -> tuple[Tensor, Tensor]:
        given = dict(zip(input_names(self.model), tensors, strict=True))
        empty, none = tensors[0].new_zeros(0), tensors[1].new_zeros(0)
        return self.model(
            given.get("clips", empty),
            given.get("lengths", none),
            given.get("audio", empty),
            given.get("audio_lengths", none),
        )


def example(model: EmotionModel, meta: dict[str, Any], frames: list[int], seed: int) -> dict[str, Tensor]:
    """Random inputs of ``model``'s streams: ``frames[i]`` frames and ``10 x frames[i]`` audio frames per clip."""
    gen = torch.Generator().manual_seed(seed)
    inp, out = meta["input"], {}
    size, bands, b = int(inp["height"]), int(inp["audio"]["bands"]), len(frames)
    if "video" in model.streams:
        out["clips"] = torch.rand(b, max(frames), 3, size, size, generator=gen)
        out["lengths"] = torch.tensor(frames, dtype=torch.int64)
    if "audio" in model.streams:
        out["audio"] = torch.rand(b, 10 * max(frames), bands, generator=gen) * 2 - 1
        out["audio_lengths"] = torch.tensor([10 * n for n in frames], dtype=torch.int64)
    for name, lengths in (("clips", "lengths"), ("audio", "audio_lengths")):
        if name in out:
            for i, n in enumerate(out[lengths].tolist()):
                out[name][i, n:] = 0  # padding is zeros, as the collate function makes it
    return out


def emotion_to_onnx(model: EmotionModel, meta: dict[str, Any]) -> bytes:
    """ONNX bytes of ``model`` with ``meta`` embedded; :class:`ExportError` when onnxruntime disagrees with eager."""
    require_onnx()
    model = model.eval()
    names = input_names(model)
    traced = example(model, meta, [6, 4], 0)
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), quiet_stderr():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Streams(model).eval(),  # eval, or the export leaves the model in train mode
                tuple(traced[n] for n in names),
                buffer,  # type: ignore[arg-type]
                dynamo=False,
                input_names=names,
                output_names=["logits", "stream_logits"],
                dynamic_axes={k: v for k, v in AXES.items() if k in [*names, "logits", "stream_logits"]},
                opset_version=OPSET,
            )
    except Exception as exc:  # the exporter raises many types
        raise ExportError(f"cannot export the emotion model: {str(exc).splitlines()[0]}") from None
    data = buffer.getvalue()
    diff = parity(model, meta, data)
    if diff > TOLERANCE:
        raise ExportError(f"cannot export the emotion model: onnxruntime differs from PyTorch by {diff:.2g}")
    return with_metadata(data, {**meta, "onnx": {"opset": OPSET, "inputs": names}})


def parity(model: EmotionModel, meta: dict[str, Any], data: bytes) -> float:
    """Max |difference| of both outputs between onnxruntime and eager on a batch and lengths not traced."""
    inputs = example(model, meta, [9, 3, 7], seed=1)
    try:
        got = session(data).run(None, {k: v.numpy() for k, v in inputs.items()})
    except Exception as exc:
        raise ExportError(
            f"cannot export the emotion model: fails at untraced lengths ({str(exc).splitlines()[0]})"
        ) from None
    with torch.no_grad():
        expected = _Streams(model.eval())(*inputs.values())
    diffs = [
        float(np.abs(g - e.numpy()).max()) if g.shape == tuple(e.shape) else float("inf")
        for g, e in zip(got, expected, strict=True)
    ]
    return max(diffs)


def export_emotion(name_or_path: str, out: Path, int8: bool) -> int:
    """``seqvision export`` of an emotion model."""
    from seqvision.tasks.emotion.predictor import load_emotion

    start = time.perf_counter()
    model, meta, _ = load_emotion(name_or_path)
    metadata = {**meta, "onnx": {"opset": OPSET, "int8": int8, "inputs": input_names(model)}}
    return save_export(emotion_to_onnx(model, meta), out, metadata, int8, start)
