"""The audio track of a video file (PyAV): mono float samples at a chosen rate, placed on the video's clock.

Sound and pictures are aligned by timestamp: the returned offset is where the first sample lies
relative to the first video frame (the streams' start times, seconds), so frame ``k`` at
``k / fps`` reads the samples from ``(k / fps - offset) * rate`` on. AAC's priming samples, an
edit list, or a track that starts late all end up in that offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqvision.data.clips import reason, require_av
from seqvision.errors import DataError

SILENCE = 1e-4  # peak |sample| below which a track counts as silent


@dataclass(frozen=True)
class Soundtrack:
    """Mono samples in [-1, 1] at ``rate``; ``offset``: seconds from the first video frame to the first sample."""

    samples: np.ndarray
    rate: int
    offset: float

    @property
    def end(self) -> float:
        """Where the sound stops, in seconds on the video's clock."""
        return self.offset + len(self.samples) / self.rate


def read_soundtrack(path: Path, rate: int) -> Soundtrack:
    """The first audio stream of ``path``, resampled to mono ``rate`` Hz.

    Raises:
        DataError: one line naming the file: not found, unreadable, no audio track, silent.
    """
    if not path.is_file():
        raise DataError(f"{path}: video file not found")
    av = require_av()
    chunks: list[np.ndarray] = []
    first: float | None = None
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            if not container.streams.audio:
                raise DataError(f"{path}: no audio track")
            audio = container.streams.audio[0]
            video = container.streams.video[0] if container.streams.video else None
            v_start = _start(video)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            for frame in container.decode(audio):
                if first is None:
                    t = frame.time if frame.time is not None else _start(audio)
                    first = float(t)
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))  # (1, n) packed mono -> (n,)
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except av.FFmpegError as exc:
        if not chunks:
            raise DataError(f"{path}: unreadable or corrupt audio ({reason(exc)})") from None
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if not len(samples):
        raise DataError(f"{path}: the audio track holds no samples")
    if float(np.abs(samples).max()) < SILENCE:
        raise DataError(f"{path}: the audio track is silent")
    return Soundtrack(samples, rate, (first or 0.0) - v_start)


def _start(stream: object) -> float:
    """A stream's start time in seconds (0 when the container does not say)."""
    start, base = getattr(stream, "start_time", None), getattr(stream, "time_base", None)
    return float(start * base) if start is not None and base is not None else 0.0


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> None:
    """Mono 16-bit PCM ``.wav``, peak-normalised to 0.9 when louder than that, written atomically."""
    import io
    import wave

    from seqvision.io import atomic_write_bytes

    peak = float(np.abs(samples).max()) if len(samples) else 0.0
    scaled = samples * (0.9 / peak) if peak > 0.9 else samples
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(scaled, -1, 1) * 32767).astype("<i2").tobytes())
    try:
        atomic_write_bytes(path, buffer.getvalue())
    except OSError as exc:
        raise DataError(f"{path}: cannot write the sound ({exc.strerror or exc})") from None
