"""The inference side every task shares: load a saved or exported network, and the Predictor protocol.

A task's predictor (``Recognizer``, ``ClipClassifier``, ``Captioner``, ``SequenceClassifier``,
``Forecaster``) loads with :func:`load_network`, so every task accepts the same names and paths
(bundled name, ``.safetensors``, run folder, exported ``.onnx``) and the same backends.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from seqvision.checkpoint import load_state
from seqvision.config import ModelConfig, from_dict
from seqvision.errors import CheckpointError, ConfigError
from seqvision.nn.model import SeqModel, build_model

BACKENDS = ("torch", "onnx")


def load_network(
    name_or_path: str | Path,
    backend: str,
    threads: int,
    classes: Callable[[dict[str, Any]], int],
    export: Callable[[SeqModel, dict[str, Any]], bytes],
    task: str | None = "text_lines",
) -> tuple[SeqModel | None, dict[str, Any], Path, Any]:
    """A saved or exported network for inference, for any task: ``(model, metadata, path, onnx session)``.

    Args:
        classes: Output classes of the head, from the metadata (alphabet size, number of labels).
        export: The in-memory ONNX export (checked against eager) when ``backend`` is ``onnx``.
        task: The task the model must have been trained for (another task is refused); None takes any.

    An ``.onnx`` file gives no model, only a session; otherwise the model is built from its
    metadata and the weights must fit it exactly, else :class:`CheckpointError` names the file.
    """
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    threads = threads or torch.get_num_threads()
    if str(name_or_path).endswith(".onnx"):
        from seqvision.export.runtime import read_metadata, session

        path = Path(name_or_path)
        if not path.is_file():
            raise CheckpointError(f"{path}: no such ONNX file")
        meta = read_metadata(path)
        _check_task(meta, path, task)
        return None, meta, path, session(path.read_bytes(), threads)
    tensors, meta, path = load_state(name_or_path)
    _check_task(meta, path, task)
    try:
        model = build_model(from_dict(ModelConfig, meta["architecture"]), classes(meta))
        model.load_state_dict(tensors, strict=True)
    except (KeyError, TypeError, ValueError, ConfigError, RuntimeError) as exc:
        raise CheckpointError(
            f"{path}: metadata and weights do not fit together ({str(exc).splitlines()[0]})"
        ) from None
    model.eval()
    if backend != "onnx":
        return model, meta, path, None
    from seqvision.export.runtime import session

    return model, meta, path, session(export(model, meta), threads)


TASK_NAMES = {
    "text_lines": "text-line",
    "video": "video",
    "captioning": "captioning",
    "image_classes": "image-class",
    "forecast": "forecasting",
    "dna": "DNA/RNA",
}


def _check_task(meta: dict[str, Any], path: Path, task: str | None) -> None:
    found = meta.get("task", "text_lines")
    if not isinstance(found, str):
        raise CheckpointError(f"{path}: seqvision metadata is corrupt (task {str(found)[:60]})")
    if task is not None and found != task:
        name = TASK_NAMES.get(found, found)
        raise CheckpointError(f"{path}: a {name} model, not a {TASK_NAMES.get(task, task)} model")
