"""The web page in a real headless Chromium (Playwright driving Debian's ``chromium``) against ``seqvision serve``.

Skips, saying why, only where Playwright or a Chromium binary is missing (``make install`` as root adds both).
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from seqvision.tasks.lines.decoding.lm import NgramLM
from seqvision.tasks.lines.predictor import Recognizer

pytestmark = pytest.mark.browser
LINES = Path(__file__).resolve().parents[1] / "examples" / "lines"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def chromium() -> str | None:
    """``$SEQVISION_CHROMIUM``, else Debian's ``chromium`` (or ``chromium-browser``) on the PATH."""
    found = os.environ.get("SEQVISION_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return found if found and Path(found).is_file() else None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``seqvision serve print-en`` (with a language model named ``tiny`` where beam search is installed) in a
    subprocess on a free port; its base URL."""
    pytest.importorskip("fastapi", reason="the [serve] extra is not installed")
    from seqvision.serving.models import beam_available

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "seqvision", "serve", "print-en", "--port", str(port), "--workers", "1"]
    if beam_available():
        arpa = tmp_path_factory.mktemp("lm") / "tiny.arpa"
        NgramLM.build([line.split("\t")[1] for line in (LINES / "labels.tsv").read_text().splitlines()], 3).save(arpa)
        cmd += ["--lm", f"tiny={arpa}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"seqvision serve did not start: {proc.communicate(timeout=5)[1]}")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = chromium()
    if executable is None:
        pytest.skip(
            "no Chromium found: apt-get install chromium (make install does it as root), or set SEQVISION_CHROMIUM"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (it is in [dev])")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server: str):  # type: ignore[no-untyped-def]
    """A fresh page at ``/`` with its models listed; fails the test on any console error (CSP included)."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + "/")
    page.wait_for_selector("#model option[value='print-en']", state="attached")
    yield page
    page.close()
    assert not [e for e in errors if "422" not in e and "415" not in e], errors


def wait_done(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector("#result[data-state='done']", timeout=20_000)


def test_upload_shows_the_text_with_confidences(page) -> None:  # type: ignore[no-untyped-def]
    line = LINES / "line1.png"
    want = Recognizer.load("print-en").read([Image.open(line)])[0].text
    page.set_input_files("#file-input", str(line))
    wait_done(page)
    assert page.inner_text("#result-text") == want
    spans = page.locator("#result-text span")
    assert spans.count() == len(want)
    confidences = [float(c) for c in spans.evaluate_all("els => els.map(e => e.dataset.confidence)")]
    assert all(0 < c <= 1 for c in confidences)
    assert "ms on the server" in page.inner_text("#result-time")
    assert page.locator("#boxes div").count() == len(want)


def test_a_language_model_can_be_picked(page) -> None:  # type: ignore[no-untyped-def]
    from seqvision.serving.models import beam_available

    if not beam_available():
        pytest.skip("flashlight-text is not installed: no beam search, no LM")
    assert page.locator("#lm-label").is_visible()
    page.select_option("#lm", "tiny")
    assert page.input_value("#decoder") == "beam"  # an LM needs beam search
    with page.expect_response("**/v1/read") as response_info:
        page.set_input_files("#file-input", str(LINES / "line2.png"))
    assert response_info.value.json()["decoder"] == "beam 16, LM tiny"
    wait_done(page)
    assert "beam 16, LM tiny" in page.inner_text("#result-confidence")
    assert page.inner_text("#result-text").strip()


def test_dropped_image_is_read(page) -> None:  # type: ignore[no-untyped-def]
    line = LINES / "line3.png"
    want = Recognizer.load("print-en").read([Image.open(line)])[0].text
    data = base64.b64encode(line.read_bytes()).decode()
    transfer = page.evaluate_handle(
        """(b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], "line3.png", { type: "image/png" }));
            return dt;
        }""",
        data,
    )
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": transfer})
    wait_done(page)
    assert page.inner_text("#result-text") == want


def test_drawing_on_the_canvas_is_read(page) -> None:  # type: ignore[no-untyped-def]
    box = page.locator("#canvas").bounding_box()
    x, y, h = box["x"], box["y"], box["height"]
    for i in range(4):  # four strokes: a short "written" line
        left = x + 60 + 90 * i
        page.mouse.move(left, y + 0.25 * h)
        page.mouse.down()
        page.mouse.move(left + 10, y + 0.75 * h, steps=8)
        page.mouse.move(left + 40, y + 0.3 * h, steps=8)
        page.mouse.up()
    with page.expect_response("**/v1/read") as response_info:
        page.click("#read-canvas")
    response = response_info.value
    assert response.status == 200
    body = response.json()
    canvas_width = page.eval_on_selector("#canvas", "c => c.width")
    assert 0 < body["width"] < canvas_width  # the drawing was cut to its ink before it was sent
    wait_done(page)
    assert page.locator("#result-time").inner_text().endswith("round trip")
    assert page.locator("#preview-wrap").is_visible()


def test_server_errors_are_shown(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake = tmp_path / "fake.png"
    fake.write_text("not really a picture", encoding="utf-8")
    page.set_input_files("#file-input", str(fake))
    page.wait_for_selector("#result[data-state='error']")
    message = page.inner_text("#error")
    assert "not an image" in message and "415" in message


def test_a_page_shows_its_lines_over_the_image_and_beside_it(page) -> None:  # type: ignore[no-untyped-def]
    from rapidfuzz.distance import Levenshtein

    pages = LINES.parent / "pages"
    truth = (pages / "letter.txt").read_text(encoding="utf-8").splitlines()
    page.set_input_files("#page-input", str(pages / "letter.png"))
    page.wait_for_selector("#page-result[data-state='done']", timeout=30_000)
    items, shapes = page.locator("#page-lines li"), page.locator("#page-overlay polygon")
    assert items.count() == shapes.count() == len(truth)
    found = "\n".join(items.all_inner_texts())
    assert Levenshtein.distance(found, "\n".join(truth)) / len("\n".join(truth)) < 0.03, found
    assert "10 lines" in page.inner_text("#page-meta") and "print-en" in page.inner_text("#page-meta")
    image, overlay = page.locator("#page-image").bounding_box(), page.locator("#page-overlay").bounding_box()
    assert abs(image["width"] - overlay["width"]) < 1 and abs(image["height"] - overlay["height"]) < 1
    third = shapes.nth(2).bounding_box()  # the lines are drawn where they are on the page, top to bottom
    assert overlay["y"] < shapes.nth(1).bounding_box()["y"] < third["y"] < overlay["y"] + overlay["height"]
    items.nth(2).hover()  # a line hovered in the text is highlighted on the page
    assert page.eval_on_selector_all("#page-overlay polygon.hot", "els => els.map(e => e.dataset.line)") == ["2"]
    shapes.nth(5).hover()  # and the other way round
    assert page.eval_on_selector_all("#page-lines li.hot", "els => els.map(e => e.dataset.line)") == ["5"]
    assert page.locator("#page-overlay polygon.hot").count() == 1
