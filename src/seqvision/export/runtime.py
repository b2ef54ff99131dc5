"""What reading an exported model needs, and nothing of the exporter: an onnxruntime or OpenVINO session, the
metadata stored in an ``.onnx`` file, the clear error when the runtime's extra is missing.

Both runtimes read the same ``.onnx`` file and answer ``run(None, feeds) -> [outputs]``, so a predictor holds
either as its ``session``; neither imports torch.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from seqvision.errors import ConfigError, SeqvisionError

METADATA_KEY = "seqvision"
RUNTIMES = {"onnx": ("onnxruntime", "export"), "openvino": ("openvino", "openvino")}  # backend: (module, extra)


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


def require_runtime(backend: str) -> None:
    """Refuses, in one line naming the extra to install, a backend whose runtime is not installed (imports nothing)."""
    module, extra = RUNTIMES[backend]
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a module blocked in sys.modules, or one without a spec
        found = False
    if not found:
        raise ConfigError(f"the {backend} backend needs {module}: pip install 'seqvision[{extra}]'")


def runtime_available(backend: str) -> bool:
    try:
        require_runtime(backend)
    except ConfigError:
        return False
    return True


def session(data: bytes, threads: int = 1, backend: str = "onnx") -> Any:
    """A session running the ONNX model ``data`` on ``backend``'s runtime (``onnx``: onnxruntime, ``openvino``)
    with ``threads`` compute threads per call (0: the runtime's own choice, all cores)."""
    if backend == "openvino":
        return OpenVinoSession(data, threads)
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


class OpenVinoSession:
    """An ONNX model compiled by OpenVINO for the CPU, behind onnxruntime's ``run(None, feeds)``.

    fp32 throughout (OpenVINO would otherwise run bf16 on CPUs that have it, and read differently from
    torch); shapes stay dynamic (any batch and width). With ``threads`` > 0 each call computes on that many
    threads and the model gets one stream per ``threads`` cores, so concurrent callers (the service's
    workers) run at once, as they do on one onnxruntime session; with 0, one stream on all cores
    (``PERFORMANCE_HINT`` ``LATENCY``). No thread pinning: the machine is shared. Each calling thread
    keeps its own infer request, as a request is not re-entrant.
    """

    backend = "openvino"

    def __init__(self, data: bytes, threads: int = 1, precision: str = "f32") -> None:
        require_runtime("openvino")
        import openvino as ov

        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": precision}
        config["ENABLE_CPU_PINNING"] = False
        if threads > 0:
            streams = max(1, (os.cpu_count() or 1) // threads)
            config |= {"NUM_STREAMS": streams, "INFERENCE_NUM_THREADS": streams * threads}
        from seqvision.export.openvino_rnn import honour_sequence_lengths

        core = ov.Core()
        model = core.read_model(data)
        honour_sequence_lengths(model)  # else OpenVINO's reverse LSTM/GRU reads the padding (see that module)
        self.compiled = core.compile_model(model, "CPU", config)
        self.outputs = list(self.compiled.outputs)
        self._local = threading.local()

    def run(self, output_names: list[str] | None, feeds: dict[str, Any]) -> list[Any]:
        """The outputs (all of them, in the graph's order; ``output_names`` must be None, as seqvision passes)."""
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.compiled.create_infer_request()
        result = request.infer(feeds)  # outputs are copies (share_outputs=False), safe past the next call
        return [result[out] for out in self.outputs]


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
