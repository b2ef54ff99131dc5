"""The video containers the clip writers produce: a constant apart, so that CLI parsers list them without numpy."""

from __future__ import annotations

FORMATS = {  # suffix -> (container format, video codec, audio codec)
    "mp4": ("mp4", "libx264", "aac"),
    "mkv": ("matroska", "libx264", "pcm_s16le"),
    "webm": ("webm", "libvpx", "libopus"),
    "avi": ("avi", "mpeg4", "pcm_s16le"),
}
