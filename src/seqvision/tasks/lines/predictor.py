"""Inference: load a saved model by name or path and read line images in width-sorted batches.

Three backends run the same network: eager PyTorch (``torch``), onnxruntime (``onnx``) and OpenVINO
(``openvino``), the last two from an exported ``.onnx`` file (one beside a saved model, as the bundled
models have, is used without importing torch) or exported on the fly (in memory, checked against eager)
from a saved model. Images are prepared (numpy + PIL) and decoded (numpy) the same way for all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from PIL import Image

from seqvision.data.alphabet import Alphabet
from seqvision.data.images import normalise, pad_arrays, resize_to_height
from seqvision.errors import CheckpointError, SeqvisionError
from seqvision.tasks.lines.decoding.beam import Decoder, DecoderSpec, make_decoder
from seqvision.tasks.lines.decoding.ctc import Decoded
from seqvision.tasks.predictor import backend_name, load_network

if TYPE_CHECKING:
    from seqvision.nn.model import SeqModel


@dataclass
class Recognizer:
    """A text-line model ready to read images.

    >>> rec = Recognizer.load("hooker-en")                  # doctest: +SKIP
    >>> rec.read([Image.open("line.jpg")])[0].text          # doctest: +SKIP
    """

    task: ClassVar[str] = "text_lines"
    model: SeqModel | None
    alphabet: Alphabet
    metadata: dict[str, Any]
    path: Path | None = None
    session: Any = None  # an onnxruntime InferenceSession (backend onnx) or an OpenVinoSession (openvino)
    decoder: DecoderSpec = field(default_factory=DecoderSpec)

    def __post_init__(self) -> None:
        self.decode: Decoder = make_decoder(self.decoder, self.alphabet, self.temperature)

    def set_decoder(self, spec: DecoderSpec) -> None:
        """Decode with ``spec`` from now on (greedy by default); LM and lexicon files are read here, once."""
        self.decoder = spec
        self.decode = make_decoder(spec, self.alphabet, self.temperature)

    @property
    def temperature(self) -> float:
        """Confidence temperature fitted by ``seqvision calibrate`` for this kind of decoding, else 1.

        A language model changes what confidences mean, so a temperature fitted without one is not
        applied with one, and the other way round (:attr:`calibration_note` says so).
        """
        calibration = self.metadata.get("calibration")
        if not calibration or bool(calibration.get("with_lm", False)) != bool(self.decoder.lm):
            return 1.0
        return float(calibration["temperature"])

    @property
    def calibration_note(self) -> str | None:
        """Why confidences are uncalibrated under the current decoder, when the model is calibrated for another."""
        calibration = self.metadata.get("calibration")
        if calibration and bool(calibration.get("with_lm", False)) != bool(self.decoder.lm):
            fitted = "with" if calibration.get("with_lm") else "without"
            return (
                f"{self.path.name if self.path else 'the model'}'s confidences were calibrated {fitted} a language "
                "model; they are uncalibrated here (seqvision calibrate with the same decoder flags fixes that)"
            )
        return None

    @property
    def backend(self) -> str:
        return backend_name(self.session)

    @property
    def height(self) -> int:
        return int(self.metadata["input"]["height"])

    @classmethod
    def load(cls, name_or_path: str | Path, backend: str | None = "torch", threads: int = 0) -> Recognizer:
        """A bundled name, ``.safetensors`` file, run folder or exported ``.onnx`` file.

        Args:
            backend: ``torch``, ``onnx`` or ``openvino`` (an ``.onnx`` file runs on onnxruntime unless openvino
                is asked for); None: onnx when onnxruntime is installed and an up-to-date ``.onnx`` file is
                beside the model, else torch.
            threads: onnxruntime or OpenVINO threads per call (0: as many as torch uses).
        """

        def export(model: SeqModel, meta: dict[str, Any]) -> bytes:
            from seqvision.export.onnx import to_onnx

            return to_onnx(model, int(meta["input"]["height"]))

        model, meta, path, session = load_network(
            name_or_path, backend, threads, classes=lambda meta: len(Alphabet(meta["alphabet"])), export=export
        )
        try:  # the metadata read later (input height, calibration) must be usable now, not mid-way through a job
            recognizer = cls(model, Alphabet(meta["alphabet"]), meta, path, session)
            if recognizer.height < 1:
                raise ValueError(f"input height {recognizer.height}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CheckpointError(f"{path}: model metadata is corrupt ({str(exc).splitlines()[0][:120]})") from None
        return recognizer

    def run(self, images: np.ndarray, widths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Padded ``(B, 1, H, W)`` float32 batch + true widths (int64) -> (log-probabilities ``(B, T, K)``,
        lengths ``(B,)``)."""
        if self.session is not None:
            log_probs, lengths = self.session.run(None, {"images": images, "widths": widths})
            return log_probs, lengths
        import torch

        assert self.model is not None
        with torch.inference_mode():
            out, lengths = self.model(torch.from_numpy(images), torch.from_numpy(widths))
        return out.float().numpy(), lengths.numpy()

    def prepare(self, image: Image.Image) -> Any:
        return normalise(resize_to_height(image.convert("L"), self.height))

    def new_decoder(self, kind: str, beam_width: int, lm: str | None, lm_weight: float, bonus: float) -> Decoder:
        """A decoder for this model's alphabet and temperature (the LM file is read here, once)."""
        return make_decoder(DecoderSpec(kind, beam_width, lm, lm_weight, bonus), self.alphabet, self.temperature)

    def predict(self, inputs: list[Image.Image], batch_size: int = 16) -> list[Decoded]:
        """The :class:`~seqvision.tasks.predictor.Predictor` view of :meth:`read`."""
        return self.read(inputs, batch_size)

    @staticmethod
    def to_json(record: Decoded) -> dict[str, Any]:
        """Text, confidences and x-ranges (pixels of the line image) per character and word (``read --format json``)."""
        chars = [
            {"char": c, "confidence": round(p, 4), "x0": a, "x1": b}
            for c, p, (a, b) in zip(record.text, record.char_confidences, record.char_spans(), strict=True)
        ]
        words = [{"text": w.text, "confidence": round(w.confidence, 4), "x0": w.x0, "x1": w.x1} for w in record.words()]
        return {
            "text": record.text,
            "confidence": round(record.confidence, 4),
            "width": record.width,
            "words": words,
            "chars": chars,
        }

    def read(self, images: list[Image.Image], batch_size: int = 16) -> list[Decoded]:
        """Recognise line images; batches are formed by width so padding stays small.

        Character and word x-ranges (``Decoded.char_spans()``, ``Decoded.words()``) are in each image's own pixels.
        """
        arrays = [self.prepare(img) for img in images]
        return [d for _, d in self.read_arrays(arrays, batch_size, widths=[img.width for img in images])]

    def log_probs(
        self, arrays: list[Any], batch_size: int = 16, on_batch: Callable[[int], None] | None = None
    ) -> list[np.ndarray]:
        """The network's ``(T_i, K)`` log-probabilities for normalised ``(H, W)`` arrays, batched in width order."""
        order = sorted(range(len(arrays)), key=lambda i: arrays[i].shape[1])
        out: list[np.ndarray] = [np.zeros((0, len(self.alphabet)), np.float32)] * len(arrays)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            images, widths = pad_arrays([arrays[i] for i in chunk])
            lp, lengths = self.run(images, widths)
            for row, i in enumerate(chunk):
                out[i] = lp[row, : int(lengths[row])]
            if on_batch:
                on_batch(len(chunk))
        return out

    def read_arrays(
        self,
        arrays: list[Any],
        batch_size: int = 16,
        on_batch: Callable[[int], None] | None = None,
        widths: list[int] | None = None,
        keep_log_probs: bool = False,
    ) -> Iterator[tuple[int, Decoded]]:
        """Yield ``(index, decoded)`` for normalised ``(H, W)`` arrays, in input order.

        Args:
            widths: Width of each original image, so positions come out in its pixels (default: the array's).
            keep_log_probs: Attach the network's output to each result (to re-decode, tune or calibrate).
        """
        for i, lp in enumerate(self.log_probs(arrays, batch_size, on_batch)):
            decoded = self.decode(lp, len(lp))
            decoded.width = float(widths[i] if widths else arrays[i].shape[1])
            if keep_log_probs:
                decoded.log_probs = lp
            yield i, decoded

    def read_many(
        self,
        load: Callable[[int], Image.Image],
        count: int,
        batch_size: int = 16,
        workers: int = 2,
        chunk: int = 512,
        on_batch: Callable[[int], None] | None = None,
        keep_log_probs: bool = False,
    ) -> Iterator[tuple[int, Decoded | SeqvisionError]]:
        """Read ``count`` images given by ``load(i)``; yields ``(i, decoded)`` or ``(i, error)`` for bad inputs.

        Images are decoded and normalised on a thread pool one chunk ahead of the model, so the
        model never waits on JPEG decoding; each chunk is batched in width order.
        """

        def prepare(i: int) -> Any:
            try:
                image = load(i)
                return self.prepare(image), image.width
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
                arrays, widths = [a for _, (a, _) in good], [w for _, (_, w) in good]
                for k, decoded in self.read_arrays(arrays, batch_size, on_batch, widths, keep_log_probs):
                    yield good[k][0], decoded
