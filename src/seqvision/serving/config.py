"""Limits and capacity of the service, set by the operator (``seqvision serve`` flags), never by clients."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from seqvision.errors import ConfigError


@dataclass
class ServeConfig:
    """Capacity, limits and decoding choices of one server.

    Args:
        workers: Inference threads; requests beyond them wait in the queue (0: one per core).
        threads: Compute threads per inference (torch intra-op / onnxruntime); workers x threads ~ cores.
        queue: Requests that may wait for a worker; one more gets ``503`` with ``Retry-After``.
        batch: Most lines in one forward pass: waiting requests for the same model and decoder share one (1: never).
        timeout: Seconds a request may take, waiting and running; waiting past it gives ``503``, running ``504``.
        max_upload_bytes: Upload bytes per request (all images or clips together; base64 counts decoded).
        max_pixels: Image pixels per request (all images together), checked from the header before decoding.
        max_width: Widest line in pixels once scaled to the model's input height.
        max_lines: Images per batch request.
        max_clips: Clips per ``/v1/clips`` request.
        max_beam_width: Largest ``beam_width`` a client may ask for.
        page_workers: Pages read at once (``/v1/read/page``, each on its own thread); more wait in a queue of ``queue``.
        lms: Language models clients may choose by name: name -> ARPA file (read once, at start).
        lm_weight: Weight of the LM for every named LM.
        lm_bonus: Insertion bonus that goes with it.
        retry_after: Seconds suggested in ``Retry-After`` when the server is busy.
    """

    workers: int = 0
    threads: int = 1
    queue: int = 64
    batch: int = 16
    timeout: float = 30.0
    max_upload_bytes: int = 10 * 2**20
    max_pixels: int = 16_000_000
    max_width: int = 8192
    max_lines: int = 64
    max_clips: int = 8
    max_beam_width: int = 64
    page_workers: int = 1
    lms: dict[str, str] = field(default_factory=dict)
    lm_weight: float = 0.8
    lm_bonus: float = 2.0
    retry_after: int = 1

    def __post_init__(self) -> None:
        self.workers = self.workers or os.cpu_count() or 1
        for name in (
            "workers",
            "threads",
            "batch",
            "max_upload_bytes",
            "max_pixels",
            "max_width",
            "max_lines",
            "max_clips",
            "page_workers",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_beam_width < 1:
            raise ConfigError(f"max_beam_width must be at least 1, got {self.max_beam_width}")
        if self.queue < 0:
            raise ConfigError(f"queue must be 0 or more, got {self.queue}")
        if self.timeout <= 0:
            raise ConfigError(f"timeout must be positive, got {self.timeout}")

    @property
    def max_body_bytes(self) -> int:
        """Largest request body read: the image bytes as base64 (a third larger) plus room for the other fields."""
        return self.max_upload_bytes * 4 // 3 + 64 * 1024
