"""Models loaded once and shared, inference on a bounded worker pool, a bounded queue in front of it.

The event loop only parses requests and awaits; decoding images, the network and CTC decoding run
on ``workers`` threads (torch and onnxruntime release the GIL while they compute). A request that
finds every worker busy waits, FIFO, in a queue of ``queue`` places; when the queue is full it is
refused at once with ``503`` and ``Retry-After``, and one still waiting at its deadline gets the
same. A request whose inference outlives the deadline gets ``504``; its worker finishes and is
only then free again, so the bound on concurrent work always holds.

The network is shared by all workers (its forward pass is re-entrant); decoders are not (a beam
search keeps state), so every worker thread keeps its own, made on first use.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch

from seqvision.decoding.beam import Decoder, DecoderSpec, make_decoder
from seqvision.decoding.ctc import Decoded
from seqvision.errors import ConfigError
from seqvision.recognizer import Recognizer
from seqvision.serving.config import ServeConfig
from seqvision.serving.errors import ApiError, invalid
from seqvision.serving.uploads import Upload, decode_image

T = TypeVar("T")
DECODERS_PER_WORKER = 16  # most recently used (model, beam width, LM) decoders each worker keeps


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


@dataclass
class Line:
    """One recognised image: its label, its size and the decoded text with positions in its pixels."""

    name: str
    width: int
    height: int
    decoded: Decoded


@dataclass
class JobTiming:
    image_ms: float
    model_ms: float


class Engine:
    """The served models, the worker pool and its queue."""

    def __init__(self, models: dict[str, Recognizer], config: ServeConfig):
        if not models:
            raise ConfigError("no model to serve")
        self.models, self.config = models, config
        self.default = next(iter(models))
        self.beam = beam_available()
        self.running = 0  # jobs on a worker
        self.waiting = 0  # requests queued for one
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        for name, lm in config.lms.items():  # read every LM now: a bad file stops the server, not a request
            if not name:
                raise ConfigError(f"--lm {lm}: give it a name, NAME=PATH")
            if not self.beam:
                raise ConfigError("--lm needs beam search: pip install 'seqvision[lm]'")
            for rec in models.values():
                make_decoder(self._spec("beam", 1, lm), rec.alphabet, rec.temperature)

    # -- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Create the pool and the queue on the running event loop (the app's startup)."""
        self._loop = asyncio.get_running_loop()
        self._slots = asyncio.Semaphore(self.config.workers)
        self._pool = ThreadPoolExecutor(self.config.workers, "seqvision-serve", initializer=self._worker_init)

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._slots = self._loop = None

    def _worker_init(self) -> None:
        torch.set_num_threads(self.config.threads)

    # -- requests -------------------------------------------------------------------------------------------
    def model(self, name: str | None) -> tuple[str, Recognizer]:
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

    async def submit(self, job: Callable[[], T]) -> tuple[T, float]:
        """Run ``job`` on a worker once one is free; returns its result and the seconds spent queued."""
        if self._slots is None or self._pool is None or self._loop is None:
            raise RuntimeError("Engine.start() was not called (run the app with its lifespan)")
        cfg, slots, started = self.config, self._slots, time.perf_counter()
        busy = {"Retry-After": str(cfg.retry_after)}
        if slots.locked() and self.waiting >= cfg.queue:
            raise ApiError(503, "busy", f"server busy: {cfg.workers} running and {cfg.queue} waiting", busy)
        self.waiting += 1
        try:
            await asyncio.wait_for(slots.acquire(), cfg.timeout)
        except TimeoutError:
            raise ApiError(503, "busy", f"server busy: no worker free within {cfg.timeout:g} s", busy) from None
        finally:
            self.waiting -= 1
        queued = time.perf_counter() - started
        self.running += 1
        future: asyncio.Future[T] = asyncio.wrap_future(self._pool.submit(job))
        future.add_done_callback(self._release)  # on the loop, when the worker is really done
        try:
            result = await asyncio.wait_for(asyncio.shield(future), cfg.timeout - queued)
        except TimeoutError:
            raise ApiError(504, "timeout", f"recognition took longer than {cfg.timeout:g} s") from None
        return result, queued

    def _release(self, future: asyncio.Future) -> None:
        if not future.cancelled():
            future.exception()  # retrieved here, so a job that outlived its request logs no warning
        self.running -= 1
        if self._slots is not None:
            self._slots.release()

    # -- work on a worker thread ----------------------------------------------------------------------------
    def _decoder(self, name: str, rec: Recognizer, spec: DecoderSpec) -> Decoder:
        cache: OrderedDict[tuple, Decoder] | None = getattr(self._local, "decoders", None)
        if cache is None:
            cache = self._local.decoders = OrderedDict()
        key = (name, spec.kind, spec.beam_width, spec.lm)
        decode = cache.get(key)
        if decode is None:
            decode = cache[key] = make_decoder(spec, rec.alphabet, rec.temperature)
            while len(cache) > DECODERS_PER_WORKER:
                cache.popitem(last=False)
        cache.move_to_end(key)
        return decode

    def read(self, name: str, spec: DecoderSpec, uploads: list[Upload]) -> tuple[list[Line], JobTiming]:
        """Decode, check and recognise images (runs on a worker); the pixel budget covers all of them."""
        _, rec = self.model(name)
        cfg = self.config
        start = time.perf_counter()
        budget, images = cfg.max_pixels, []
        for upload in uploads:
            img = decode_image(upload, budget, cfg.max_pixels)
            budget -= img.width * img.height
            scaled = round(img.width * rec.height / img.height)
            if scaled > cfg.max_width:
                raise invalid(
                    f"{upload.name}: {img.width}x{img.height} is {scaled} px wide at the model's height of "
                    f"{rec.height} px (limit {cfg.max_width}); send one text line per image"
                )
            images.append(img)
        arrays = [rec.prepare(img) for img in images]
        prepared = time.perf_counter()
        decode = self._decoder(name, rec, spec)
        lines = []
        for upload, img, lp in zip(uploads, images, rec.log_probs(arrays), strict=True):
            decoded = decode(lp, len(lp))
            decoded.width = float(img.width)
            lines.append(Line(upload.name, img.width, img.height, decoded))
        done = time.perf_counter()
        return lines, JobTiming(1000 * (prepared - start), 1000 * (done - prepared))

    def stats(self) -> dict[str, Any]:
        cfg = self.config
        return {"workers": cfg.workers, "running": self.running, "waiting": self.waiting, "queue": cfg.queue}
