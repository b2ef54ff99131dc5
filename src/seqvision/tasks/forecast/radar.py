"""Weather-radar events (pysteps example data: KNMI, FMI, BoM) decoded to rain rate in mm/h with a validity mask.

Each ``.npz`` holds ``pv`` (T, H, W) raw values and ``times``; the provider is named by the file
name's prefix (``knmi_``, ``fmi_``, ``bom_``) and ``meta.json`` beside the files (when present)
gives the interval between frames:

- KNMI: ``0.01 * pv`` mm per 5 min (x12 -> mm/h); 65535 = outside the radar domain;
- FMI: reflectivity ``dBZ = 0.5 * pv - 32``; rain rate by Marshall-Palmer ``Z = 200 R^1.6``; 255 = no data;
- BoM: ``0.05 * pv`` mm per 6 min (x10 -> mm/h); -1 (any negative) = fill / no data.

Missing pixels are kept in a mask so the loss and the metrics leave them out. :func:`downsample`
brings events to a coarser common grid (block means; a block is valid only if all its pixels are).

>>> rain, valid = decode(np.array([[[100, 65535]]], np.uint16), "knmi", interval_min=5)
>>> rain.tolist(), valid.tolist()
([[[12.0, 0.0]]], [[[True, False]]])
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqvision.errors import DataError
from seqvision.io import load_npz

PROVIDERS = {"knmi": 5, "fmi": 5, "bom": 6}  # provider -> default minutes between frames


@dataclass
class RadarEvent:
    name: str
    rain: np.ndarray  # (T, H, W) float32 mm/h, 0 where missing
    valid: np.ndarray  # (T, H, W) bool
    interval_min: float


def marshall_palmer(dbz: np.ndarray) -> np.ndarray:
    """Rain rate (mm/h) from reflectivity (dBZ) by ``Z = 200 R^1.6``."""
    return ((10.0 ** (dbz / 10.0)) / 200.0) ** (1 / 1.6)


def decode(pv: np.ndarray, provider: str, interval_min: float) -> tuple[np.ndarray, np.ndarray]:
    """Raw values -> (rain rate in mm/h, valid mask), both ``pv``'s shape."""
    per_hour = 60.0 / interval_min
    valid: np.ndarray
    if provider == "knmi":
        valid = pv != 65535
        rain = pv.astype(np.float32) * 0.01 * per_hour
    elif provider == "fmi":
        valid = pv != 255
        rain = marshall_palmer(pv.astype(np.float32) * 0.5 - 32.0).astype(np.float32)
    elif provider == "bom":
        valid = pv >= 0
        rain = pv.astype(np.float32) * 0.05 * per_hour
    else:
        raise DataError(f"unknown radar provider {provider!r}; known: {', '.join(PROVIDERS)}")
    rain[~valid] = 0.0
    return rain, valid


def provider_of(path: Path) -> str | None:
    prefix = path.name.split("_", 1)[0].lower()
    return prefix if prefix in PROVIDERS else None


def downsample(rain: np.ndarray, valid: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Block means over ``factor x factor`` pixels (edges cropped); a block is valid only when all its pixels are."""
    if factor <= 1:
        return rain, valid
    t, h, w = rain.shape
    h, w = h - h % factor, w - w % factor
    # (T, H, W) -> (T, H/f, f, W/f, f)
    blocks = (t, h // factor, factor, w // factor, factor)
    mean = rain[:, :h, :w].reshape(blocks).mean(axis=(2, 4), dtype=np.float32)
    ok = valid[:, :h, :w].reshape(blocks).all(axis=(2, 4))
    mean[~ok] = 0.0
    return mean, np.asarray(ok)


def read_event(path: str | Path, downsample_by: int = 1) -> RadarEvent:
    """Decode one event file (see the module docstring); raises :class:`DataError` naming the file."""
    path = Path(path)
    provider = provider_of(path)
    if provider is None:
        raise DataError(f"{path}: radar file names start with the provider ({', '.join(PROVIDERS)}), e.g. knmi_...")
    (pv,) = load_npz(path, ("pv",), "a radar event: 'pv' holds the raw values")
    if pv.ndim != 3 or min(pv.shape) == 0:
        raise DataError(f"{path}: 'pv' must be (T, H, W) frames, got shape {pv.shape}")
    interval = float(_meta(path).get("interval_min", PROVIDERS[provider]))
    rain, valid = decode(pv, provider, interval)
    rain, valid = downsample(rain, valid, downsample_by)
    return RadarEvent(path.stem, rain, valid, interval)


def _meta(path: Path) -> dict:
    meta = path.parent / "meta.json"
    if not meta.is_file():
        return {}
    try:
        entry = json.loads(meta.read_text(encoding="utf-8")).get(path.name, {})
    except (OSError, ValueError, AttributeError) as exc:
        raise DataError(f"{meta}: not a readable radar meta.json ({exc})") from None
    return entry if isinstance(entry, dict) else {}


def is_radar_file(path: Path) -> bool:
    """An ``.npz`` with a ``pv`` array and a known provider prefix."""
    if path.suffix != ".npz" or provider_of(path) is None:
        return False
    try:
        with np.load(path, allow_pickle=False) as data:
            return "pv" in data.files
    except (OSError, ValueError, zipfile.BadZipFile):
        return False
