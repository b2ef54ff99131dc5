"""What a worker does with a batch of clip jobs: open each uploaded clip, prepare it as its model reads clips,
classify them together, and turn each record into JSON values as ``seqvision read --json`` writes them.

PyAV and the clip tasks read clips from files (a clip is opened more than once: probed, its frames
decoded, its sound read), so each upload is written to a fresh private temporary folder, as
``clip`` plus its own suffix, read, and removed with the folder as soon as it is prepared, whatever
happened. This is the one place the service writes a client's bytes to disk; the client's file
name is never part of a path.
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqvision.data.clips import reason, require_av
from seqvision.errors import SeqvisionError
from seqvision.serving.config import ServeConfig
from seqvision.serving.errors import ApiError, invalid, unsupported
from seqvision.serving.models import ClipModel

if TYPE_CHECKING:
    from seqvision.serving.jobs import Job
    from seqvision.serving.uploads import Upload

SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")  # an upload's suffix kept on its temporary file (``.wav`` is sound alone)


@dataclass
class ClipTiming:
    queue_ms: float = 0.0  # waiting for a worker
    decode_ms: float = 0.0  # opening and decoding the clips of the whole batch
    model_ms: float = 0.0  # the network on the whole batch
    batch_clips: int = 0  # clips classified together with this request's


class ClipWork:
    """Called on a worker thread with jobs for one clip model and one top-k."""

    def __init__(self, models: dict[str, ClipModel], config: ServeConfig):
        self.models, self.config = models, config

    def __call__(self, batch: list[Job]) -> list[tuple[list[dict[str, Any]], ClipTiming] | ApiError]:
        """One pass (of up to ``batch`` clips at a time) for the clips of ``batch``; a bad clip fails only its job."""
        name, top_k = batch[0].name, batch[0].spec
        rec = self.models[name]
        start = time.perf_counter()
        prepared: list[list[Any] | ApiError] = []
        for job in batch:
            try:
                prepared.append([prepare(rec, upload) for upload in job.uploads])
            except ApiError as exc:
                prepared.append(exc)
        inputs = [a for p in prepared if not isinstance(p, ApiError) for a in p]
        decoded = time.perf_counter()
        step = self.config.batch
        records = iter([r for i in range(0, len(inputs), step) for r in rec.classify(inputs[i : i + step], top_k)])
        done = time.perf_counter()
        timing = (1000 * (decoded - start), 1000 * (done - decoded), len(inputs))
        out: list[tuple[list[dict[str, Any]], ClipTiming] | ApiError] = []
        for job, p in zip(batch, prepared, strict=True):
            if isinstance(p, ApiError):
                out.append(p)
            else:
                clips = [{"name": upload.name, **rec.to_json(next(records))} for upload in job.uploads]
                out.append((clips, ClipTiming(0.0, *timing)))
        return out


def prepare(rec: ClipModel, upload: Upload) -> Any:
    """One uploaded clip as ``rec`` reads it, from a temporary file removed before this returns."""
    if not upload.data:
        raise invalid(f"{upload.name}: empty file")
    found = SUFFIX.fullmatch(Path(upload.name).suffix.lower())
    with tempfile.TemporaryDirectory(prefix="seqvision-clip-") as folder:
        path = Path(folder) / f"clip{found.group() if found else ''}"
        path.write_bytes(upload.data)
        check_media(path, upload.name)
        try:
            return rec.prepare(path)
        except SeqvisionError as exc:  # the message names the temporary file: name the upload instead
            raise ApiError(422, "unusable_clip", str(exc).replace(str(path), upload.name)) from None


def check_media(path: Path, name: str) -> None:
    """Refuses (``415``) what PyAV cannot open as video or sound, and still images (send those to /v1/read)."""
    try:
        av = require_av()
    except SeqvisionError as exc:
        raise ApiError(503, "no_video_support", str(exc)) from None
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            form = str(container.format.name)
            if form == "image2" or form.endswith("_pipe"):
                raise unsupported(f"{name}: an image ({form.removesuffix('_pipe')}), not a video clip")
            if not container.streams.video and not container.streams.audio:
                raise unsupported(f"{name}: neither video nor sound in it ({form})")
    except av.FFmpegError as exc:
        raise unsupported(f"{name}: not a video or sound file that can be read ({reason(exc)})") from None
