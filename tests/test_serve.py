"""HTTP service contracts (FastAPI's test client): every endpoint, every limit and error, the queue and the pool."""

from __future__ import annotations

import asyncio
import base64
import copy
import io
import re
import shutil
import socket
import struct
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi", reason="the [serve] extra is not installed")
import starlette.formparsers
from fastapi.testclient import TestClient

from seqvision.checkpoint import BUNDLED
from seqvision.cli.main import main
from seqvision.errors import ConfigError
from seqvision.serving import ServeConfig, create_app
from seqvision.serving.errors import ApiError
from seqvision.serving.line_work import WIDTH_RATIO, forward
from seqvision.serving.models import beam_available, load_models
from seqvision.serving.uploads import read_body
from seqvision.tasks.lines.decoding.lm import NgramLM
from seqvision.tasks.lines.predictor import Recognizer

LINES = Path(__file__).resolve().parents[1] / "examples" / "lines"
LINE = LINES / "line1.png"


@pytest.fixture(scope="module")
def models() -> dict[str, Recognizer]:
    return {"print-en": Recognizer.load("print-en"), "hooker-en": Recognizer.load("hooker-en")}


@pytest.fixture(scope="module")
def client(models: dict[str, Recognizer]) -> Iterator[TestClient]:
    with TestClient(create_app(models, ServeConfig(workers=2))) as c:
        yield c


def serve(models: dict[str, Recognizer], **config: object) -> TestClient:
    return TestClient(create_app(models, ServeConfig(**config)))  # type: ignore[arg-type]


def expected(models: dict[str, Recognizer], path: Path, model: str = "print-en") -> str:
    return models[model].read([Image.open(path)])[0].text


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def error(response, status: int, code: str, *needles: str) -> str:  # type: ignore[no-untyped-def]
    """Assert a JSON error: the status, ``{"error": code, "detail": ...}`` and words of the detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code, body
    for needle in needles:
        assert needle in body["detail"], body["detail"]
    return body["detail"]


def post_file(client: TestClient, data: bytes, name: str = "line.png", **fields: str):  # type: ignore[no-untyped-def]
    return client.post("/v1/read", files={"file": (name, data, "image/png")}, data=fields)


# ---------------------------------------------------------------------------------------------- endpoints


def test_healthz(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body == {"status": "ok", "models": ["print-en", "hooker-en"], "workers": 2, "running": 0, "waiting": 0,
                    "queue": 64}  # fmt: skip


def test_models_describe_themselves(client: TestClient, models: dict[str, Recognizer]) -> None:
    body = client.get("/v1/models").json()
    assert body["default"] == "print-en"
    assert [m["name"] for m in body["models"]] == ["print-en", "hooker-en"]
    for info in body["models"]:
        meta = models[info["name"]].metadata
        assert info["alphabet_size"] == len(meta["alphabet"])
        assert info["input_height"] == meta["input"]["height"]
        assert info["metrics"]["val_cer"] == pytest.approx(meta["metrics"]["val_cer"])
        assert info["default"] == (info["name"] == "print-en")
    assert body["models"][0]["input_height"] == 32 and body["models"][1]["input_height"] == 48
    assert body["decoders"] == (["greedy", "beam"] if beam_available() else ["greedy"])
    assert body["limits"]["max_lines"] == 64 and body["lms"] == []


def test_read_upload(client: TestClient, models: dict[str, Recognizer]) -> None:
    body = post_file(client, LINE.read_bytes(), "line1.png").json()
    text = expected(models, LINE)
    assert body["text"] == text and len(text) > 10
    assert (body["model"], body["decoder"], body["name"]) == ("print-en", "greedy", "line1.png")
    with Image.open(LINE) as img:
        assert (body["width"], body["height"]) == img.size
    assert "".join(c["char"] for c in body["chars"]) == text
    assert all(0 < c["confidence"] <= 1 for c in body["chars"]) and 0 < body["confidence"] <= 1
    edges = [x for c in body["chars"] for x in (c["x0"], c["x1"])]
    assert edges == sorted(edges) and edges[0] >= 0 and edges[-1] <= body["width"]
    assert " ".join(w["text"] for w in body["words"]) == " ".join(text.split())
    timing = body["timing"]
    assert set(timing) == {"queue_ms", "image_ms", "model_ms", "total_ms", "batch_lines"}
    assert all(v >= 0 for v in timing.values()) and timing["total_ms"] >= timing["model_ms"] > 0
    assert timing["batch_lines"] == 1


def test_read_json_base64_same_as_upload(client: TestClient) -> None:
    data = LINE.read_bytes()
    upload = post_file(client, data).json()
    for image in (base64.b64encode(data).decode(), "data:image/png;base64," + base64.b64encode(data).decode()):
        body = client.post("/v1/read", json={"image": image, "name": "x"}).json()
        assert body["name"] == "x"
        assert (body["text"], body["chars"], body["confidence"]) == (
            upload["text"],
            upload["chars"],
            upload["confidence"],
        )


def test_read_with_another_model(client: TestClient, models: dict[str, Recognizer]) -> None:
    path = LINES / "line2.png"
    body = post_file(client, path.read_bytes(), model="hooker-en").json()
    assert body["model"] == "hooker-en" and body["text"] == expected(models, path, "hooker-en")


@pytest.mark.skipif(not beam_available(), reason="flashlight-text is not installed")
def test_beam_search_from_clients_is_bounded(client: TestClient) -> None:
    greedy = post_file(client, LINE.read_bytes()).json()
    beam = post_file(client, LINE.read_bytes(), decoder="beam", beam_width="8").json()
    assert beam["decoder"] == "beam 8" and beam["text"] == greedy["text"]  # a clear line: the same best path
    error(
        post_file(client, LINE.read_bytes(), decoder="beam", beam_width="65"),
        422,
        "invalid_request",
        "between 1 and 64",
    )
    error(post_file(client, LINE.read_bytes(), decoder="beam", beam_width="0"), 422, "invalid_request", "beam_width")
    error(post_file(client, LINE.read_bytes(), decoder="viterbi"), 422, "invalid_request", "decoder")
    error(client.post("/v1/read", json={"image": "", "beam_width": "many"}), 422, "invalid_request", "beam_width")


@pytest.mark.skipif(not beam_available(), reason="flashlight-text is not installed")
def test_language_models_only_by_the_operators_names(models: dict[str, Recognizer], tmp_path: Path) -> None:
    arpa = tmp_path / "tiny.arpa"
    NgramLM.build(["Kew Gardens, 14 March 1895.", "My dear Dyer, thank you for the seeds"], order=3).save(arpa)
    with serve(models, lms={"tiny": str(arpa)}) as c:
        assert c.get("/v1/models").json()["lms"] == ["tiny"]
        body = post_file(c, LINE.read_bytes(), lm="tiny").json()
        assert body["decoder"] == "beam 16, LM tiny" and body["text"]
        for name in ("other", str(arpa), "/etc/passwd"):  # never a path from a client
            error(post_file(c, LINE.read_bytes(), lm=name), 422, "invalid_request", "no language model", "tiny")
        error(post_file(c, LINE.read_bytes(), lm="tiny", decoder="greedy"), 422, "invalid_request", "beam")


def test_batch_upload_and_json(client: TestClient, models: dict[str, Recognizer]) -> None:
    paths = sorted(LINES.glob("*.png"))
    files = [("file", (p.name, p.read_bytes(), "image/png")) for p in paths]
    body = client.post("/v1/read/batch", files=files).json()
    assert [line["name"] for line in body["lines"]] == [p.name for p in paths]
    assert [line["text"] for line in body["lines"]] == [expected(models, p) for p in paths]
    assert body["model"] == "print-en" and body["timing"]["total_ms"] > 0
    images = [base64.b64encode(p.read_bytes()).decode() for p in paths]
    names = [f"n{i}" for i in range(len(paths))]
    as_json = client.post("/v1/read/batch", json={"images": images, "names": names, "model": "print-en"}).json()
    assert [line["text"] for line in as_json["lines"]] == [line["text"] for line in body["lines"]]
    assert [line["name"] for line in as_json["lines"]] == names
    unnamed = client.post("/v1/read/batch", json={"images": images[:2]}).json()
    assert [line["name"] for line in unnamed["lines"]] == ["#0", "#1"]


def test_docs_and_openapi(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    for path in ("/healthz", "/v1/models", "/v1/read", "/v1/read/batch"):
        assert path in spec["paths"], path
    content = spec["paths"]["/v1/read"]["post"]["requestBody"]["content"]
    assert set(content) == {"multipart/form-data", "application/json"}
    assert "file" in content["multipart/form-data"]["schema"]["properties"]
    assert {"413", "415", "422", "503"} <= set(spec["paths"]["/v1/read"]["post"]["responses"])


def test_page_is_served_and_offline(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert not re.search(r"https?://", response.text), f"{asset} loads something from the network"
    assert not re.search(r"https?://", page.text)
    assert {
        'id="file-input"',
        'id="canvas"',
        'id="model"',
        'id="result-text"',
        'id="page-input"',
        'id="page-overlay"',
    } <= set(re.findall(r'id="[^"]+"', page.text))


# ---------------------------------------------------------------------------------------------- bad input


def test_upload_size_limits(models: dict[str, Recognizer]) -> None:
    data = LINE.read_bytes()
    with serve(models, max_upload_bytes=len(data) - 1) as c:
        error(post_file(c, data), 413, "too_large", "limit")
        b64 = base64.b64encode(data).decode()
        error(c.post("/v1/read", json={"image": b64}), 413, "too_large", "limit")
        big = b"x" * (ServeConfig(max_upload_bytes=len(data) - 1).max_body_bytes + 1)
        error(c.post("/v1/read", content=big, headers={"content-type": "application/json"}), 413, "too_large", "body")
    with serve(models, max_lines=2) as c:
        files = [("file", (f"{i}.png", data, "image/png")) for i in range(3)]
        error(c.post("/v1/read/batch", files=files), 413, "too_large", "3 images", "2 per request")
        error(c.post("/v1/read/batch", json={"images": [base64.b64encode(data).decode()] * 3}), 413, "too_large")


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width x height`` (a decompression bomb as far as the header can tell)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(bytes(64 * (width + 1)))  # a few rows of the claimed size; the rest is missing
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def test_pixel_limits_and_decompression_bombs(models: dict[str, Recognizer]) -> None:
    with serve(models, max_pixels=200_000) as c:
        error(post_file(c, png(Image.new("L", (1000, 201), 255))), 413, "too_large", "1000x201", "200000 per request")
        error(post_file(c, png_header_only(5000, 5000)), 413, "too_large", "5000x5000")  # from the header alone
        ok = png(Image.new("L", (1000, 150), 255))  # 150k pixels each: one fits, two do not
        assert c.post("/v1/read/batch", files=[("file", ("a.png", ok, "image/png"))]).status_code == 200
        two = [("file", (f"{i}.png", ok, "image/png")) for i in range(2)]
        error(c.post("/v1/read/batch", files=two), 413, "too_large", "1.png", "50000 left")
    with serve(models, max_pixels=10**12) as c:  # Pillow's own bomb check, at 2x its limit, is kept
        error(post_file(c, png_header_only(100_000, 100_000)), 413, "too_large", "too many pixels")


def test_not_an_image_or_corrupt(client: TestClient) -> None:
    data = LINE.read_bytes()
    error(post_file(client, b"hello, this is text", "notes.txt"), 415, "unsupported_media_type", "notes.txt", "PNG")
    error(post_file(client, data[: len(data) // 2]), 422, "corrupt_image", "truncated")
    error(post_file(client, b""), 422, "invalid_request", "empty")
    error(post_file(client, png(Image.new("L", (4000, 10)))), 422, "invalid_request", "12800 px wide", "8192")
    error(client.post("/v1/read", content=data, headers={"content-type": "image/png"}), 415, "unsupported_media_type")
    error(client.post("/v1/read", content=data), 415, "unsupported_media_type")


def test_malformed_requests(client: TestClient) -> None:
    data = LINE.read_bytes()
    no_file = client.post("/v1/read", files={"model": (None, "print-en")})  # multipart, one text field
    error(no_file, 422, "invalid_request", "no image", "'file'")
    form = client.post("/v1/read", data={"model": "print-en"})  # urlencoded: no way to carry an image
    error(form, 415, "unsupported_media_type", "application/x-www-form-urlencoded")
    error(client.post("/v1/read", files={"image": ("a.png", data)}), 422, "invalid_request", "'image'", "'file'")
    two = [("file", ("a.png", data, "image/png")), ("file", ("b.png", data, "image/png"))]
    error(client.post("/v1/read", files=two), 422, "invalid_request", "/v1/read/batch")
    error(client.post("/v1/read", json={"image": "not base64!"}), 422, "invalid_request", "base64")
    error(client.post("/v1/read", json={}), 422, "invalid_request", "image")
    error(client.post("/v1/read", json={"image": "", "path": "/etc/passwd"}), 422, "invalid_request", "path")
    error(client.post("/v1/read/batch", json={"images": []}), 422, "invalid_request", "no image")
    error(client.post("/v1/read/batch", json={"images": ["aaaa"], "names": ["a", "b"]}), 422, "invalid_request")
    bad_json = client.post("/v1/read", content=b"{not json", headers={"content-type": "application/json"})
    error(bad_json, 422, "invalid_request")
    no_boundary = client.post("/v1/read", content=b"--x--", headers={"content-type": "multipart/form-data"})
    error(no_boundary, 422, "invalid_request", "boundary")


def test_a_body_that_never_arrives_gets_408() -> None:
    from starlette.requests import Request

    async def trickle() -> dict:
        await asyncio.sleep(0.01)
        return {"type": "http.request", "body": b"x", "more_body": True}  # one byte at a time, for ever

    scope = {"type": "http", "method": "POST", "path": "/v1/read", "headers": []}

    async def attempt() -> None:
        await read_body(Request(scope, trickle), limit=10**6, timeout=0.3)

    with pytest.raises(ApiError) as info:
        asyncio.run(attempt())
    assert (info.value.status, info.value.code) == (408, "timeout") and "0.3 s" in info.value.message


def test_unknown_model_route_and_method(client: TestClient) -> None:
    error(post_file(client, LINE.read_bytes(), model="no-such-model"), 404, "unknown_model", "print-en, hooker-en")
    error(client.post("/v1/read", json={"image": "", "model": "../../etc/passwd"}), 404, "unknown_model")
    error(client.get("/v1/nothing"), 404, "not_found")
    error(client.get("/v1/read"), 405, "method_not_allowed")


def test_client_file_names_are_labels_only(client: TestClient) -> None:
    body = post_file(client, LINE.read_bytes(), "../../etc/passwd").json()
    assert body["name"] == "passwd"
    assert post_file(client, LINE.read_bytes(), "C:\\x\\y.png").json()["name"] == "y.png"


def test_uploads_never_touch_the_disk(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an upload was written to a temporary file")

    for module, name in ((tempfile, "SpooledTemporaryFile"), (tempfile, "NamedTemporaryFile"),
                         (tempfile, "TemporaryFile"), (tempfile, "mkstemp"),
                         (starlette.formparsers, "SpooledTemporaryFile")):  # fmt: skip
        monkeypatch.setattr(module, name, refuse)
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (900, 1400), dtype=np.uint8))
    data = png(noise)
    assert len(data) > 1024 * 1024  # past the size at which Starlette's own form parser spools to disk
    response = post_file(client, data)
    assert response.status_code == 200, response.text
    as_json = client.post("/v1/read", json={"image": base64.b64encode(data).decode()})  # parsed off the loop too
    assert as_json.status_code == 200 and as_json.json()["text"] == response.json()["text"]


# ---------------------------------------------------------------------------------------------- the pool


def gated(models: dict[str, Recognizer]) -> tuple[dict[str, Recognizer], threading.Event]:
    """print-en whose network waits for the returned event: a worker held busy for as long as a test wants."""
    gate = threading.Event()
    rec = copy.copy(models["print-en"])
    run = rec.log_probs

    def slow(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        assert gate.wait(20), "gate never opened"
        return run(*args, **kwargs)

    rec.log_probs = slow  # type: ignore[method-assign]
    return {"print-en": rec}, gate


def wait_for(predicate: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_full_queue_gets_503_with_retry_after_and_the_loop_stays_free(models: dict[str, Recognizer]) -> None:
    slow_models, gate = gated(models)
    with serve(slow_models, workers=1, queue=1, retry_after=3) as c, ThreadPoolExecutor(2) as pool:
        engine = c.app.state.engine  # type: ignore[attr-defined]
        first = pool.submit(post_file, c, LINE.read_bytes())
        wait_for(lambda: engine.running == 1)
        second = pool.submit(post_file, c, LINE.read_bytes())
        wait_for(lambda: engine.waiting == 1)
        health = c.get("/healthz").json()  # answered while the only worker is busy: the loop never blocks
        assert (health["running"], health["waiting"]) == (1, 1)
        refused = post_file(c, LINE.read_bytes())
        error(refused, 503, "busy", "1 running and 1 waiting")
        assert refused.headers["retry-after"] == "3"
        gate.set()
        assert first.result(20).status_code == 200 and second.result(20).status_code == 200
        assert (engine.running, engine.waiting) == (0, 0)
        assert post_file(c, LINE.read_bytes()).status_code == 200


def test_waiting_too_long_gets_503_and_running_too_long_504(models: dict[str, Recognizer]) -> None:
    slow_models, gate = gated(models)
    with serve(slow_models, workers=1, queue=4, timeout=0.5) as c, ThreadPoolExecutor(1) as pool:
        engine = c.app.state.engine  # type: ignore[attr-defined]
        first = pool.submit(post_file, c, LINE.read_bytes())
        wait_for(lambda: engine.running == 1)
        waited = post_file(c, LINE.read_bytes())
        error(waited, 503, "busy", "no worker free within 0.5 s")
        assert waited.headers["retry-after"] == "1"
        error(first.result(20), 504, "timeout", "longer than 0.5 s")
        assert engine.running == 1  # the job still holds its worker until it really ends
        gate.set()
        wait_for(lambda: engine.running == 0)
        assert post_file(c, LINE.read_bytes()).status_code == 200


def test_waiting_requests_share_a_forward_pass(models: dict[str, Recognizer]) -> None:
    slow_models, gate = gated(models)
    paths = sorted(LINES.glob("*.png"))
    want = {p.name: expected(models, p) for p in paths}
    with serve(slow_models, workers=1, batch=3) as c, ThreadPoolExecutor(8) as pool:
        engine = c.app.state.engine  # type: ignore[attr-defined]
        first = pool.submit(post_file, c, paths[0].read_bytes(), paths[0].name)
        wait_for(lambda: engine.running == 1)
        waiting = [pool.submit(post_file, c, p.read_bytes(), p.name) for p in paths]  # 4 lines: 3 fit one batch
        wait_for(lambda: engine.waiting == len(paths))
        half = LINE.read_bytes()[: len(LINE.read_bytes()) // 2]
        corrupt = pool.submit(post_file, c, half)  # waits too: it joins the 4th line's batch
        beam = pool.submit(post_file, c, paths[1].read_bytes(), paths[1].name, decoder="beam")  # another decoder
        wait_for(lambda: engine.waiting == len(paths) + 2)
        gate.set()
        assert first.result(20).json()["timing"]["batch_lines"] == 1
        bodies = [f.result(20).json() for f in waiting]
        assert [b["text"] for b in bodies] == [want[p.name] for p in paths]
        assert sorted(b["timing"]["batch_lines"] for b in bodies) == [1, 3, 3, 3]  # the corrupt image adds no line
        error(corrupt.result(20), 422, "corrupt_image")
        if beam_available():
            assert beam.result(20).json()["timing"]["batch_lines"] == 1
    with serve(slow_models, workers=1, batch=1) as c, ThreadPoolExecutor(4) as pool:
        gate.clear()
        engine = c.app.state.engine  # type: ignore[attr-defined]
        futures = [pool.submit(post_file, c, LINE.read_bytes()) for _ in range(3)]
        wait_for(lambda: engine.running == 1 and engine.waiting == 2)
        gate.set()
        assert [f.result(20).json()["timing"]["batch_lines"] for f in futures] == [1, 1, 1]


def test_forward_passes_group_similar_widths(models: dict[str, Recognizer]) -> None:
    rec = copy.copy(models["print-en"])
    rng = np.random.default_rng(0)
    widths = [40, 700, 45, 52, 1000, 59, 61, 650, 30, 900]
    arrays = [rng.random((rec.height, w), dtype=np.float32) for w in widths]
    passes: list[list[int]] = []
    run = rec.log_probs

    def spy(batch: list[np.ndarray], batch_size: int = 16):  # type: ignore[no-untyped-def]
        passes.append([a.shape[1] for a in batch])
        return run(batch, batch_size)

    rec.log_probs = spy  # type: ignore[method-assign]
    out = forward(rec, arrays, batch=3)
    assert sorted(w for p in passes for w in p) == sorted(widths)
    assert all(len(p) <= 3 and max(p) <= WIDTH_RATIO * min(p) for p in passes), passes
    assert passes == [[30, 40, 45], [52, 59, 61], [650, 700, 900], [1000]]
    for a, lp in zip(arrays, out, strict=True):  # in input order, as if each line ran alone
        np.testing.assert_allclose(lp, run([a], 1)[0], atol=1e-4)


@pytest.mark.parametrize("decoder", ["greedy", "beam"])
def test_concurrent_requests_share_models_safely(
    client: TestClient, models: dict[str, Recognizer], decoder: str
) -> None:
    if decoder == "beam" and not beam_available():
        pytest.skip("flashlight-text is not installed")
    paths = sorted(LINES.glob("*.png")) * 4
    want = {p: expected(models, p) for p in paths}
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda p: post_file(client, p.read_bytes(), decoder=decoder).json()["text"], paths))
    assert results == [want[p] for p in paths]


# ---------------------------------------------------------------------------------------------- CLI


def test_models_are_served_under_their_names(tmp_path: Path) -> None:
    shutil.copy(BUNDLED / "print-en.safetensors", tmp_path / "mine.safetensors")  # metadata is in the header
    assert list(load_models([str(tmp_path / "mine.safetensors"), "print-en"])) == ["mine", "print-en"]
    shutil.copy(BUNDLED / "print-en.safetensors", tmp_path / "print-en.safetensors")
    with pytest.raises(ConfigError, match="both called 'print-en'"):
        load_models(["print-en", str(tmp_path / "print-en.safetensors")])


def test_serve_cli_errors_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    shutil.copy(BUNDLED / "print-en.safetensors", tmp_path / "print-en.safetensors")
    cases = [
        (["serve", "print-en", str(tmp_path / "print-en.safetensors")], "both called"),
        (["serve", "--lm", "no-name"], "NAME=ARPA"),
        (["serve", "--lm", f"x={tmp_path / 'missing.arpa'}"], "no such file"),
        (["serve", "no-such-model", "--port", "0"], "no-such-model"),
        (["serve", "print-en", "--workers", "-1"], "workers"),
    ]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        cases.append((["serve", "print-en", "--port", str(busy.getsockname()[1])], "cannot listen"))
        for argv, needle in cases:
            assert main(argv) == 1, argv
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and err[0].startswith("seqvision: error:") and needle in err[0], (argv, err)
