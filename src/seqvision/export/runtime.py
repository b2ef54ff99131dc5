"""What reading an exported model needs, and nothing of the exporter: the onnxruntime session, the
metadata stored in an ``.onnx`` file, the clear error when the export extra is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from seqvision.errors import SeqvisionError

METADATA_KEY = "seqvision"


class ExportError(SeqvisionError):
    """A model (or one of its parts) cannot be exported faithfully."""


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence what the exporter and quantiser print straight to file descriptor 2 (C++ shape-inference
    warnings, onnxruntime's logging), so a successful export prints one line."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def require_onnx() -> Any:
    try:
        import onnx
        import onnxruntime  # noqa: F401
    except ImportError:
        raise ExportError("ONNX export needs the export extra: pip install 'seqvision[export]'") from None
    return onnx


def session(data: bytes, threads: int = 1) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The seqvision metadata stored in an exported ``.onnx`` file.

    Read straight from the protobuf (``ModelProto.metadata_props``, field 14) without the ``onnx``
    package, which takes longer to import than the model takes to read a line.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ExportError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        for field, value in _fields(data):
            if field == 14 and isinstance(value, bytes):  # StringStringEntryProto {key = 1, value = 2}
                entry = {f: v for f, v in _fields(value) if isinstance(v, bytes)}
                if entry.get(1) == METADATA_KEY.encode():
                    return json.loads(entry.get(2, b"null").decode("utf-8"))
    except (ValueError, IndexError):  # truncated varints and lengths; JSON and UTF-8 errors are ValueErrors
        raise ExportError(f"{path}: not a readable ONNX file (damaged protobuf or metadata)") from None
    raise ExportError(f"{path}: ONNX file without seqvision metadata (export it with `seqvision export`)")


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """The top-level ``(field number, value)`` pairs of a protobuf message: ints, or bytes when length-delimited."""
    pos, end = 0, len(data)

    def varint() -> int:
        nonlocal pos
        result = shift = 0
        while True:
            byte = data[pos]  # IndexError when truncated
            pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
            shift += 7
            if shift > 63:
                raise ValueError("varint too long")

    while pos < end:
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            yield field, varint()
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
            if pos > end:
                raise ValueError("truncated fixed-width field")
            yield field, 0
        elif wire == 2:
            n = varint()
            if pos + n > end:
                raise ValueError("truncated length-delimited field")
            yield field, data[pos : pos + n]
            pos += n
        else:
            raise ValueError(f"wire type {wire}")
