"""Writing clips as real encoded video files through PyAV, optionally with a mono audio track.

Shared by the synthetic clip generators (``synth-video``, ``synth-sound``, ``synth-gait``); writes are atomic
(a temporary file or folder beside the target, renamed into place).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from seqvision.data.clips import require_av
from seqvision.data.containers import FORMATS
from seqvision.io import _UMASK

__all__ = ["FORMATS", "write_frames", "write_video"]


def write_frames(folder: Path, frames: list[np.ndarray]) -> None:
    """Frames (RGB or grey uint8) as ``folder/000.png ...``, the folder replaced whole (lossless, and byte-identical
    for a seed: x264 is not always)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    for k, array in enumerate(frames):
        Image.fromarray(array).save(tmp / f"{k:03d}.png")
    os.chmod(tmp, 0o777 & ~_UMASK)
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    os.replace(tmp, folder)


def write_video(
    path: Path, frames: list[np.ndarray], fps: float, audio: np.ndarray | None = None, sample_rate: int = 0
) -> None:
    """Encode RGB frames (and ``audio``, mono float in [-1, 1] at ``sample_rate``) to ``path``, atomically.

    The container and codecs follow the suffix (:data:`FORMATS`); both streams start at time 0.
    """
    av = require_av()
    fmt, codec, audio_codec = FORMATS[path.suffix.lstrip(".")]
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600
    os.close(fd)
    try:
        with av.open(tmp, "w", format=fmt) as out:
            stream = out.add_stream(codec, rate=round(fps))
            stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
            stream.pix_fmt = "yuv420p"
            stream.codec_context.thread_count = 1
            if codec == "libx264":
                stream.codec_context.options = {"crf": "16", "preset": "veryfast"}
            else:
                stream.codec_context.bit_rate = 2_000_000
            sound = None if audio is None else out.add_stream(audio_codec, rate=sample_rate, layout="mono")
            for k, array in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(array, format="rgb24").reformat(format="yuv420p")
                frame.pts = k  # in 1/rate units: the codec's time base
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
            if sound is not None and audio is not None:
                _write_audio(av, out, sound, audio, sample_rate)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_audio(av: object, out: object, stream: object, audio: np.ndarray, rate: int) -> None:
    """Mono float samples -> the audio stream, in chunks of the codec's frame size (1024 when it has none)."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    ctx = stream.codec_context  # type: ignore[attr-defined]
    chunk = ctx.frame_size or 1024
    resampler = av.AudioResampler(format=ctx.format.name, layout="mono", rate=rate)  # type: ignore[attr-defined]
    for start in range(0, len(pcm), chunk):
        frame = av.AudioFrame.from_ndarray(pcm[None, start : start + chunk], format="s16", layout="mono")  # type: ignore[attr-defined]
        frame.sample_rate, frame.pts = rate, start
        for converted in resampler.resample(frame):
            out.mux(stream.encode(converted))  # type: ignore[attr-defined]
    for converted in resampler.resample(None):
        out.mux(stream.encode(converted))  # type: ignore[attr-defined]
    out.mux(stream.encode(None))  # type: ignore[attr-defined]
