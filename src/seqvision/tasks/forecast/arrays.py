"""Frame arrays users bring (radar, satellite, any image sequence): ``(N, T, H, W)`` or ``(T, H, W)`` in .npy/.npz.

An ``.npz`` holds one such array, or names it ``frames``. Every problem is a :class:`DataError`
naming the file: missing, unreadable, wrong number of dimensions, empty, NaN or infinite values,
fewer frames than a window needs.

>>> import tempfile, os; p = os.path.join(tempfile.mkdtemp(), "a.npy"); np.save(p, np.zeros((3, 8, 8)))
>>> read_frames(p).shape
(1, 3, 8, 8)
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from seqvision.errors import DataError


def read_frames(path: str | Path, min_frames: int = 1) -> np.ndarray:
    """The array of ``path`` as ``(N, T, H, W)`` (a ``(T, H, W)`` event becomes ``N = 1``), its own dtype."""
    path = Path(path)
    if path.suffix not in (".npy", ".npz"):
        raise DataError(f"{path}: frame arrays are .npy or .npz files")
    try:
        if path.suffix == ".npy":
            array = np.load(path, allow_pickle=False)
        else:
            with np.load(path, allow_pickle=False) as data:
                names = data.files
                if "frames" in names:
                    array = data["frames"]
                elif len(names) == 1:
                    array = data[names[0]]
                else:
                    raise DataError(f"{path}: holds {', '.join(names)}; name the frames array 'frames'")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"{path}: not a readable {path.suffix} file ({str(exc).splitlines()[0]})") from None
    if array.dtype.kind not in "uif" and array.dtype != np.bool_:
        raise DataError(f"{path}: frames must be numbers, not {array.dtype}")
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4:
        raise DataError(f"{path}: frames must be (N, T, H, W) or (T, H, W), got shape {array.shape}")
    if array.size == 0:
        raise DataError(f"{path}: no frames (shape {array.shape})")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise DataError(f"{path}: {bad} NaN or infinite values (fill or crop them out first)")
    if array.shape[1] < min_frames:
        raise DataError(f"{path}: {array.shape[1]} frames per sequence, but a window needs {min_frames}")
    return array


def expand(spec: str, suffixes: tuple[str, ...] = (".npy", ".npz")) -> list[Path]:
    """Comma-separated files and folders -> the files (a folder: its ``suffixes`` files, sorted)."""
    paths: list[Path] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        path = Path(part)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in suffixes)
            if not found:
                raise DataError(f"{path}: no {' or '.join(suffixes)} files in this folder")
            paths += found
        elif path.exists():
            paths.append(path)
        else:
            raise DataError(f"{path}: no such file or folder")
    return paths
