"""``POST /v1/read/page`` contracts: a whole page in, its lines in reading order out; every form, format and error."""

from __future__ import annotations

import base64
import dataclasses
import io
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from rapidfuzz.distance import Levenshtein

pytest.importorskip("fastapi", reason="the [serve] extra is not installed")
from fastapi.testclient import TestClient

from seqvision.data.schemas import validate
from seqvision.serving import ServeConfig, create_app
from seqvision.tasks.lines.predictor import Recognizer
from seqvision.tasks.predictor import load_predictor

PAGES = Path(__file__).resolve().parents[1] / "examples" / "pages"
LETTER = PAGES / "letter.png"
TRUTH = (PAGES / "letter.txt").read_text(encoding="utf-8")
LINE = PAGES.parent / "lines" / "line1.png"


@pytest.fixture(scope="module")
def models() -> dict[str, Recognizer]:
    return {"print-en": Recognizer.load("print-en"), "hooker-en": Recognizer.load("hooker-en")}


@pytest.fixture(scope="module")
def segmenter() -> Any:
    return load_predictor("lines-seg", "torch")


@pytest.fixture(scope="module")
def client(models: dict[str, Recognizer], segmenter: Any) -> Iterator[TestClient]:
    with TestClient(create_app(models, ServeConfig(workers=1), segmenter)) as c:
        yield c


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def post_page(client: TestClient, data: bytes, name: str = "letter.png", **fields: str):  # type: ignore[no-untyped-def]
    return client.post("/v1/read/page", files={"file": (name, data, "image/png")}, data=fields)


def error(response, status: int, code: str, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code, body
    for needle in needles:
        assert needle in body["detail"], body["detail"]


@pytest.fixture(scope="module")
def letter(client: TestClient) -> dict[str, Any]:
    response = post_page(client, LETTER.read_bytes())
    assert response.status_code == 200, response.text
    return response.json()


def test_a_page_is_read_in_reading_order(letter: dict[str, Any]) -> None:
    assert Levenshtein.distance(letter["text"], TRUTH) / len(TRUTH) < 0.03, letter["text"]
    assert (letter["name"], letter["width"], letter["height"]) == ("letter.png", 1000, 1300)
    assert letter["model"] == "print-en" and "hooker-en" in letter["chosen"]  # chosen by confidence
    assert letter["segmenter"] == "lines-seg"
    lines = letter["lines"]
    assert len(lines) == len(TRUTH.splitlines())
    assert letter["text"] == "".join(line["text"] + "\n" for line in lines)
    assert [line["box"][1] for line in lines] == sorted(line["box"][1] for line in lines)  # top to bottom
    assert set(letter["timing"]) == {"queue_ms", "segment_ms", "read_ms", "total_ms"}
    assert letter["timing"]["total_ms"] >= letter["timing"]["segment_ms"] > 0


def test_lines_carry_polygons_baselines_boxes_and_words(letter: dict[str, Any]) -> None:
    ids = [line["id"] for line in letter["lines"]]
    assert len(set(ids)) == len(ids)
    for line in letter["lines"]:
        left, top, right, bottom = line["box"]
        assert len(line["polygon"]) >= 4 and line["baseline"] and len(line["baseline"]) >= 2
        for x, y in line["polygon"] + line["baseline"]:
            assert left - 1 <= x <= right + 1 and top - 1 <= y <= bottom + 1
        assert 0 < line["confidence"] <= 1
        assert " ".join(w["text"] for w in line["words"]) == " ".join(line["text"].split())
        for word in line["words"]:
            x0, y0, x1, y1 = word["box"]
            assert left - 1 <= x0 < x1 <= right + 1 and top - 1 <= y0 < y1 <= bottom + 1


def test_json_base64_and_raw_body_read_the_same(client: TestClient, letter: dict[str, Any]) -> None:
    data = LETTER.read_bytes()
    as_json = client.post("/v1/read/page", json={"image": base64.b64encode(data).decode(), "name": "a.png"}).json()
    raw = client.post("/v1/read/page?name=b.png", content=data, headers={"content-type": "image/png"}).json()
    assert (as_json["name"], raw["name"]) == ("a.png", "b.png")
    assert as_json["text"] == raw["text"] == letter["text"]


def test_a_named_model_reads_the_page(client: TestClient) -> None:
    body = post_page(client, LETTER.read_bytes(), model="hooker-en").json()
    assert (body["model"], body["chosen"]) == ("hooker-en", "")
    error(post_page(client, LETTER.read_bytes(), model="nope"), 404, "unknown_model", "print-en, hooker-en")


@pytest.mark.parametrize(("fmt", "marker"), [("page", b"<PcGts"), ("alto", b"<alto")])
def test_xml_formats_validate_and_hold_the_text(client: TestClient, fmt: str, marker: bytes) -> None:
    response = post_page(client, LETTER.read_bytes(), format=fmt)
    assert response.status_code == 200 and "xml" in response.headers["content-type"]
    assert response.headers["x-seqvision-model"] == "print-en"
    assert marker in response.content and b"Falmouth" in response.content and b"letter.png" in response.content
    assert validate(response.content) == []
    as_query = client.post(f"/v1/read/page?format={fmt}", files={"file": ("letter.png", LETTER.read_bytes())})
    assert as_query.headers["content-type"] == response.headers["content-type"]  # query options apply to any body


def test_a_blank_page_is_an_empty_list(client: TestClient) -> None:
    body = post_page(client, png(Image.new("L", (800, 1100), 250)), "blank.png").json()
    assert (body["lines"], body["text"], body["model"], body["chosen"]) == ([], "", None, "no text line found")


def test_bad_inputs_are_clear_json_errors(client: TestClient) -> None:
    error(post_page(client, b"not a picture", "notes.png"), 415, "unsupported_media_type", "notes.png: not an image")
    huge = png(Image.new("L", (5000, 4000), 255))  # 20 M pixels, over the 16 M default
    error(post_page(client, huge, "huge.png"), 413, "too_large", "huge.png: 5000x4000", "pixel limit")
    error(post_page(client, LETTER.read_bytes(), format="docx"), 422, "invalid_request", "format")
    error(
        client.post("/v1/read/page", content=b"x", headers={"content-type": "text/plain"}),
        415,
        "unsupported_media_type",
    )
    two = [("file", ("a.png", LINE.read_bytes(), "image/png")), ("file", ("b.png", LINE.read_bytes(), "image/png"))]
    error(client.post("/v1/read/page", files=two), 422, "invalid_request", "one page per request")
    other = {"scan": ("a.png", LINE.read_bytes(), "image/png")}
    error(client.post("/v1/read/page", files=other), 422, "invalid_request", "in the multipart field 'file'")


@pytest.mark.parametrize(("segmenter", "needle"), [(None, "--segmenter"), ("print-en", "not a page segmenter"),
                                                    ("no-such-seg", "did not load")])  # fmt: skip
def test_without_a_segmenter_pages_are_503_and_lines_still_read(
    models: dict[str, Recognizer], segmenter: str | None, needle: str
) -> None:
    with TestClient(create_app(models, ServeConfig(workers=1), segmenter)) as c:
        error(post_page(c, LETTER.read_bytes()), 503, "no_segmenter", needle)
        assert c.get("/v1/models").json()["segmenter"] is None
        line = c.post("/v1/read", files={"file": ("line1.png", LINE.read_bytes(), "image/png")})
        assert line.status_code == 200 and line.json()["text"]


def wait_for(predicate: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


class Gated:
    """The real segmenter, held at a gate before it segments: a page worker busy for as long as a test wants."""

    def __init__(self, segmenter: Any):
        self.segmenter, self.gate = segmenter, threading.Event()

    def layout(self, *args: Any) -> Any:
        assert self.gate.wait(20), "gate never opened"
        return self.segmenter.layout(*args)


def test_the_page_pool_is_bounded(models: dict[str, Recognizer], segmenter: Any) -> None:
    gated = Gated(segmenter)
    config = ServeConfig(workers=1, page_workers=1, queue=0, timeout=0.5)
    with TestClient(create_app(models, config, gated)) as c, ThreadPoolExecutor(1) as pool:
        pages = c.app.state.pages  # type: ignore[attr-defined]
        first = pool.submit(post_page, c, LETTER.read_bytes())
        wait_for(lambda: pages.running == 1)
        error(post_page(c, LETTER.read_bytes()), 503, "busy", "1 page(s) being read and 0 waiting")
        assert c.get("/healthz").status_code == 200  # the loop is free while a page is read
        error(first.result(20), 504, "timeout", "longer than 0.5 s")
        assert pages.running == 1  # the page still holds its worker until it really ends
        gated.gate.set()
        wait_for(lambda: pages.running == 0)
        pages.config = dataclasses.replace(config, timeout=60)  # a busy machine segments slower than 0.5 s
        assert post_page(c, png(Image.new("L", (800, 1100), 250))).status_code == 200  # the worker is free again


def test_openapi_lists_the_page_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    post = spec["paths"]["/v1/read/page"]["post"]
    assert set(post["requestBody"]["content"]) == {"multipart/form-data", "application/json", "image/*"}
    assert {"file", "model", "format"} <= set(
        post["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    )
    assert {"404", "413", "415", "422", "503", "504"} <= set(post["responses"])
    assert {p["name"] for p in post["parameters"]} == {"model", "format"}
    assert "PageResult" in spec["components"]["schemas"]
