"""A request's work as the worker pool queues it (:class:`Job`), and what a worker does with a batch of jobs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from seqvision.serving.uploads import Upload

Work = Callable[[list["Job"]], list[Any]]  # on a worker: a result per job, or the ApiError that fails only that job


@dataclass(eq=False)
class Job:
    """One request's work: its model, its options, its uploads, and the future its handler awaits.

    Jobs of one ``key`` (model and options: a decoder spec, a clip top-k) share a batch, which ``work``
    answers on a worker.
    """

    name: str
    spec: Any
    uploads: list[Upload]
    future: asyncio.Future
    work: Work
    queued_at: float = field(default_factory=time.perf_counter)
    waited: float = 0.0  # seconds from arrival to a worker
    abandoned: bool = False  # the handler answered 503/504 and no longer waits

    @property
    def key(self) -> tuple:
        return (self.name, self.spec)
