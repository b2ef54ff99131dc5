"""The inference side every task shares: the :class:`Predictor` protocol, and loading a saved or exported network.

A task's predictor (``Recognizer``, ``ClipClassifier``, ``Captioner``, ``ImageClassifier``,
``SequenceClassifier``, ``Forecaster``) loads with :func:`load_network`, so every task accepts the
same names and paths (bundled name, ``.safetensors``, run folder, exported ``.onnx``) and the same
backends. Callers that hold any model get its predictor from the task registry:

>>> predictor = load_predictor("print-en")                        # doctest: +SKIP
>>> [predictor.to_json(r) for r in predictor.predict([Image.open("line.png")])]  # doctest: +SKIP
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

from seqvision.errors import CheckpointError, ConfigError, SeqvisionError

if TYPE_CHECKING:
    import numpy as np
    from torch import Tensor

    from seqvision.nn.model import SeqModel

P = TypeVar("P")
A = TypeVar("A")
R = TypeVar("R")

BACKENDS = ("torch", "onnx", "openvino")  # None (the CLI's default): onnx where it needs no torch, else torch
EXPORTED = ("onnx", "openvino")  # the backends that run an exported .onnx file (onnxruntime, OpenVINO)


@runtime_checkable
class Predictor(Protocol):
    """A saved model of one task, ready for inference: a batch of inputs in, one record per input out.

    What an input is belongs to the task (a line image, a clip path, a photo path, a DNA record, a
    window of past frames), and so does a record (decoded text, top-k labels, a caption, label
    probabilities, predicted frames); :meth:`to_json` turns a record into plain JSON values.
    """

    task: ClassVar[str]  # the registered task its models are trained for
    metadata: dict[str, Any]  # the saved model's metadata (architecture, input, labels, metrics ...)

    @classmethod
    def load(cls, name_or_path: str | Path, backend: str | None = "torch", threads: int = 0) -> Predictor:
        """A bundled name, ``.safetensors`` file, run folder or ``.onnx`` file; ``backend`` torch, onnx, openvino,
        or None (onnx where an up-to-date ``.onnx`` file is beside the model, else torch)."""
        ...

    def predict(self, inputs: list[Any]) -> Sequence[Any]:
        """One record per input, in order."""
        ...

    def to_json(self, record: Any) -> dict[str, Any]:
        """A record as JSON values (``json.dumps`` takes it as is)."""
        ...


def load_predictor(name_or_path: str | Path, backend: str | None = "torch", threads: int = 0) -> Predictor:
    """The predictor of any saved or exported model: its task (from the metadata) says which class loads it."""
    from seqvision.checkpoint import model_task
    from seqvision.tasks.base import get_task

    return get_task(model_task(name_or_path)).predictor.load(name_or_path, backend, threads)


def backend_name(session: Any) -> str:
    """``torch`` for no session, else the session's runtime: ``onnx`` (onnxruntime) or ``openvino``."""
    return "torch" if session is None else str(getattr(session, "backend", "onnx"))


def check_backend(backend: str | None, threads: int) -> int:
    """Refuses an unknown backend, or one whose runtime is missing (one line naming the extra); returns the
    threads to use (0: torch's count, or the runtime's own choice)."""
    if backend is not None and backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if backend in EXPORTED:
        from seqvision.export.runtime import require_runtime

        require_runtime(backend)
    if threads:
        return threads
    if backend == "torch" or "torch" in sys.modules:
        import torch

        return torch.get_num_threads()
    # a runtime without torch: OMP_NUM_THREADS as torch would read it, else 0 (its default: the physical cores)
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() else 0


def onnx_beside(path: Path, meta: dict[str, Any], backend: str = "onnx") -> Path | None:
    """The ``.onnx`` file exported from the saved model ``path`` (same name, beside it), when one is there,
    ``backend``'s runtime is installed and the file still matches the model, else None.

    It matches when its metadata is the saved model's, but for what changes nothing in the network: the
    export's own record (``onnx``) and a calibration (a temperature, applied by the decoder).
    """
    from seqvision.export.runtime import read_metadata, runtime_available

    onnx_path = path.with_suffix(".onnx")
    if not onnx_path.is_file() or not runtime_available(backend):
        return None

    try:
        exported = read_metadata(onnx_path)
    except SeqvisionError:
        return None
    same = {k: v for k, v in exported.items() if k not in ("onnx", "calibration")}
    return onnx_path if same == {k: v for k, v in meta.items() if k != "calibration"} else None


def open_onnx(
    name_or_path: str | Path, threads: int, task: str | None, backend: str | None = "onnx"
) -> tuple[dict[str, Any], Path, Any]:
    """An exported ``.onnx`` model of ``task`` (None: any): ``(metadata, path, session)`` on OpenVINO when
    ``backend`` is openvino, else on onnxruntime."""
    from seqvision.export.runtime import read_metadata, session

    path = Path(name_or_path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such ONNX file")
    meta = read_metadata(path)
    check_task(meta, path, task)
    return meta, path, session(path.read_bytes(), threads, "openvino" if backend == "openvino" else "onnx")


def load_network(
    name_or_path: str | Path,
    backend: str | None,
    threads: int,
    classes: Callable[[dict[str, Any]], int],
    export: Callable[[SeqModel, dict[str, Any]], bytes],
    task: str | None = "text_lines",
) -> tuple[SeqModel | None, dict[str, Any], Path, Any]:
    """A saved or exported network for inference, for any task: ``(model, metadata, path, session)``.

    Args:
        classes: Output classes of the head, from the metadata (alphabet size, number of labels).
        backend: ``torch``, ``onnx`` (onnxruntime), ``openvino``, or None: onnx when an up-to-date ``.onnx``
            file is beside the saved model (:func:`onnx_beside`; read without importing torch), else torch.
        export: The in-memory ONNX export (checked against eager) when ``backend`` is ``onnx`` or ``openvino``
            and no file is there.
        task: The task the model must have been trained for (another task is refused); None takes any.

    An ``.onnx`` file gives no model, only a session (onnxruntime's unless ``backend`` is openvino); otherwise
    the model is built from its
    metadata and the weights must fit it exactly, else :class:`CheckpointError` names the file.
    """
    threads = check_backend(backend, threads)
    if str(name_or_path).endswith(".onnx"):
        return None, *open_onnx(name_or_path, threads, task, backend)
    from seqvision.checkpoint import load_metadata

    meta, path = load_metadata(name_or_path)
    check_task(meta, path, task)
    runtime = backend or "onnx"
    beside = onnx_beside(path, meta, runtime) if runtime in EXPORTED else None
    if beside is not None:  # the exported file, run without torch; the saved model's metadata rules
        from seqvision.export.runtime import session

        return None, meta, path, session(beside.read_bytes(), threads, runtime)
    model = _build(name_or_path, classes)
    if backend not in EXPORTED:
        return model, meta, path, None
    from seqvision.export.runtime import session

    return model, meta, path, session(export(model, meta), threads, runtime)


def _build(name_or_path: str | Path, classes: Callable[[dict[str, Any]], int]) -> SeqModel:
    """The saved model in eval mode; the weights must fit the metadata exactly."""
    from seqvision.checkpoint import load_state
    from seqvision.config import ModelConfig, from_dict
    from seqvision.nn.model import build_model

    tensors, meta, path = load_state(name_or_path)
    try:
        model = build_model(from_dict(ModelConfig, meta["architecture"]), classes(meta))
        model.load_state_dict(tensors, strict=True)
    except (KeyError, TypeError, ValueError, ConfigError, RuntimeError) as exc:
        raise CheckpointError(
            f"{path}: metadata and weights do not fit together ({str(exc).splitlines()[0]})"
        ) from None
    return model.eval()


def load_torch_only(
    name_or_path: str | Path, backend: str | None, threads: int, task: str, refusal: str
) -> tuple[SeqModel, dict[str, Any], Path]:
    """A saved model with a ``labels`` head of a task that has no ONNX path yet: ``(model, metadata, path)``.

    Any backend but torch is refused with ``refusal`` (one line saying so).
    """
    if backend not in (None, "torch"):
        raise ConfigError(refusal)
    model, meta, path, _ = load_network(
        name_or_path, "torch", threads, classes=lambda m: len(m["labels"]), export=_unreachable, task=task
    )
    assert model is not None  # a saved model (an .onnx path is refused by the task check)
    return model, meta, path


def _unreachable(model: SeqModel, meta: dict[str, Any]) -> bytes:
    raise AssertionError("load_torch_only never exports")


def task_title(name: str) -> str:
    """How messages name a task's models ("video", "text-line"); an unknown task by its own name."""
    import seqvision.tasks  # noqa: F401  (fills the registry)
    from seqvision.registry import TASKS

    return TASKS.get(name).title if name in TASKS else name


def check_task(meta: dict[str, Any], path: Path, task: str | None) -> None:
    found = meta.get("task", "text_lines")
    if not isinstance(found, str):
        raise CheckpointError(f"{path}: seqvision metadata is corrupt (task {str(found)[:60]})")
    if task is not None and found != task:
        raise CheckpointError(f"{path}: a {task_title(found)} model, not a {task_title(task)} model")


class ClipNetwork:
    """What the clip tasks' predictors share: a network run eagerly (``model``) or on onnxruntime (``session``),
    reading square frames of the ``size`` its metadata records. Subclasses are dataclasses that declare the
    three attributes as fields."""

    model: SeqModel | None
    metadata: dict[str, Any]
    session: Any

    @property
    def backend(self) -> str:
        return backend_name(self.session)

    @property
    def size(self) -> int:
        """Frame width and height in pixels."""
        return int(self.metadata["input"]["height"])

    def run(self, clips: Tensor, lengths: Tensor) -> np.ndarray:
        """Padded ``(B, T, C, S, S)`` clips + ``(B,)`` frame counts -> the network's output ``(B, ...)``."""
        return run_clips(self.model, self.session, clips, lengths)


def run_clips(model: SeqModel | None, session: Any, clips: Tensor, lengths: Tensor) -> np.ndarray:
    """A clip network's output for padded ``(B, T, C, S, S)`` clips + ``(B,)`` frame counts: on the exported
    ``session`` (onnxruntime or OpenVINO) when given, else eager ``model``."""
    if session is not None:
        return session.run(None, {"clips": clips.numpy(), "lengths": lengths.numpy()})[0]
    import torch

    assert model is not None
    with torch.inference_mode():
        out, _ = model(clips, lengths)
    return out.float().numpy()


def prefetch_batches(
    inputs: Sequence[P],
    prepare: Callable[[P], A],
    infer: Callable[[list[tuple[int, A]]], Iterable[R]],
    batch_size: int,
    workers: int = 2,
    name: str = "seqvision-clips",
    on_batch: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, R | SeqvisionError]]:
    """Yield ``(i, result)`` or ``(i, error)`` for each input: ``prepare`` (decoding) runs on ``workers`` threads
    ahead of the model; ``infer`` takes up to ``batch_size`` ``(i, prepared)`` pairs and returns a result each.

    An input ``prepare`` refuses with a :class:`SeqvisionError` is yielded with that error as soon as it is met;
    ``on_batch(n)`` is called after each batch's results are taken.
    """

    def safe(item: P) -> A | SeqvisionError:
        try:
            return prepare(item)
        except SeqvisionError as exc:
            return exc

    with ThreadPoolExecutor(max(1, workers), thread_name_prefix=name) as pool:
        batch: list[tuple[int, A]] = []
        for i, prepared in enumerate(pool.map(safe, inputs)):
            if isinstance(prepared, SeqvisionError):
                yield i, prepared
            else:
                batch.append((i, prepared))
            if batch and (len(batch) == batch_size or i == len(inputs) - 1):
                yield from zip([j for j, _ in batch], infer(batch), strict=True)
                if on_batch:
                    on_batch(len(batch))
                batch = []
