"""What a worker does with a batch of line jobs: decode and normalise the images, one forward pass per group of
similar widths, CTC decoding with the worker's own decoders (a beam search keeps state).

Only lines of similar width share one forward pass (padding a one-word line to an 80-character one
costs more than batching saves): timing the model alone on this project's 2-core machine, such
groups cost print-en 10-20 % less per line than batch 1, and batches of random widths up to 50 % more.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from seqvision.serving.config import ServeConfig
from seqvision.serving.errors import ApiError, invalid
from seqvision.serving.models import LineModel
from seqvision.serving.uploads import Upload, decode_image

if TYPE_CHECKING:
    from seqvision.serving.jobs import Job

Decoder = Callable[[np.ndarray, int], Any]  # (log_probs (T, K), length) -> decoded line

DECODERS_PER_WORKER = 16  # most recently used (model, beam width, LM) decoders each worker keeps
WIDTH_RATIO = 1.5  # lines share a forward pass only if the widest is at most this much wider than the narrowest


@dataclass
class Line:
    """One recognised image: its label, its size and the decoded text with positions in its pixels."""

    name: str
    width: int
    height: int
    decoded: Any  # the model's decoded line: text, confidences, char_spans(), words()


@dataclass
class Timing:
    queue_ms: float = 0.0  # waiting for a worker
    image_ms: float = 0.0  # decoding and normalising the images of the whole batch
    model_ms: float = 0.0  # the network and CTC decoding of the whole batch
    batch_lines: int = 0  # lines recognised together with this request's (in passes of similar width)


@dataclass(frozen=True)
class DecoderSpec:
    """A request's decoding: greedy, or beam search of ``beam_width`` with an optional LM file."""

    kind: str = "greedy"
    beam_width: int = 1
    lm: str | None = None
    lm_weight: float = 0.8
    bonus: float = 2.0


class LineWork:
    """Called on a worker thread with jobs for one model and one decoder; every thread keeps its own decoders."""

    def __init__(self, models: dict[str, LineModel], config: ServeConfig):
        self.models, self.config = models, config
        self._local = threading.local()

    def _decoder(self, name: str, rec: LineModel, spec: DecoderSpec) -> Decoder:
        cache: OrderedDict[tuple, Decoder] | None = getattr(self._local, "decoders", None)
        if cache is None:
            cache = self._local.decoders = OrderedDict()
        key = (name, spec.kind, spec.beam_width, spec.lm)
        decode = cache.get(key)
        if decode is None:
            decode = cache[key] = rec.new_decoder(spec.kind, spec.beam_width, spec.lm, spec.lm_weight, spec.bonus)
            while len(cache) > DECODERS_PER_WORKER:
                cache.popitem(last=False)
        cache.move_to_end(key)
        return decode

    def _images(self, rec: LineModel, uploads: list[Upload]) -> list[tuple[Upload, int, int, np.ndarray]]:
        """Decode, check and normalise one request's images; the pixel budget covers all of them."""
        cfg = self.config
        budget, out = cfg.max_pixels, []
        for upload in uploads:
            img = decode_image(upload, budget, cfg.max_pixels)
            budget -= img.width * img.height
            scaled = round(img.width * rec.height / img.height)
            if scaled > cfg.max_width:
                raise invalid(
                    f"{upload.name}: {img.width}x{img.height} is {scaled} px wide at the model's height of "
                    f"{rec.height} px (limit {cfg.max_width}); send one text line per image"
                )
            out.append((upload, img.width, img.height, rec.prepare(img)))
        return out

    def __call__(self, batch: list[Job]) -> list[tuple[list[Line], Timing] | ApiError]:
        """One forward pass for all lines of ``batch`` (one model, one decoder); a bad image fails only its own job."""
        name, spec = batch[0].name, batch[0].spec
        rec = self.models[name]
        start = time.perf_counter()
        prepared: list[list[tuple[Upload, int, int, np.ndarray]] | ApiError] = []
        for job in batch:
            try:
                prepared.append(self._images(rec, job.uploads))
            except ApiError as exc:
                prepared.append(exc)
        arrays = [a for p in prepared if not isinstance(p, ApiError) for *_, a in p]
        images_done = time.perf_counter()
        log_probs = iter(forward(rec, arrays, self.config.batch))
        decode = self._decoder(name, rec, spec)
        lines: list[list[Line] | ApiError] = []
        for p in prepared:
            if isinstance(p, ApiError):
                lines.append(p)
                continue
            lines.append([])
            for upload, width, height, _ in p:
                lp = next(log_probs)
                decoded = decode(lp, len(lp))
                decoded.width = float(width)
                lines[-1].append(Line(upload.name, width, height, decoded))  # type: ignore[union-attr]
        done = time.perf_counter()
        timing = (1000 * (images_done - start), 1000 * (done - images_done), len(arrays))
        return [r if isinstance(r, ApiError) else (r, Timing(0.0, *timing)) for r in lines]


def forward(rec: LineModel, arrays: list[np.ndarray], batch: int) -> list[np.ndarray]:
    """Log-probabilities of normalised lines, in input order, from passes of up to ``batch`` lines of similar width."""
    order = sorted(range(len(arrays)), key=lambda i: arrays[i].shape[1])
    groups: list[list[int]] = []
    for i in order:
        group = groups[-1] if groups else None
        if group and len(group) < batch and arrays[i].shape[1] <= WIDTH_RATIO * arrays[group[0]].shape[1]:
            group.append(i)
        else:
            groups.append([i])
    out: list[np.ndarray] = [np.zeros(0)] * len(arrays)
    for group in groups:
        for i, lp in zip(group, rec.log_probs([arrays[i] for i in group], len(group)), strict=True):
            out[i] = lp
    return out
