"""Inference: load a saved model by name or path and read line images in width-sorted batches."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from seqvision.checkpoint import load_state
from seqvision.config import ModelConfig, from_dict
from seqvision.data.images import normalise, resize_to_height
from seqvision.data.lines import pad_batch
from seqvision.decoding.alphabet import Alphabet
from seqvision.decoding.ctc import Decoded, greedy_decode
from seqvision.errors import CheckpointError, ConfigError
from seqvision.model import SeqModel, build_model


@dataclass
class Recognizer:
    """A text-line model ready to read images.

    >>> rec = Recognizer.load("hooker-en")                  # doctest: +SKIP
    >>> rec.read([Image.open("line.jpg")])[0].text          # doctest: +SKIP
    """

    model: SeqModel
    alphabet: Alphabet
    metadata: dict[str, Any]
    path: Path | None = None

    @property
    def height(self) -> int:
        return int(self.metadata["input"]["height"])

    @classmethod
    def load(cls, name_or_path: str | Path) -> Recognizer:
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
        return cls(model.eval(), alphabet, meta, path)

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
            log_probs, lengths = self.model(images, widths)
            lp = log_probs.float().numpy()
            for row, i in enumerate(chunk):
                results.append((i, greedy_decode(lp[row], int(lengths[row]), self.alphabet)))
            if on_batch:
                on_batch(len(chunk))
        results.sort(key=lambda r: r[0])
        return iter(results)
