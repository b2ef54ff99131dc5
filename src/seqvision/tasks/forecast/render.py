"""Pictures of a forecast: a PNG strip (rows input / truth / prediction) or an animated GIF of the same.

Values are drawn in the data's units through a fixed range (``vmax``), so frames compare by
eye; radar rain (mm/h) is drawn on a log scale through the model's normalisation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from seqvision.errors import ConfigError
from seqvision.io import atomic_write_bytes

GAP = 2


def _grey(frames: np.ndarray, vmax: float) -> list[Image.Image]:
    """``(T, H, W)`` normalised values -> 8-bit images (0 black, ``vmax`` and above white)."""
    scaled = np.clip(frames / max(vmax, 1e-6), 0, 1) * 255
    return [Image.fromarray(f.astype(np.uint8), "L") for f in scaled]


def strip(inputs: np.ndarray, truth: np.ndarray, pred: np.ndarray, vmax: float = 1.0, scale: int = 2) -> Image.Image:
    """Three rows of ``(T, H, W)`` frames: inputs, then truth and prediction under the future frames."""
    t_in, t_out = len(inputs), len(truth)
    h, w = inputs.shape[-2:]
    label = 44
    cols = t_in + t_out
    canvas = Image.new("L", (label + cols * (w + GAP), 3 * (h + GAP)), 96)
    draw = ImageDraw.Draw(canvas)
    for row, (name, frames, start) in enumerate((("input", inputs, 0), ("truth", truth, t_in), ("model", pred, t_in))):
        draw.text((2, row * (h + GAP) + h // 2 - 5), name, fill=255)
        for k, img in enumerate(_grey(frames, vmax)):
            canvas.paste(img, (label + (start + k) * (w + GAP), row * (h + GAP)))
    return canvas.resize((canvas.width * scale, canvas.height * scale), Image.Resampling.NEAREST)


def gif_frames(inputs: np.ndarray, truth: np.ndarray, pred: np.ndarray, vmax: float = 1.0) -> list[Image.Image]:
    """Side by side, truth | prediction, over time (the prediction panel repeats the inputs until it starts)."""
    h, w = inputs.shape[-2:]
    frames = []
    for k in range(len(inputs) + len(truth)):
        observed = inputs[k] if k < len(inputs) else truth[k - len(inputs)]
        predicted = inputs[k] if k < len(inputs) else pred[k - len(inputs)]
        canvas = Image.new("L", (2 * w + GAP, h), 96)
        canvas.paste(_grey(observed[None], vmax)[0], (0, 0))
        canvas.paste(_grey(predicted[None], vmax)[0], (w + GAP, 0))
        frames.append(canvas.resize((canvas.width * 3, canvas.height * 3), Image.Resampling.NEAREST))
    return frames


def save(path: str | Path, inputs: np.ndarray, truth: np.ndarray, pred: np.ndarray, vmax: float = 1.0) -> Path:
    """Write a ``.png`` strip or an animated ``.gif`` (by the suffix), atomically."""
    import io

    path = Path(path)
    buf = io.BytesIO()
    if path.suffix.lower() == ".png":
        strip(inputs, truth, pred, vmax).save(buf, format="PNG")
    elif path.suffix.lower() == ".gif":
        first, *rest = gif_frames(inputs, truth, pred, vmax)
        first.save(buf, format="GIF", save_all=True, append_images=rest, duration=250, loop=0)
    else:
        raise ConfigError(f"{path}: write a .png strip or a .gif animation")
    atomic_write_bytes(path, buf.getvalue())
    return path
