"""Loading the served models, each once, under the names clients use; what the service needs of a model.

Models load through the task registry (:func:`~seqvision.tasks.predictor.load_predictor`), so the
service names no task; it serves the predictors that read text lines (:class:`LineModel`) and those
that classify clips (:class:`ClipModel`: video, emotion), told apart by what they can do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
from PIL import Image

from seqvision.errors import ConfigError
from seqvision.serving.errors import ApiError
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


@runtime_checkable
class ClipModel(Protocol):
    """A predictor of clips whose records are top-k labels: each clip file prepared alone, then a batch classified."""

    task: ClassVar[str]
    metadata: dict[str, Any]
    labels: list[str]

    @property
    def backend(self) -> str: ...

    def prepare(self, path: Path) -> Any:
        """A clip file -> what the network reads of it; raises ``DataError`` naming the file."""
        ...

    def classify(self, prepared: list[Any], top_k: int) -> list[Any]:
        """Records of prepared clips, in order (best labels with probabilities, best first)."""
        ...

    def to_json(self, record: Any) -> dict[str, Any]:
        """A record as JSON values (``label``, ``top``, and whatever else the task adds, as ``read --json``)."""
        ...


def wrong_model(message: str) -> ApiError:
    return ApiError(422, "wrong_model", message)


def check_kind(rec: object, where: str) -> None:
    """Refuses (ConfigError, one line) a model that neither reads text lines nor classifies clips."""
    if not isinstance(rec, LineModel | ClipModel):
        task = str(getattr(rec, "task", type(rec).__name__))
        raise ConfigError(f"{where}: a {task_title(task)} model; serve reads text lines and classifies clips")


def kind_of(rec: object) -> str:
    """How messages name a served model: "a video model", "a text-line model"."""
    title = task_title(str(getattr(rec, "task", "")))
    return f"{'an' if title[0] in 'aeiou' else 'a'} {title} model"


def model_info(name: str, rec: Any, default: bool) -> dict[str, Any]:
    """What ``GET /v1/models`` says of one served model."""
    meta = rec.metadata
    metrics = {k: float(v) for k, v in meta.get("metrics", {}).items() if isinstance(v, int | float)}
    info = {
        "name": name,
        "default": default,
        "task": str(getattr(rec, "task", meta.get("task", "text_lines"))),
        "kind": "line" if isinstance(rec, LineModel) else "clip",
        "backend": rec.backend,
        "preset": meta.get("architecture", {}).get("preset"),
        "metrics": metrics,
    }
    if isinstance(rec, LineModel):
        return {
            **info,
            "alphabet_size": len(rec.alphabet.chars),
            "input_height": rec.height,
            "calibrated": "calibration" in meta,
        }
    given = meta.get("input", {})
    streams = getattr(rec, "streams", None)  # models that read more than the frames say which streams
    return {
        **info,
        "labels": list(rec.labels),
        "frames": given.get("frames"),
        "input_size": given.get("height"),
        **({"streams": list(streams)} if streams else {}),
    }


def model_name(name_or_path: str) -> str:
    """The name clients use: a bundled name as is, a file by its stem, a run folder by its folder name."""
    path = Path(name_or_path)
    if path.suffix in (".safetensors", ".onnx"):
        return path.stem
    return path.name or name_or_path


def load_models(
    names: list[str], backend: str | None = "torch", threads: int = 1, skip_others: bool = False
) -> dict[str, LineModel | ClipModel]:
    """Load each model once (bundled name, ``.safetensors``, run folder or ``.onnx``), keyed by its name.

    Args:
        skip_others: Leave out models that neither read text lines nor classify clips (the bundled page
            segmenter) instead of refusing them.
    """
    models: dict[str, LineModel | ClipModel] = {}
    for name_or_path in names:
        name = model_name(name_or_path)
        if name in models:
            raise ConfigError(f"two models are both called {name!r}; rename one of the files")
        predictor = load_predictor(name_or_path, backend, threads)
        if not isinstance(predictor, LineModel | ClipModel):
            if skip_others:
                continue
            check_kind(predictor, str(getattr(predictor, "path", None) or name_or_path))
        models[name] = predictor  # type: ignore[assignment]
    if not models:
        raise ConfigError("no model to serve")
    return models


def beam_available() -> bool:
    try:
        import flashlight.lib.text.decoder  # noqa: F401
    except ImportError:
        return False
    return True
