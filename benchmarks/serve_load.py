"""Load test of ``seqvision serve``: N concurrent clients posting real line images for a bounded time.

Starts the server on 127.0.0.1 (a subprocess, the way it is deployed), waits for ``/healthz``, runs
``--clients`` closed-loop clients (each sends the next request as soon as the last is answered)
for ``--warmup`` + ``--seconds``, then stops the server. Only requests sent after the warm-up count.
The images are the sample lines in ``examples/lines`` and synthetic printed lines rendered once
(degraded, 32-48 px, the kind print-en reads), held in memory and uploaded as multipart files.

Clients and server share this machine's cores: the numbers are for both together.

    python benchmarks/serve_load.py                            # 50 clients, 30 s, print-en
    python benchmarks/serve_load.py --clients 10 --seconds 5   # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

import numpy as np

from seqvision.data.readers import read_lines
from seqvision.errors import DataError
from seqvision.tasks.lines.synth import find_fonts, write_dataset

ROOT = Path(__file__).resolve().parents[1]


def line_images(count: int, workdir: Path) -> list[tuple[str, bytes]]:
    """(name, PNG bytes) of the sample lines and ``count`` synthetic ones (fewer if no fonts are installed)."""
    images = [(p.name, p.read_bytes()) for p in sorted((ROOT / "examples" / "lines").glob("*.png"))]
    try:
        fonts = find_fonts()
    except DataError as exc:
        print(f"note: only the sample lines ({exc})", file=sys.stderr)
        return images
    for height in (32, 48):
        tsv = write_dataset(workdir / f"synth{height}", count // 2, fonts, seed=11, height=height, workers=1)
        images += [(s.image.name, s.image.read_bytes()) for s in read_lines(tsv).samples]
    return images


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "seqvision", "serve", args.model, "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", str(args.workers), "--threads", str(args.threads), "--queue", str(args.queue)]
    cmd += ["--backend", args.backend, "--batch-size", str(args.batch_size)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit(f"server did not start: {proc.communicate(timeout=5)[1]}") from None
            time.sleep(0.2)


def multipart(name: str, data: bytes) -> tuple[bytes, str]:
    """A multipart body with the image in the field ``file``, and its Content-Type."""
    boundary = "seqvision-load-boundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
    body = (head + "Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class Connection:
    """One keep-alive HTTP/1.1 connection: a deliberately small client, so that the load generator spends
    little of the CPU it shares with the server (a full client library costs several times more per request)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, content_type: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        try:
            self.writer.write(head.encode() + body)
            await self.writer.drain()
            status = int((await self.reader.readuntil(b"\r\n")).split()[1])
            length, close = 0, False
            while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
                key, _, value = line.decode("latin-1").partition(":")
                if key.lower() == "content-length":
                    length = int(value)
                elif key.lower() == "connection" and value.strip().lower() == "close":
                    close = True
            await self.reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            self.close()
            raise
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def client(url: str, bodies: list[tuple[bytes, str]], stop: float, seed: int, log: list) -> None:
    """Post one random image after another until ``stop``; log (sent, seconds, status or error name)."""
    rng = random.Random(seed)
    host, port = url.removeprefix("http://").split(":")
    conn = Connection(host, int(port))
    while (sent := time.monotonic()) < stop:
        body, content_type = rng.choice(bodies)
        try:
            outcome: int | str = await asyncio.wait_for(conn.post("/v1/read", body, content_type), 60)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError, TimeoutError) as exc:
            outcome = type(exc).__name__
        log.append((sent, time.monotonic() - sent, outcome))
    conn.close()


async def load(url: str, images: list[tuple[str, bytes]], args: argparse.Namespace) -> list:
    """Run the clients; the log of the requests sent after the warm-up."""
    bodies = [multipart(name, data) for name, data in images]
    log: list[tuple[float, float, int | str]] = []
    measured_from = time.monotonic() + args.warmup
    stop = measured_from + args.seconds
    await asyncio.gather(*(client(url, bodies, stop, i, log) for i in range(args.clients)))
    return [entry for entry in log if entry[0] >= measured_from]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="print-en")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0, help="measured time (after the warm-up)")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=0, help="server inference threads (default: one per core)")
    parser.add_argument("--threads", type=int, default=1, help="compute threads per inference")
    parser.add_argument("--queue", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16, help="server: most lines per forward pass")
    parser.add_argument("--backend", choices=["torch", "onnx"], default="torch")
    parser.add_argument("--synthetic", type=int, default=200, help="synthetic lines to render for the mix")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "serve_load.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="seqvision-load-") as tmp:
        images = line_images(args.synthetic, Path(tmp))
    load_before = os.getloadavg()
    proc, url = start_server(args)
    try:
        with urllib.request.urlopen(f"{url}/healthz") as response:
            health = json.loads(response.read())
        log = asyncio.run(load(url, images, args))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    ok = np.array([seconds for _, seconds, outcome in log if outcome == 200]) * 1000
    errors = Counter(str(outcome) for _, _, outcome in log if outcome != 200)
    row = {
        "model": args.model,
        "backend": args.backend,
        "clients": args.clients,
        "server_workers": health["workers"],
        "threads_per_worker": args.threads,
        "batch_size": args.batch_size,
        "seconds": args.seconds,
        "requests": len(log),
        "requests_per_s": round(len(log) / args.seconds, 1),
        "p50_ms": round(float(np.percentile(ok, 50)), 1) if len(ok) else None,
        "p95_ms": round(float(np.percentile(ok, 95)), 1) if len(ok) else None,
        "p99_ms": round(float(np.percentile(ok, 99)), 1) if len(ok) else None,
        "max_ms": round(float(ok.max()), 1) if len(ok) else None,
        "errors": sum(errors.values()),
        "errors_by_kind": dict(errors),
    }
    fast = [m for m in ("uvloop", "httptools") if importlib.util.find_spec(m)]  # uvicorn uses them when installed
    machine = {
        "cores": os.cpu_count(),
        "uvicorn_loop_http": "uvloop/httptools" if len(fast) == 2 else "asyncio/h11" if not fast else "+".join(fast),
        "cpu": platform.processor() or platform.machine(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "images": len(images),
    }
    print(
        f"\n{machine['cores']} cores ({machine['cpu']}), clients and server on the same machine; "
        f"load average before {machine['load_average_before'][0]}, after {machine['load_average_after'][0]}; "
        f"{len(images)} line images; uvicorn on {machine['uvicorn_loop_http']}\n"
    )
    print("| model | backend | clients | workers x threads | seconds | requests | req/s | p50 ms | p95 ms | p99 ms "
          "| max ms | errors |")  # fmt: skip
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {row['model']} | {row['backend']} | {row['clients']} "
        f"| {row['server_workers']} x {row['threads_per_worker']} "
        f"| {row['seconds']:g} | {row['requests']} | {row['requests_per_s']} | {row['p50_ms']} | {row['p95_ms']} "
        f"| {row['p99_ms']} | {row['max_ms']} | {row['errors']}{' ' + str(dict(errors)) if errors else ''} |"
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"machine": machine, "rows": [row]}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
