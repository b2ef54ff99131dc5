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
    """The seqvision metadata stored in an exported ``.onnx`` file."""
    onnx = require_onnx()
    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf decode errors have many types
        raise ExportError(f"{path}: not a readable ONNX file ({exc.__class__.__name__})") from None
    for entry in proto.metadata_props:
        if entry.key == METADATA_KEY:
            return json.loads(entry.value)
    raise ExportError(f"{path}: ONNX file without seqvision metadata (export it with `seqvision export`)")
