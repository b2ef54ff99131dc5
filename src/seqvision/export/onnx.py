"""ONNX export: a saved model -> one self-contained ``.onnx`` file, optionally int8.

The graph takes ``images`` ``(B, 1, H, W)`` float32 and ``widths`` ``(B,)`` int64 (the true widths
before padding) and returns ``log_probs`` ``(B, T, K)`` and ``lengths`` ``(B,)``; batch and width
are dynamic. A video model takes ``clips`` ``(B, T, 3, S, S)`` and ``lengths`` ``(B,)`` (frames per
clip) and returns ``logits`` ``(B, K)``; batch and frame count are dynamic. The model's JSON
metadata (alphabet or labels, input size, normalisation, metrics) is stored in the file's
``metadata_props`` under ``seqvision``, so the ``.onnx`` file alone can be read.

Every export is checked: onnxruntime must match eager PyTorch on a batch of widths that were not
traced, otherwise the export fails naming the part of the model responsible.
"""

from __future__ import annotations

import io
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from seqvision.export.runtime import METADATA_KEY, ExportError, quiet_stderr, read_metadata, require_onnx, session
from seqvision.io import atomic_write_bytes
from seqvision.nn.encoders.frames import FrameEncoder
from seqvision.nn.model import SeqModel

__all__ = [
    "ExportError",
    "check_clip_parity",
    "check_parity",
    "clip_to_onnx",
    "quantize_int8",
    "read_metadata",
    "save_export",
    "to_onnx",
]

OPSET = 17
TOLERANCE = 1e-3  # max |log-prob difference| between onnxruntime fp32 and eager on real steps


def _example(height: int, widths: list[int], channels: int = 1, seed: int = 0) -> tuple[Tensor, Tensor]:
    gen = torch.Generator().manual_seed(seed)
    images = torch.zeros(len(widths), channels, height, max(widths))
    for i, w in enumerate(widths):
        images[i, :, :, :w] = torch.rand(channels, height, w, generator=gen)
    return images, torch.tensor(widths, dtype=torch.int64)


def _trace_widths(model: SeqModel) -> list[int]:
    stride = model.encoder.time_stride
    return [16 * stride, 11 * stride]


def _export_bytes(module: nn.Module, args: tuple[Tensor, ...], names: list[str], outputs: list[str]) -> bytes:
    dynamic = {name: {0: "batch", **({3: "width"} if name == "images" else {})} for name in names}
    dynamic |= {"feats": {0: "batch", 1: "time"}, "out": {0: "batch", 1: "time"}, "log_probs": {0: "batch", 1: "time"}}
    dynamic |= {"lengths": {0: "batch"}, "out_lengths": {0: "batch"}}
    dynamic |= {"clips": {0: "batch", 1: "time"}, "logits": {0: "batch"}, "features": {0: "batch", 1: "time"}}
    buffer = io.BytesIO()
    with warnings.catch_warnings(), quiet_stderr():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            args,
            buffer,  # type: ignore[arg-type]  # a file-like object works and keeps the export in memory
            dynamo=False,
            input_names=names,
            output_names=outputs,
            dynamic_axes={k: v for k, v in dynamic.items() if k in names + outputs},
            opset_version=OPSET,
        )
    return buffer.getvalue()


def _part_mismatch(model: SeqModel, height: int) -> str:
    """Which part fails on its own: each is exported at the traced width and run at twice it."""
    channels = model.encoder.in_channels
    images, widths = _example(height, _trace_widths(model), channels)
    longer_images, longer_widths = _example(height, [2 * w for w in widths.tolist()], channels, seed=3)
    with torch.no_grad():
        feats, lengths = model.encoder(images, widths)
        seq = model.sequence(feats, lengths)
    parts = [
        ("encoder", model.encoder, (images, widths), ["images", "widths"], (longer_images, longer_widths)),
        (
            "sequence",
            model.sequence,
            (feats, lengths),
            ["feats", "lengths"],
            (torch.cat([feats, feats], 1), 2 * lengths),
        ),
        ("head", model.head, (seq, lengths), ["feats", "lengths"], (torch.cat([seq, seq], 1), 2 * lengths)),
    ]
    for part, module, args, names, longer in parts:
        label = f"{part} '{model.parts.get(part, type(module).__name__)}'"
        outputs = ["feats", "out_lengths"] if part == "encoder" else ["out"]
        try:
            data = _export_bytes(module, args, names, outputs)
            got = session(data).run(None, dict(zip(names, (a.numpy() for a in longer), strict=True)))[0]
        except Exception as exc:  # any failure names the part
            return f"{label} fails: {str(exc).splitlines()[0][:200]}"
        with torch.no_grad():
            expected = module(*longer)
        expected = expected[0] if isinstance(expected, tuple) else expected
        if got.shape != tuple(expected.shape):
            return f"{label} keeps the traced sequence length"
        if float(np.abs(got - expected.numpy()).max()) > TOLERANCE:
            return f"{label} gives other values at an untraced width (shape-dependent Python code?)"
    return "each part exports alone; their composition does not"


def to_onnx(model: SeqModel, height: int, metadata: dict[str, Any] | None = None) -> bytes:
    """Export ``model`` (eval mode) to ONNX bytes, checked against eager on untraced widths.

    Raises:
        ExportError: naming the part that cannot be exported, or how far outputs differ.
    """
    require_onnx()  # a clear error before any tracing when onnx is missing
    model = model.eval()
    name = "/".join(model.parts.values()) or type(model).__name__
    try:
        data = _export_bytes(
            model,
            _example(height, _trace_widths(model), model.encoder.in_channels),
            ["images", "widths"],
            ["log_probs", "lengths"],
        )
    except Exception as exc:  # the exporter raises many types
        raise ExportError(
            f"cannot export {name}: {_part_mismatch(model, height)} ({str(exc).splitlines()[0]})"
        ) from None
    check_parity(model, data, height, name)
    return with_metadata(data, metadata)


def with_metadata(data: bytes, metadata: dict[str, Any] | None) -> bytes:
    """The ONNX model ``data`` with our metadata JSON in its ``metadata_props`` (unchanged when None)."""
    if metadata is None:
        return data
    proto = require_onnx().load_from_string(data)
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata, ensure_ascii=False)
    return proto.SerializeToString()


def check_parity(model: SeqModel, data: bytes, height: int, name: str, tolerance: float = TOLERANCE) -> float:
    """Max |difference| of log-probabilities between onnxruntime and eager on widths not traced."""
    stride = model.encoder.time_stride
    widths_ = [9 * stride + 1, 37 * stride + 3, 23 * stride]
    images, widths = _example(height, widths_, model.encoder.in_channels, seed=1)
    try:
        got, got_lengths = session(data).run(None, {"images": images.numpy(), "widths": widths.numpy()})
    except Exception as exc:
        raise ExportError(f"cannot export {name}: {_part_mismatch(model, height)} (fails at untraced widths)") from exc
    with torch.no_grad():
        expected, lengths = model(images, widths)
    if got_lengths.tolist() != lengths.tolist():
        raise ExportError(f"cannot export {name}: {_part_mismatch(model, height)} (other output lengths)")
    diff = max(float(np.abs(got[i, :n] - expected[i, :n].numpy()).max()) for i, n in enumerate(lengths.tolist()))
    if diff > tolerance:
        part = _part_mismatch(model, height)
        raise ExportError(
            f"cannot export {name}: {part}; onnxruntime differs from PyTorch by {diff:.2g} (> {tolerance})"
        )
    return diff


def _clip_example(model: SeqModel, frames: list[int], seed: int) -> tuple[Tensor, Tensor]:
    """Random clips with ``frames`` valid frames each, zero-padded to the longest."""
    gen = torch.Generator().manual_seed(seed)
    assert isinstance(model.encoder, FrameEncoder), "not a clip model"
    size = model.encoder.size
    clips = torch.zeros(len(frames), max(frames), model.encoder.in_channels, size, size)
    for i, n in enumerate(frames):
        clips[i, :n] = torch.rand(n, model.encoder.in_channels, size, size, generator=gen)
    return clips, torch.tensor(frames, dtype=torch.int64)


def clip_to_onnx(model: SeqModel, metadata: dict[str, Any] | None = None, output: str = "logits") -> bytes:
    """Export a clip model (eval mode) to ONNX bytes, checked against eager on untraced clip lengths.

    ``output`` names the result: ``logits`` ``(B, K)`` of a classifier, or ``features`` ``(B, T, K)`` of a
    per-frame regression head (the sound task), whose time axis is dynamic too.

    Raises:
        ExportError: when it cannot be exported or onnxruntime disagrees with PyTorch.
    """
    require_onnx()  # a clear error before any tracing when onnx is missing
    model = model.eval()
    name = "/".join(model.parts.values()) or type(model).__name__
    try:
        data = _export_bytes(model, _clip_example(model, [6, 4], 0), ["clips", "lengths"], [output, "out_lengths"])
    except Exception as exc:  # the exporter raises many types
        raise ExportError(f"cannot export {name}: {str(exc).splitlines()[0]}") from None
    check_clip_parity(model, data, name)
    return with_metadata(data, metadata)


def check_clip_parity(model: SeqModel, data: bytes, name: str, tolerance: float = TOLERANCE) -> float:
    """Max |difference| of logits between onnxruntime and eager on a batch size and clip lengths not traced."""
    clips, lengths = _clip_example(model, [9, 3, 7], seed=1)
    try:
        got = session(data).run(None, {"clips": clips.numpy(), "lengths": lengths.numpy()})[0]
    except Exception as exc:
        raise ExportError(
            f"cannot export {name}: fails at untraced clip lengths ({str(exc).splitlines()[0]})"
        ) from None
    with torch.no_grad():
        expected, _ = model(clips, lengths)
    diff = float(np.abs(got - expected.numpy()).max()) if got.shape == tuple(expected.shape) else float("inf")
    if diff > tolerance:
        raise ExportError(f"cannot export {name}: onnxruntime differs from PyTorch by {diff:.2g} (> {tolerance})")
    return diff


def quantize_int8(data: bytes) -> bytes:
    """Dynamic int8 quantisation of the LSTM, MatMul and Gemm weights; convolutions stay fp32
    (dynamic int8 convolutions run 5-6x slower than fp32 in onnxruntime on this kind of CPU)."""
    require_onnx()
    import tempfile

    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="seqvision-int8-") as tmp:
        src, dst = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        src.write_bytes(data)
        with warnings.catch_warnings(), quiet_stderr():
            warnings.simplefilter("ignore")
            quantize_dynamic(src, dst, op_types_to_quantize=["LSTM", "MatMul", "Gemm"], weight_type=QuantType.QInt8)
        return dst.read_bytes()


def save_export(data: bytes, out: Path, metadata: dict[str, Any], int8: bool, start: float) -> int:
    """Quantise (``int8``) and write ``data`` to ``out`` atomically; print the one line ``export`` ends with."""
    if int8:
        data = quantize_int8(data)
    atomic_write_bytes(out, data)
    kind = "int8 (LSTM/MatMul/Gemm weights)" if int8 else "fp32"
    size = out.stat().st_size / 1e6
    if "sound" in metadata:  # per-frame sound features
        classes = f"{metadata['sound']['bands']} mel bands x {metadata['sound']['steps']} per frame"
    elif "labels" in metadata:
        classes = f"{len(metadata['labels'])} classes"
    elif "alphabet" in metadata:
        classes = f"{len(metadata['alphabet'])} characters"
    else:  # an embedding model (gait): its width
        classes = f"{metadata['architecture']['head']['embedding']}-d embedding"
    print(f"{out}  ({kind}, {size:.1f} MB, {classes}, {time.perf_counter() - start:.1f} s)")
    return 0


def export_clip_model(predictor: Any, model: str, out: Path, int8: bool, output: str = "logits") -> int:
    """``seqvision export`` of a per-frame clip model (video, gait, sound): ``predictor`` is the task's loader class,
    ``output`` the name of the result (:func:`clip_to_onnx`)."""
    start = time.perf_counter()
    loaded = predictor.load(model)
    if loaded.model is None:
        raise ExportError(f"{model}: already an ONNX model")
    metadata = {**loaded.metadata, "onnx": {"opset": OPSET, "int8": int8, "inputs": ["clips", "lengths"]}}
    return save_export(clip_to_onnx(loaded.model, metadata, output), out, metadata, int8, start)
