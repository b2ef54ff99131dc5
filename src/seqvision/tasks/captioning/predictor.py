"""Inference for captioning models: load a saved model, caption photos in batches, draw attention maps.

Captions come from greedy search (``beam_width`` 1) or batched beam search with length
normalisation (:mod:`seqvision.tasks.captioning.search`). The attention of each written word is recomputed
by running the chosen words back through the decoder (teacher forcing gives the same weights as
decoding did), so greedy and beam search both have maps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from PIL import Image

from seqvision.errors import CheckpointError, ConfigError, SeqvisionError
from seqvision.nn.model import CaptionModel
from seqvision.tasks.captioning.captions import load_image
from seqvision.tasks.captioning.dataset import to_tensor
from seqvision.tasks.captioning.search import decode
from seqvision.tasks.captioning.vocab import Vocabulary
from seqvision.tasks.predictor import load_network


@dataclass
class Caption:
    """One photo's caption, and per word a ``(grid, grid)`` attention map summing to 1."""

    text: str
    words: list[str]
    attention: np.ndarray  # (words, G, G)


@dataclass
class Captioner:
    """A captioning model ready to describe photos.

    >>> cap = Captioner.load("runs/flickr")                         # doctest: +SKIP
    >>> cap.caption([Path("dog.jpg")], beam_width=3)[0].text        # doctest: +SKIP
    """

    task: ClassVar[str] = "captioning"
    model: CaptionModel
    vocab: Vocabulary
    metadata: dict[str, Any]
    path: Path

    @classmethod
    def load(cls, name_or_path: str | Path, backend: str | None = "torch", threads: int = 0) -> Captioner:
        """A ``.safetensors`` file or run folder of a captioning model (torch backend only)."""
        if str(name_or_path).endswith(".onnx") or backend not in (None, "torch"):
            raise ConfigError(f"{name_or_path}: captioning models run on the torch backend only (no ONNX export yet)")
        if threads > 0:
            torch.set_num_threads(threads)

        model, meta, path, _ = load_network(
            name_or_path,
            "torch",
            threads,
            classes=lambda meta: len(Vocabulary(list(meta["vocabulary"]))),
            export=lambda model, meta: b"",  # never called on the torch backend
            task="captioning",
        )
        vocab = Vocabulary(list(meta["vocabulary"]))  # load_network has already built it once for the head size
        if not isinstance(model, CaptionModel):
            raise CheckpointError(f"{path}: metadata does not describe an image model")
        captioner = cls(model, vocab, meta, path)
        try:  # the metadata read later (photo size, caption length) must be usable now, not mid-way through a job
            if captioner.size < 1 or captioner.max_words < 1:
                raise ValueError(f"input {meta['input']}, decoding {meta.get('decoding')}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CheckpointError(f"{path}: model metadata is corrupt ({str(exc).splitlines()[0][:120]})") from None
        return captioner

    @property
    def size(self) -> int:
        return int(self.metadata["input"]["height"])

    @property
    def max_words(self) -> int:
        return int(self.metadata.get("decoding", {}).get("max_words", 20))

    @torch.no_grad()
    def caption_arrays(self, images: list[np.ndarray], beam_width: int = 1, length_norm: float = 1.0) -> list[Caption]:
        """Captions of uint8 ``(3, S, S)`` photos, one batch."""
        batch = to_tensor(images)
        cells = self.model.cells(batch)  # (B, N, C)
        ids = decode(self.model.head, cells, Vocabulary.bos, Vocabulary.eos, self.max_words, beam_width, length_norm)
        grid = self.model.encoder.grid  # type: ignore[union-attr]
        out = []
        for b, words in enumerate(ids):
            inputs = torch.tensor([[Vocabulary.bos, *words]])
            _, alphas = self.model.head(cells[b : b + 1], inputs)  # (1, n+1, N); the last step writes <eos>
            maps = alphas[0, : len(words)].reshape(len(words), grid, grid).numpy()
            text = self.vocab.decode(words)
            out.append(Caption(text, [self.vocab.words[i] for i in words], maps))
        return out

    def predict(
        self, inputs: list[Path], batch_size: int = 16, beam_width: int = 1, length_norm: float = 1.0
    ) -> list[Caption]:
        """Caption photos; raises on the first unreadable one (see :meth:`caption_many` to skip them)."""
        out = []
        for _, outcome in self.caption_many(list(inputs), batch_size, beam_width, length_norm):
            if isinstance(outcome, SeqvisionError):
                raise outcome
            out.append(outcome)
        return out

    @staticmethod
    def to_json(record: Caption) -> dict[str, Any]:
        """The caption and its words (the attention maps stay out: ``caption --attention`` draws them)."""
        return {"caption": record.text, "words": list(record.words)}

    def caption_many(
        self, paths: list[Path], batch_size: int = 16, beam_width: int = 1, length_norm: float = 1.0
    ) -> Iterator[tuple[int, Caption | SeqvisionError]]:
        """``(index, caption)`` per photo in order; an unreadable photo gives its error instead."""
        for start in range(0, len(paths), max(1, batch_size)):
            chunk, images = [], []
            for i in range(start, min(start + batch_size, len(paths))):
                try:
                    images.append(load_image(paths[i], self.size))
                    chunk.append(i)
                except SeqvisionError as exc:
                    yield i, exc
            if images:
                yield from zip(chunk, self.caption_arrays(images, beam_width, length_norm), strict=True)


def save_attention(image_path: Path, caption: Caption, out_dir: Path, size: int = 224) -> list[Path]:
    """One PNG per word: the photo with that word's attention map laid over it in red (brighter = more weight)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with Image.open(image_path) as im:
        photo = im.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
    written = []
    for n, (word, alpha) in enumerate(zip(caption.words, caption.attention, strict=True)):
        heat = Image.fromarray((255 * alpha / max(float(alpha.max()), 1e-8)).astype(np.uint8))
        heat = heat.resize((size, size), Image.Resampling.BILINEAR)
        red = Image.new("RGB", (size, size), (255, 0, 0))
        mask = heat.point(lambda v: int(v * 0.6))
        overlay = Image.composite(red, photo, mask)
        safe = "".join(ch if ch.isalnum() else "_" for ch in word)
        path = out_dir / f"{image_path.stem}_{n:02d}_{safe}.png"
        overlay.save(path)
        written.append(path)
    return written
