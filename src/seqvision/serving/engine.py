"""Models loaded once and shared, inference on a bounded worker pool behind a bounded queue, with batching.

The event loop only parses requests and awaits; decoding images and clips, the networks and CTC
decoding run on ``workers`` threads (torch and onnxruntime release the GIL while they compute). A
request that finds every worker busy waits, FIFO, in a queue of ``queue`` places; when the queue is
full it is refused at once with ``503`` and ``Retry-After``, and one still waiting at its deadline
gets the same. A request whose inference outlives the deadline gets ``504``; its worker finishes
and is only then free again, so the bound on concurrent work always holds.

When a worker comes free it takes the oldest waiting request and, with it, the other waiting
requests for the same model and options (decoder; top-k), up to ``batch`` lines or clips: under
load, inputs from many clients share forward passes, and an idle server still answers a lone
request at once. What a worker does with such a batch belongs to the kind of model: text lines
(:class:`~seqvision.serving.line_work.LineWork`) or clips (:class:`~seqvision.serving.clip_work.ClipWork`).

The networks are shared by all workers (their forward pass is re-entrant); decoders are not (a beam
search keeps state), so every worker thread keeps its own, made on first use.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from seqvision.errors import ConfigError
from seqvision.serving.clip_work import ClipWork
from seqvision.serving.config import ServeConfig
from seqvision.serving.errors import ApiError, invalid
from seqvision.serving.jobs import Job, Work
from seqvision.serving.line_work import DecoderSpec, Line, LineWork, Timing
from seqvision.serving.models import ClipModel, LineModel, beam_available, check_kind, kind_of, wrong_model
from seqvision.serving.uploads import Upload


class Engine:
    """The served models, the worker pool and its queue."""

    def __init__(self, models: dict[str, Any], config: ServeConfig):
        """``models``: name -> a loaded text-line or clip model, in order (the first of each kind is its default)."""
        if not models:
            raise ConfigError("no model to serve")
        for name, rec in models.items():
            check_kind(rec, name)  # anything else is refused now, in one line
        self.models, self.config = models, config
        self.lines: dict[str, LineModel] = {n: m for n, m in models.items() if isinstance(m, LineModel)}
        self.clips: dict[str, ClipModel] = {n: m for n, m in models.items() if n not in self.lines}
        self.default, self.default_clip = next(iter(self.lines), None), next(iter(self.clips), None)
        self.beam = beam_available()
        self.running = 0  # batches on a worker
        self._pending: deque[Job] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._line_work, self._clip_work = LineWork(self.lines, config), ClipWork(self.clips, config)
        for name, lm in config.lms.items():  # read every LM now: a bad file stops the server, not a request
            if not name:
                raise ConfigError(f"--lm {lm}: give it a name, NAME=PATH")
            if not self.beam:
                raise ConfigError("--lm needs beam search: pip install 'seqvision[lm]'")
            for rec in self.lines.values():
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
        """The text-line model called ``name`` (None: the default one)."""
        return self._find(name, self.default, self.lines, "text-line")

    def clip_model(self, name: str | None) -> tuple[str, ClipModel]:
        """The clip model called ``name`` (None: the default one)."""
        return self._find(name, self.default_clip, self.clips, "clip")

    def _find(self, name: str | None, default: str | None, kind: dict[str, Any], title: str) -> Any:
        """``(name, model)`` from ``kind``; a model of the other kind, or none of this kind, is ``422 wrong_model``."""
        name = name or default
        if name is None:
            raise wrong_model(f"this server has no {title} model (it serves {', '.join(self.models)})")
        if name in kind:
            return name, kind[name]
        if name in self.models:
            route = "line images to /v1/read" if title == "clip" else "clips to /v1/clips"
            raise wrong_model(f"{name} is {kind_of(self.models[name])}, not a {title} model; send {route}")
        raise ApiError(404, "unknown_model", f"no model {name!r} here; served: {', '.join(self.models)}")

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
        return await self._run(name, spec, uploads, self._line_work)

    async def classify(self, name: str, top_k: int, uploads: list[Upload]) -> tuple[list[dict[str, Any]], Any]:
        """Each clip's record (JSON values) from clip model ``name``, and the timing, once a worker is free."""
        return await self._run(name, top_k, uploads, self._clip_work)

    async def _run(self, name: str, spec: Any, uploads: list[Upload], work: Work) -> Any:
        if self._loop is None or self._pool is None:
            raise RuntimeError("Engine.start() was not called (run the app with its lifespan)")
        cfg = self.config
        busy = {"Retry-After": str(cfg.retry_after)}
        if self.running >= cfg.workers and len(self._pending) >= cfg.queue:
            raise ApiError(503, "busy", f"server busy: {cfg.workers} running and {cfg.queue} waiting", busy)
        job = Job(name, spec, uploads, self._loop.create_future(), work)
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
            future = asyncio.wrap_future(self._pool.submit(first.work, batch))
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

    def stats(self) -> dict[str, Any]:
        cfg = self.config
        return {"workers": cfg.workers, "running": self.running, "waiting": self.waiting, "queue": cfg.queue}
