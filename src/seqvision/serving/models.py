"""Loading the served models, each once, under the names clients use; what the service needs of a model.

Models load through the task registry (:func:`~seqvision.tasks.predictor.load_predictor`), so the
service names no task; it serves the predictors that read text lines (:class:`LineModel`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image

from seqvision.errors import ConfigError
from seqvision.tasks.predictor import load_predictor, task_title


@runtime_checkable
class LineModel(Protocol):
    """A predictor of text lines whose network gives CTC log-probabilities, decoded per request kind."""

    metadata: dict[str, Any]
    alphabet: Any  # its ``chars`` are the characters the model writes

    @property
    def height(self) -> int: ...  # input line height in pixels

    @property
    def backend(self) -> str: ...

    def prepare(self, image: Image.Image) -> np.ndarray:
        """A decoded image -> the normalised ``(H, W)`` array the network reads."""
        ...

    def log_probs(self, arrays: list[Any], batch_size: int = 16) -> list[np.ndarray]:
        """The ``(T_i, K)`` log-probabilities of normalised arrays, in input order."""
        ...

    def new_decoder(
        self, kind: str, beam_width: int, lm: str | None, lm_weight: float, bonus: float
    ) -> Callable[[np.ndarray, int], Any]:
        """``(log_probs, length) -> decoded`` (text, confidences, character and word positions)."""
        ...


def model_name(name_or_path: str) -> str:
    """The name clients use: a bundled name as is, a file by its stem, a run folder by its folder name."""
    path = Path(name_or_path)
    if path.suffix in (".safetensors", ".onnx"):
        return path.stem
    return path.name or name_or_path


def load_models(
    names: list[str], backend: str | None = "torch", threads: int = 1, skip_others: bool = False
) -> dict[str, LineModel]:
    """Load each model once (bundled name, ``.safetensors``, run folder or ``.onnx``), keyed by its name.

    Args:
        skip_others: Leave out models that do not read text lines (the bundled page segmenter) instead of
            refusing them.
    """
    models: dict[str, LineModel] = {}
    for name_or_path in names:
        name = model_name(name_or_path)
        if name in models:
            raise ConfigError(f"two models are both called {name!r}; rename one of the files")
        predictor = load_predictor(name_or_path, backend, threads)
        if not isinstance(predictor, LineModel):
            if skip_others:
                continue
            where = getattr(predictor, "path", None) or name_or_path
            raise ConfigError(f"{where}: a {task_title(predictor.task)} model, not a text-line model")
        models[name] = predictor
    if not models:
        raise ConfigError("no model to serve")
    return models


def beam_available() -> bool:
    try:
        import flashlight.lib.text.decoder  # noqa: F401
    except ImportError:
        return False
    return True
