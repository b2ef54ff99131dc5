"""Self-describing saved models: safetensors weights + JSON metadata, written atomically.

A model ``NAME`` is ``NAME.safetensors`` (weights, with the metadata JSON also embedded in its
header so the one file suffices) and ``NAME.json`` beside it for people and tools to read.
Nothing is ever unpickled.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqvision import __version__
from seqvision.errors import CheckpointError
from seqvision.io import atomic_write_bytes, atomic_write_text

if TYPE_CHECKING:  # torch is imported when weights are read or written, not to name or inspect a model
    import torch

FORMAT = "seqvision-model"
FORMAT_VERSION = 1
BUNDLED = Path(__file__).parent / "models"
DEFAULT_MODEL = "print-en"  # what `read` and `eval` use when no model is named


def save_model(path: str | Path, model: torch.nn.Module, metadata: dict[str, Any]) -> Path:
    """Write ``path`` (``.safetensors`` added if missing) and the ``.json`` beside it; returns the weights path."""
    path = Path(path)
    if path.suffix != ".safetensors":
        path = path.with_name(path.name + ".safetensors")
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "seqvision_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **metadata,
    }
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    return _write(path, tensors, meta)


def _write(path: Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> Path:
    from safetensors.torch import save as st_save

    text = json.dumps(meta, ensure_ascii=False, indent=1)
    atomic_write_bytes(path, st_save(tensors, metadata={"seqvision": text}))
    atomic_write_text(path.with_suffix(".json"), text + "\n")
    return path


def save_calibrated(source: str | Path, out: str | Path, calibration: dict[str, Any]) -> Path:
    """Copy the model ``source`` to ``out`` with ``calibration`` (temperature and how it was fitted) in its metadata.

    The weights are unchanged; ``out`` may be ``source`` itself (both files are replaced atomically).
    """
    tensors, meta, _ = load_state(source)
    out = Path(out)
    if out.suffix != ".safetensors":
        out = out.with_name(out.name + ".safetensors")
    return _write(out, tensors, {**meta, "calibration": calibration})


def resolve(name_or_path: str | Path) -> Path:
    """A bundled model name, a ``.safetensors``/``.json`` path, or a run folder -> the weights file."""
    raw = str(name_or_path)
    path = Path(raw)
    candidates = [path, path.with_name(path.name + ".safetensors")]
    if path.suffix == ".json":
        candidates.insert(0, path.with_suffix(".safetensors"))
    if path.is_dir():
        candidates = [path / "model.safetensors", path / "best.safetensors"]
    if "/" not in raw and path.suffix == "":
        candidates.append(BUNDLED / f"{raw}.safetensors")
    for c in candidates:
        if c.is_file():
            return c
    if path.is_dir() and (path / "config.yaml").is_file():
        raise CheckpointError(
            f"{raw}: a run folder without model.safetensors yet (training writes it after its first validation)"
        )
    bundled = ", ".join(sorted(p.stem for p in BUNDLED.glob("*.safetensors"))) or "none"
    raise CheckpointError(f"{raw}: no such model file, run folder or bundled model (bundled: {bundled})")


def is_model(name_or_path: str | Path) -> bool:
    """Whether ``name_or_path`` names a saved model (not, say, an image or a data folder)."""
    if str(name_or_path).endswith(".onnx"):
        return Path(name_or_path).is_file()
    try:
        return resolve(name_or_path).suffix == ".safetensors"
    except CheckpointError:
        return False


def load_state(name_or_path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any], Path]:
    """Weights and metadata of a saved model, validated; raises :class:`CheckpointError` naming the file."""
    from safetensors import SafetensorError
    from safetensors.torch import load as st_load

    path = resolve(name_or_path)
    try:
        data = path.read_bytes()
        tensors = st_load(data)
    except (SafetensorError, ValueError, OSError) as exc:
        raise CheckpointError(f"{path}: truncated or not a safetensors file ({str(exc).splitlines()[0]})") from None
    return tensors, _metadata(path, data[:8], lambda n: data[8 : 8 + n]), path


def load_metadata(name_or_path: str | Path) -> tuple[dict[str, Any], Path]:
    """The metadata of a saved model, validated, from the safetensors header alone (no weights, no torch)."""
    path = resolve(name_or_path)
    try:
        with path.open("rb") as f:
            return _metadata(path, f.read(8), f.read), path
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _metadata(path: Path, prefix: bytes, read: Any) -> dict[str, Any]:
    """The seqvision metadata of a safetensors header: ``prefix`` is its 8-byte length, ``read(n)`` the JSON."""
    try:
        header_len = int.from_bytes(prefix, "little")
        if len(prefix) < 8 or header_len > 100_000_000:
            raise ValueError("no safetensors header")
        header = json.loads(read(header_len))
        meta = json.loads(header.get("__metadata__", {}).get("seqvision", "null"))
    except (ValueError, AttributeError, TypeError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise CheckpointError(f"{path}: truncated or not a safetensors file ({str(exc).splitlines()[0]})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: a safetensors file, but not a seqvision model (no seqvision metadata)")
    version = meta.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise CheckpointError(f"{path}: seqvision metadata is corrupt (format_version {version!r})")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: saved by a newer seqvision ({meta.get('seqvision_version')}); upgrade to load it"
        )
    return meta


def model_task(name_or_path: str | Path) -> str:
    """The task a saved or exported model was trained for (``text_lines`` when unreadable: the caller reports it)."""
    from seqvision.errors import SeqvisionError

    try:
        if str(name_or_path).endswith(".onnx"):
            from seqvision.export.runtime import read_metadata

            meta = read_metadata(name_or_path) if Path(name_or_path).is_file() else {}
        else:
            meta = load_metadata(name_or_path)[0]
    except SeqvisionError:
        return "text_lines"
    return str(meta.get("task", "text_lines"))
