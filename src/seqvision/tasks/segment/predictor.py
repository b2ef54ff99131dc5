"""Inference for page segmenters: a page image in, its text lines (baselines, polygons, reading order) out.

>>> seg = Segmenter.load("runs/seg")                                   # doctest: +SKIP
>>> page = seg.predict([Image.open("letter.jpg")])[0]                   # doctest: +SKIP
>>> len(page.lines), page.lines[0].baseline[:2]                         # doctest: +SKIP
(23, [(442.0, 83.0), (466.0, 84.0)])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from PIL import Image

from seqvision.checkpoint import load_state
from seqvision.config import ModelConfig, from_dict
from seqvision.errors import CheckpointError, ConfigError, DataError
from seqvision.tasks.predictor import check_task
from seqvision.tasks.segment.data import ink, pad_to_multiple, scaled_page
from seqvision.tasks.segment.geometry import Segmentation
from seqvision.tasks.segment.model import SegmentModel, build_segmenter
from seqvision.tasks.segment.module import segment_page

MAX_PIXELS = 80_000_000  # a page larger than this (e.g. 10k x 8k) is refused before it is decoded into memory
TORCH_ONLY = "page segmenters run on the torch backend only (ONNX export of them is not supported yet)"


@dataclass
class Segmenter:
    """A model trained with ``--task segment``, ready to find the lines of pages."""

    task: ClassVar[str] = "segment"
    model: SegmentModel
    metadata: dict[str, Any]
    path: Path

    @classmethod
    def load(cls, name_or_path: str | Path, backend: str | None = None, threads: int = 0) -> Segmenter:
        """A bundled name, ``.safetensors`` file or run folder of a page segmenter (torch backend only)."""
        if backend not in (None, "torch") or str(name_or_path).endswith(".onnx"):
            raise ConfigError(TORCH_ONLY)
        tensors, meta, path = load_state(name_or_path)
        check_task(meta, path, cls.task)
        try:
            model = build_segmenter(from_dict(ModelConfig, meta["architecture"]))
            model.load_state_dict(tensors)
            int(meta["input"]["height"])
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise CheckpointError(
                f"{path}: model metadata or weights are corrupt ({str(exc).splitlines()[0][:120]})"
            ) from None
        if threads:
            torch.set_num_threads(threads)
        return cls(model.eval(), meta, path)

    @property
    def height(self) -> int:
        return int(self.metadata["input"]["height"])

    def maps(self, image: Image.Image) -> tuple[np.ndarray, float]:
        """``(2, h, w)`` baseline and line probabilities of one page, and the page's scale factor."""
        scaled, factor = scaled_page(image, self.height)
        arr = pad_to_multiple(ink(np.asarray(scaled)))
        with torch.inference_mode():
            logits = self.model(torch.from_numpy(arr[None, None].astype(np.float32)))
        return torch.sigmoid(logits.float())[0].numpy(), factor

    def predict(self, inputs: list[Image.Image]) -> list[Segmentation]:
        """The lines of each page image, in reading order; a blank page gives an empty segmentation."""
        out = []
        for image in inputs:
            if image.width * image.height > MAX_PIXELS:
                raise DataError(
                    f"page image of {image.width} x {image.height} pixels is too large (at most {MAX_PIXELS:,})"
                )
            probs, factor = self.maps(image)
            out.append(segment_page(probs, factor, image.size))
        return out

    def layout(self, image: Path | Image.Image, name: str | None = None) -> Callable[[str], bytes]:
        """Segment a page once (an image file, or a decoded image named ``name`` in the documents); the writer of
        its ``"page"`` (PAGE-XML) or ``"alto"`` document."""
        from seqvision.data.images import open_image
        from seqvision.tasks.segment.page_out import to_alto, to_page_xml

        if isinstance(image, Image.Image):
            (seg,) = self.predict([image])
        else:
            with open_image(image) as img:
                (seg,) = self.predict([img])
        file_name = name or (image.name if isinstance(image, Path) else "page.png")

        def write(kind: str) -> bytes:
            return (to_alto if kind == "alto" else to_page_xml)(seg, file_name)

        return write

    def to_json(self, record: Segmentation) -> dict[str, Any]:
        return record.to_json()
