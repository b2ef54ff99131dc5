"""Inference: load a saved model by name or path and read line images in width-sorted batches.

Two backends run the same network: eager PyTorch (``torch``) and onnxruntime (``onnx``), the latter
from an exported ``.onnx`` file or exported on the fly (in memory, checked against eager) from a
saved model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from seqvision.checkpoint import load_state
from seqvision.config import ModelConfig, from_dict
from seqvision.data.images import normalise, resize_to_height
from seqvision.data.lines import pad_batch
from seqvision.decoding.alphabet import Alphabet
from seqvision.decoding.ctc import Decoded, greedy_decode
from seqvision.errors import CheckpointError, ConfigError, SeqvisionError
from seqvision.model import SeqModel, build_model

BACKENDS = ("torch", "onnx")


@dataclass
class Recognizer:
    """A text-line model ready to read images.

    >>> rec = Recognizer.load("hooker-en")                  # doctest: +SKIP
    >>> rec.read([Image.open("line.jpg")])[0].text          # doctest: +SKIP
    """

    model: SeqModel | None
    alphabet: Alphabet
    metadata: dict[str, Any]
    path: Path | None = None
    session: Any = None  # an onnxruntime InferenceSession when the backend is onnx

    @property
    def backend(self) -> str:
        return "onnx" if self.session is not None else "torch"

    @property
    def height(self) -> int:
        return int(self.metadata["input"]["height"])

    @classmethod
    def load(cls, name_or_path: str | Path, backend: str = "torch", threads: int = 0) -> Recognizer:
        """A bundled name, ``.safetensors`` file, run folder or exported ``.onnx`` file.

        Args:
            backend: ``torch`` or ``onnx`` (an ``.onnx`` file always runs on onnxruntime).
            threads: onnxruntime threads (0: as many as torch uses).
        """
        if backend not in BACKENDS:
            raise ConfigError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
        threads = threads or torch.get_num_threads()
        if str(name_or_path).endswith(".onnx"):
            from seqvision.export import _session, read_metadata

            path = Path(name_or_path)
            if not path.is_file():
                raise CheckpointError(f"{path}: no such ONNX file")
            meta = read_metadata(path)
            return cls(None, Alphabet(meta["alphabet"]), meta, path, _session(path.read_bytes(), threads))
        tensors, meta, path = load_state(name_or_path)
        try:
            cfg = from_dict(ModelConfig, meta["architecture"])
            alphabet = Alphabet(meta["alphabet"])
            model = build_model(cfg, len(alphabet))
            model.load_state_dict(tensors, strict=True)
        except (KeyError, TypeError, ValueError, ConfigError, RuntimeError) as exc:
            raise CheckpointError(
                f"{path}: metadata and weights do not fit together ({str(exc).splitlines()[0]})"
            ) from None
        rec = cls(model.eval(), alphabet, meta, path)
        if backend == "onnx":
            from seqvision.export import _session, to_onnx

            rec.session = _session(to_onnx(model, rec.height), threads)
        return rec

    def run(self, images: torch.Tensor, widths: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Padded ``(B, 1, H, W)`` batch + true widths -> (log-probabilities ``(B, T, K)``, lengths ``(B,)``)."""
        if self.session is not None:
            log_probs, lengths = self.session.run(None, {"images": images.numpy(), "widths": widths.numpy()})
            return log_probs, lengths
        assert self.model is not None
        with torch.inference_mode():
            out, lengths = self.model(images, widths)
        return out.float().numpy(), lengths.numpy()

    def prepare(self, image: Image.Image) -> Any:
        return normalise(resize_to_height(image.convert("L"), self.height))

    @torch.inference_mode()
    def read(self, images: list[Image.Image], batch_size: int = 16) -> list[Decoded]:
        """Recognise line images; batches are formed by width so padding stays small."""
        arrays = [self.prepare(img) for img in images]
        return [d for _, d in self.read_arrays(arrays, batch_size)]

    @torch.inference_mode()
    def read_arrays(
        self, arrays: list[Any], batch_size: int = 16, on_batch: Callable[[int], None] | None = None
    ) -> Iterator[tuple[int, Decoded]]:
        """Yield ``(index, decoded)`` for normalised ``(H, W)`` arrays, in width order."""
        order = sorted(range(len(arrays)), key=lambda i: arrays[i].shape[1])
        results: list[tuple[int, Decoded]] = []
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            images, widths = pad_batch([arrays[i] for i in chunk])
            lp, lengths = self.run(images, widths)
            for row, i in enumerate(chunk):
                results.append((i, greedy_decode(lp[row], int(lengths[row]), self.alphabet)))
            if on_batch:
                on_batch(len(chunk))
        results.sort(key=lambda r: r[0])
        return iter(results)

    def read_many(
        self,
        load: Callable[[int], Image.Image],
        count: int,
        batch_size: int = 16,
        workers: int = 2,
        chunk: int = 512,
        on_batch: Callable[[int], None] | None = None,
    ) -> Iterator[tuple[int, Decoded | SeqvisionError]]:
        """Read ``count`` images given by ``load(i)``; yields ``(i, decoded)`` or ``(i, error)`` for bad inputs.

        Images are decoded and normalised on a thread pool one chunk ahead of the model, so the
        model never waits on JPEG decoding; each chunk is batched in width order.
        """

        def prepare(i: int) -> Any:
            try:
                return self.prepare(load(i))
            except SeqvisionError as exc:
                return exc

        with ThreadPoolExecutor(max(1, workers), thread_name_prefix="seqvision-load") as pool:
            pending = [pool.submit(prepare, i) for i in range(min(count, chunk))]
            for start in range(0, count, chunk):
                ready = [(start + j, f.result()) for j, f in enumerate(pending)]
                stop = min(count, start + 2 * chunk)
                pending = [pool.submit(prepare, i) for i in range(start + chunk, stop)]
                good = [(i, a) for i, a in ready if not isinstance(a, SeqvisionError)]
                yield from ((i, a) for i, a in ready if isinstance(a, SeqvisionError))
                for k, decoded in self.read_arrays([a for _, a in good], batch_size, on_batch):
                    yield good[k][0], decoded
