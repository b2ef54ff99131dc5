"""Forecast handlers: ``eval`` when the model is a forecaster (per-lead-time table vs persistence), and ``forecast``.

``seqvision forecast MODEL DATA --out FILE`` writes a ``.png`` strip or ``.gif`` animation of one
window (input / truth / prediction), or a ``.npy`` of every window's predicted frames in the
data's units. DATA is what ``eval`` takes, or plain past frames: an array whose sequences are
shorter than ``frames_in + frames_out`` is forecast from its last ``frames_in`` frames, with no truth.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqvision.cli.common import set_threads
from seqvision.errors import ConfigError, DataError

if TYPE_CHECKING:  # torch and numpy are imported when a forecast runs, not for `seqvision --help`
    import numpy as np
    import torch


def evaluate(args: argparse.Namespace, model_path: str, inputs: list[str]) -> int:
    from seqvision.tasks.forecast.data import eval_set
    from seqvision.tasks.forecast.evaluate import evaluate as score
    from seqvision.tasks.forecast.evaluate import load_forecaster, table

    set_threads(args.threads)
    model, meta = load_forecaster(model_path)
    for spec in inputs:
        result = score(model, meta, eval_set(spec, meta), batch_size=args.batch_size)
        if args.json:
            print(json.dumps({"data": spec, **result}))
            continue
        units = result["units"]
        print(f"{spec}: {result['windows']} windows, {units}; model vs persistence (repeat the last input frame)")
        print(table(result))
    return 0


def forecast(args: argparse.Namespace) -> int:
    import torch

    from seqvision.tasks.forecast.evaluate import load_forecaster

    set_threads(args.threads)
    model, meta = load_forecaster(args.model)
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".gif", ".npy"):
        raise ConfigError(f"{out}: --out is a .png strip, a .gif animation or a .npy of predictions")
    inputs, truth, mask = _windows(args.data, meta)
    if out.suffix.lower() == ".npy":
        preds = [_predict(model, inputs[i : i + args.batch_size]) for i in range(0, len(inputs), args.batch_size)]
        values = _to_units(torch.cat(preds), meta)[:, :, 0].numpy()  # (N, T_out, H, W)
        _save_npy(out, values)
        print(f"{out}  ({len(values)} windows x {values.shape[1]} frames, {meta['input']['units'] or 'model units'})")
        return 0
    if not 0 <= args.index < len(inputs):
        raise ConfigError(f"--index {args.index}: {args.data} has windows 0 to {len(inputs) - 1}")
    pred = _predict(model, inputs[args.index : args.index + 1])[0]
    _draw(out, meta, inputs[args.index], truth[args.index] if truth is not None else None, pred, mask, args.index)
    print(out)
    return 0


def _windows(spec: str, meta: dict) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """(inputs, truth or None, mask or None) of every window of ``spec``, normalised."""
    import numpy as np
    import torch

    from seqvision.tasks.forecast.arrays import read_frames
    from seqvision.tasks.forecast.data import eval_set
    from seqvision.tasks.forecast.normalise import Normalisation

    inp = meta["input"]
    need = inp["frames_in"] + inp["frames_out"]
    path = Path(spec)
    if path.suffix in (".npy", ".npz") and inp.get("kind") != "radar" and path.is_file():
        array = read_frames(path, inp["frames_in"])
        if array.shape[1] < need:  # past frames only: forecast beyond their end
            if array.shape[2:] != (inp["height"], inp["width"]):
                raise DataError(f"{path}: frames are {array.shape[2:]}, the model reads {inp['height']}x{inp['width']}")
            norm = Normalisation.from_dict(inp["normalisation"])
            past = torch.from_numpy(norm.forward(array[:, -inp["frames_in"] :].astype(np.float32)))
            return past.unsqueeze(2), None, None  # (N, T_in, 1, H, W)
    data = eval_set(spec, meta)
    items = [data[i] for i in range(len(data))]  # type: ignore[arg-type]
    stack = lambda key: torch.stack([it[key] for it in items])  # noqa: E731
    return stack("inputs"), stack("targets"), stack("mask")


def _predict(model: torch.nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    import torch

    with torch.no_grad():
        return model(inputs)


def _to_units(x: torch.Tensor, meta: dict) -> torch.Tensor:
    from seqvision.tasks.forecast.normalise import Normalisation

    return Normalisation.from_dict(meta["input"]["normalisation"]).inverse(x)


def _draw(out: Path, meta: dict, inputs, truth, pred, mask, index: int) -> None:
    import numpy as np
    import torch

    from seqvision.tasks.forecast import render
    from seqvision.tasks.forecast.normalise import Normalisation

    norm = Normalisation.from_dict(meta["input"]["normalisation"])
    vmax = float(norm.forward(np.float32(30.0))) if norm.transform == "log1p" else 1.0  # rain: up to 30 mm/h
    future = (truth if truth is not None else torch.zeros_like(pred))[:, 0].numpy()
    predicted = pred[:, 0].numpy()
    if mask is not None:
        predicted = predicted * mask[index][:, 0].numpy()
    render.save(out, inputs[:, 0].numpy(), future, predicted, vmax=vmax)


def _save_npy(path: Path, values: np.ndarray) -> None:
    import numpy as np

    from seqvision.io import atomic_write_bytes

    buf = io.BytesIO()
    np.save(buf, values.astype(np.float32), allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())


def add_parsers(sub: Any, after: str) -> None:
    """``seqvision forecast``, listed after ``read``."""
    if after != "read":
        return
    p = sub.add_parser("forecast", help="forecasting models: draw a forecast (.png strip, .gif) or save them (.npy)")
    p.add_argument("model", help="forecasting model (.safetensors or run folder)")
    p.add_argument(
        "data",
        help="moving-mnist:mnist.npz (its test set), radar .npz events, or .npy/.npz frames (N, T, H, W) or (T, H, W); "
        "sequences shorter than frames_in + frames_out are forecast beyond their end",
    )
    p.add_argument("--out", required=True, help=".png strip or .gif of one window, or .npy of every window's forecast")
    p.add_argument("--index", type=int, default=0, help="which window to draw (default 0)")
    p.add_argument("--batch-size", type=int, default=16, help="windows per batch (default 16)")
    p.add_argument("--threads", type=int, default=0, help="compute threads (default: all cores)")
    p.set_defaults(func=forecast)
