"""``POST /v1/read/page``: one page image in; its lines found by the page segmenter and read in reading order.

The segmenter loads with the app (``seqvision serve --segmenter lines-seg``, the default); when it
cannot, this endpoint answers ``503 no_segmenter`` with the reason and the rest of the service
works. The text models are the served ones: without ``model`` each page is read by the one most
confident on a sample of its lines. Reading goes through the task that reads pages
(:meth:`~seqvision.tasks.base.Task.page_reader`), so this module names no task.

A page costs seconds where a line costs milliseconds, so pages have their own small pool of
``page_workers`` threads (they would hold every line worker for that long otherwise) behind the
same bounds as lines: at most ``queue`` pages wait, and a page still waiting at the deadline gets
``503``, one still running ``504`` (its worker finishes first, so the bound on concurrent work holds).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from seqvision.errors import SeqvisionError
from seqvision.serving.config import ServeConfig
from seqvision.serving.errors import ApiError, invalid
from seqvision.serving.uploads import Upload, decode_image

log = logging.getLogger("seqvision.serve")
NO_SEGMENTER = "no page segmenter on this server (start it with --segmenter NAME, e.g. lines-seg)"


class Pages:
    """The page segmenter and a page reader over the served text models, on their own bounded pool."""

    def __init__(self, models: dict[str, Any], config: ServeConfig, segmenter: str | Path | Any | None):
        self.models, self.config = models, config
        self.reader: Any = None
        self.segmenter: str | None = None  # its name, once loaded
        self.problem: str | None = NO_SEGMENTER  # why pages cannot be read (None once they can)
        self.running = self.waiting = 0
        self._pool: ThreadPoolExecutor | None = None
        self._slots: asyncio.Semaphore | None = None
        if segmenter is not None and not models:
            self.problem = "no text-line model on this server to read the lines of a page"
        elif segmenter is not None:
            self._load(segmenter)

    def _load(self, segmenter: str | Path | Any) -> None:
        from seqvision.tasks import all_tasks
        from seqvision.tasks.predictor import load_predictor

        given = isinstance(segmenter, str | Path)
        label = str(segmenter) if given else str(getattr(segmenter, "path", None) or type(segmenter).__name__)
        try:
            loaded = load_predictor(str(segmenter), "torch", 0) if given else segmenter
            layout = getattr(loaded, "layout", None)
            if layout is None:
                raise SeqvisionError(f"{label}: not a page segmenter (train one with --task segment)")
            task = next(task for task in all_tasks() if task.reads_pages)
            self.reader = task.page_reader(self.models, layout, self.config.batch)
        except SeqvisionError as exc:
            self.problem = f"the page segmenter did not load: {exc}"
            log.warning("POST /v1/read/page is off: %s", self.problem)
            return
        self.segmenter = Path(label).stem if Path(label).suffix == ".safetensors" else Path(label).name
        self.problem = None

    # -- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> None:
        workers = self.config.page_workers
        self._pool = ThreadPoolExecutor(workers, "seqvision-page", initializer=self._worker_init)
        self._slots = asyncio.Semaphore(workers)

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._slots = None

    def _worker_init(self) -> None:
        if (torch := sys.modules.get("torch")) is not None:
            torch.set_num_threads(self.config.threads)

    # -- requests -------------------------------------------------------------------------------------------
    async def read(self, upload: Upload, model: str | None, kinds: tuple[str, ...]) -> tuple[Any, float]:
        """The page read (``PageText``) and the milliseconds it waited for a worker."""
        if self.reader is None:
            raise ApiError(503, "no_segmenter", self.problem or NO_SEGMENTER)
        if model is not None and model not in self.models:
            raise ApiError(404, "unknown_model", f"no model {model!r} here; served: {', '.join(self.models)}")
        if self._pool is None or self._slots is None:
            raise RuntimeError("Pages.start() was not called (run the app with its lifespan)")
        cfg, slots, pool = self.config, self._slots, self._pool
        busy = {"Retry-After": str(cfg.retry_after)}
        if self.running >= cfg.page_workers and self.waiting >= cfg.queue:
            raise ApiError(
                503, "busy", f"server busy: {self.running} page(s) being read and {self.waiting} waiting", busy
            )
        arrived = time.perf_counter()
        self.waiting += 1
        try:
            await asyncio.wait_for(slots.acquire(), cfg.timeout)
        except TimeoutError:
            raise ApiError(503, "busy", f"server busy: no page worker free within {cfg.timeout:g} s", busy) from None
        finally:
            self.waiting -= 1
        queued = time.perf_counter() - arrived
        self.running += 1
        future = asyncio.wrap_future(pool.submit(self._work, upload, model, kinds))

        def done(_: object) -> None:  # only when the worker is really free again, even after a 504
            self.running -= 1
            slots.release()

        future.add_done_callback(done)
        try:
            result = await asyncio.wait_for(asyncio.shield(future), max(cfg.timeout - queued, 0.001))
        except TimeoutError:
            raise ApiError(504, "timeout", f"reading the page took longer than {cfg.timeout:g} s") from None
        return result, 1000 * queued

    def _work(self, upload: Upload, model: str | None, kinds: tuple[str, ...]) -> Any:
        image = decode_image(upload, self.config.max_pixels)
        try:
            return self.reader.read(image, kinds, name=upload.name, model=model)
        except SeqvisionError as exc:
            raise invalid(f"{upload.name}: {exc}") from None

    def stats(self) -> dict[str, Any]:
        return {"segmenter": self.segmenter, "page_workers": self.config.page_workers, "problem": self.problem}
