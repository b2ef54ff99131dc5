"""Models loaded once and shared, inference on a bounded worker pool behind a bounded queue, with batching.

The event loop only parses requests and awaits; decoding images, the network and CTC decoding run
on ``workers`` threads (torch and onnxruntime release the GIL while they compute). A request that
finds every worker busy waits, FIFO, in a queue of ``queue`` places; when the queue is full it is
refused at once with ``503`` and ``Retry-After``, and one still waiting at its deadline gets the
same. A request whose inference outlives the deadline gets ``504``; its worker finishes and is
only then free again, so the bound on concurrent work always holds.

When a worker comes free it takes the oldest waiting request and, with it, the other waiting
requests for the same model and decoder, up to ``batch`` lines: under load, lines from many
clients share forward passes, and an idle server still answers a lone request at once. Only
lines of similar width share one (padding a one-word line to an 80-character one costs more
than batching saves): timing the model alone on this project's 2-core machine, such groups cost
print-en 10-20 % less per line than batch 1, and batches of random widths up to 50 % more.

The network is shared by all workers (its forward pass is re-entrant); decoders are not (a beam
search keeps state), so every worker thread keeps its own, made on first use.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from seqvision.errors import ConfigError
from seqvision.serving.config import ServeConfig
from seqvision.serving.errors import ApiError, invalid
from seqvision.serving.models import LineModel, beam_available
from seqvision.serving.uploads import Upload, decode_image

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


@dataclass(eq=False)
class Job:
    """One request's work: its lines, its decoder, and the future its handler awaits."""

    name: str
    spec: DecoderSpec
    uploads: list[Upload]
    future: asyncio.Future
    queued_at: float = field(default_factory=time.perf_counter)
    waited: float = 0.0  # seconds from arrival to a worker
    abandoned: bool = False  # the handler answered 503/504 and no longer waits

    @property
    def key(self) -> tuple:
        return (self.name, self.spec.kind, self.spec.beam_width, self.spec.lm)


class Engine:
    """The served models, the worker pool and its queue."""

    def __init__(self, models: dict[str, LineModel], config: ServeConfig):
        if not models:
            raise ConfigError("no model to serve")
        self.models, self.config = models, config
        self.default = next(iter(models))
        self.beam = beam_available()
        self.running = 0  # batches on a worker
        self._pending: deque[Job] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        for name, lm in config.lms.items():  # read every LM now: a bad file stops the server, not a request
            if not name:
                raise ConfigError(f"--lm {lm}: give it a name, NAME=PATH")
            if not self.beam:
                raise ConfigError("--lm needs beam search: pip install 'seqvision[lm]'")
            for rec in models.values():
                rec.new_decoder("beam", 1, lm, config.lm_weight, config.lm_bonus)

    @property
    def waiting(self) -> int:
        return len(self._pending)

    # -- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Create the pool on the running event loop (the app's startup)."""
        self._loop = asyncio.get_running_loop()
        self._pool = ThreadPoolExecutor(self.config.workers, "seqvision-serve", initializer=self._worker_init)

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._loop = None

    def _worker_init(self) -> None:
        if (torch := sys.modules.get("torch")) is not None:  # a torch-backend model (onnx sessions have theirs)
            torch.set_num_threads(self.config.threads)

    # -- requests -------------------------------------------------------------------------------------------
    def model(self, name: str | None) -> tuple[str, LineModel]:
        name = name or self.default
        rec = self.models.get(name)
        if rec is None:
            raise ApiError(404, "unknown_model", f"no model {name!r} here; served: {', '.join(self.models)}")
        return name, rec

    def _spec(self, kind: str, beam_width: int, lm: str | None) -> DecoderSpec:
        cfg = self.config
        return DecoderSpec(kind, beam_width, lm, cfg.lm_weight, cfg.lm_bonus)

    def decoder_spec(self, kind: str | None, beam_width: int, lm: str | None) -> DecoderSpec:
        """A client's decoder choice, checked: greedy, or beam up to ``max_beam_width`` with an LM by name."""
        kind = kind or ("beam" if lm else "greedy")
        if kind == "greedy":
            if lm:
                raise invalid("an LM needs decoder 'beam'")
            return self._spec("greedy", 1, None)
        if kind != "beam":
            raise invalid(f"unknown decoder {kind!r}; choose greedy or beam")
        if not self.beam:
            raise invalid("beam search is not available on this server (flashlight-text is not installed)")
        if not 1 <= beam_width <= self.config.max_beam_width:
            raise invalid(f"beam_width must be between 1 and {self.config.max_beam_width}, got {beam_width}")
        if lm is not None and lm not in self.config.lms:
            offered = ", ".join(self.config.lms) or "none"
            raise invalid(f"no language model {lm!r} here; offered: {offered}")
        return self._spec("beam", beam_width, self.config.lms[lm] if lm else None)

    async def read(self, name: str, spec: DecoderSpec, uploads: list[Upload]) -> tuple[list[Line], Timing]:
        """Recognise ``uploads`` with model ``name`` once a worker is free (refused with 503 when the queue is full)."""
        if self._loop is None or self._pool is None:
            raise RuntimeError("Engine.start() was not called (run the app with its lifespan)")
        cfg = self.config
        busy = {"Retry-After": str(cfg.retry_after)}
        if self.running >= cfg.workers and len(self._pending) >= cfg.queue:
            raise ApiError(503, "busy", f"server busy: {cfg.workers} running and {cfg.queue} waiting", busy)
        job = Job(name, spec, uploads, self._loop.create_future())
        self._pending.append(job)
        self._dispatch()
        try:
            return await asyncio.wait_for(asyncio.shield(job.future), cfg.timeout)
        except asyncio.CancelledError:  # the handler was cancelled (server shutting down): nobody waits any more
            job.abandoned = True
            if job in self._pending:
                self._pending.remove(job)
            raise
        except TimeoutError:
            job.abandoned = True
            if job in self._pending:
                self._pending.remove(job)
                raise ApiError(503, "busy", f"server busy: no worker free within {cfg.timeout:g} s", busy) from None
            raise ApiError(504, "timeout", f"recognition took longer than {cfg.timeout:g} s") from None

    def _dispatch(self) -> None:
        """Start waiting jobs on free workers: the oldest, plus later ones it can share a forward pass with."""
        while self._pool is not None and self.running < self.config.workers and self._pending:
            first = self._pending.popleft()
            batch, lines = [first], len(first.uploads)
            for job in list(self._pending):
                if job.key == first.key and lines + len(job.uploads) <= self.config.batch:
                    batch.append(job)
                    lines += len(job.uploads)
                    self._pending.remove(job)
            self.running += 1
            started = time.perf_counter()
            for job in batch:
                job.waited = started - job.queued_at
            future = asyncio.wrap_future(self._pool.submit(self._work, batch))
            future.add_done_callback(partial(self._finished, batch))

    def _finished(self, batch: list[Job], future: asyncio.Future) -> None:
        """On the loop, when a worker is really done: hand each job its result, then start the next."""
        self.running -= 1
        error = future.exception() if not future.cancelled() else RuntimeError("worker cancelled")
        results = future.result() if error is None else [error] * len(batch)
        for job, result in zip(batch, results, strict=True):
            if job.abandoned or job.future.done():
                continue
            if isinstance(result, BaseException):
                job.future.set_exception(result)
            else:
                result[1].queue_ms = 1000 * job.waited
                job.future.set_result(result)
        self._dispatch()

    # -- work on a worker thread ----------------------------------------------------------------------------
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

    def _work(self, batch: list[Job]) -> list[tuple[list[Line], Timing] | ApiError]:
        """One forward pass for all lines of ``batch`` (one model, one decoder); a bad image fails only its own job."""
        _, rec = self.model(batch[0].name)
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
        decode = self._decoder(batch[0].name, rec, batch[0].spec)
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

    def stats(self) -> dict[str, Any]:
        cfg = self.config
        return {"workers": cfg.workers, "running": self.running, "waiting": self.waiting, "queue": cfg.queue}


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
