"""Loading the served models, each once, under the names clients use."""

from __future__ import annotations

from pathlib import Path

from seqvision.errors import ConfigError
from seqvision.tasks.lines.predictor import Recognizer


def model_name(name_or_path: str) -> str:
    """The name clients use: a bundled name as is, a file by its stem, a run folder by its folder name."""
    path = Path(name_or_path)
    if path.suffix in (".safetensors", ".onnx"):
        return path.stem
    return path.name or name_or_path


def load_models(names: list[str], backend: str = "torch", threads: int = 1) -> dict[str, Recognizer]:
    """Load each model once (bundled name, ``.safetensors``, run folder or ``.onnx``), keyed by its name."""
    models: dict[str, Recognizer] = {}
    for name_or_path in names:
        name = model_name(name_or_path)
        if name in models:
            raise ConfigError(f"two models are both called {name!r}; rename one of the files")
        models[name] = Recognizer.load(name_or_path, backend, threads)
    if not models:
        raise ConfigError("no model to serve")
    return models


def beam_available() -> bool:
    try:
        import flashlight.lib.text.decoder  # noqa: F401
    except ImportError:
        return False
    return True
