"""Fuzzing readers and model loading with mutated files: a documented clear error or a result, never a crash or hang.

Each target starts from a small valid seed file (a line image, a ``labels.tsv``, a PAGE-XML and an
ALTO page with their image, a video, a saved model, a resume checkpoint) and feeds the public
loading functions hypothesis-generated mutations of it: byte flips, truncation, insertion,
deletion and duplication, plus mutations that understand the format (XML attributes, elements
and text; safetensors headers; model metadata). The only exceptions allowed are the documented
ones (:class:`DataError`, :class:`CheckpointError`, :class:`ConfigError`).

CI runs ``FUZZ_EXAMPLES`` cases per target, derandomized so every run tries the same ones; set
``SEQVISION_FUZZ_EXAMPLES=5000`` for a long run, and ``SEQVISION_FUZZ_REPORT=file.jsonl`` to
record how many cases each target tried and how many ended in a clear error.
FASTA is fuzzed in tests/test_bio_fuzz.py.
"""

from __future__ import annotations

import contextlib
import copy
import faulthandler
import io
import json
import os
import signal
import struct
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from seqvision.checkpoint import load_state
from seqvision.data.images import image_size, load_line, normalise, resize_to_height
from seqvision.data.pages import read_page_file
from seqvision.data.readers import read_lines
from seqvision.data.samples import LineSample
from seqvision.errors import CheckpointError, DataError, SeqvisionError
from seqvision.tasks.lines.predictor import Recognizer

FUZZ_EXAMPLES = int(os.environ.get("SEQVISION_FUZZ_EXAMPLES", "150"))
CASE_SECONDS = 10  # one case running longer than this is a hang
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=True,  # the same cases on every CI run
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
TALLY: dict[str, Counter[str]] = {}


class Hang(Exception):
    """A fuzz case ran past ``CASE_SECONDS``."""


@contextmanager
def no_hang(seconds: float = CASE_SECONDS) -> Iterator[None]:
    """Fail a case that runs too long: an alarm for Python-level loops, and for a hang inside C (where the
    alarm cannot interrupt) a traceback dump and exit, so CI fails instead of waiting forever."""

    def alarm(signum: int, frame: object) -> None:
        raise Hang(f"case ran past {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(6 * seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check(target: str, action: Callable[[], object]) -> None:
    """Run one case: it may succeed or raise a documented error (with a one-line message); anything else fails."""
    tally = TALLY.setdefault(target, Counter())
    tally["cases"] += 1
    started = time.monotonic()
    with no_hang():
        try:
            action()
            tally["accepted"] += 1
        except SeqvisionError as exc:
            message = str(exc)
            assert message and "\n" not in message.strip(), f"{target}: error is not one line: {message!r}"
            tally["clear errors"] += 1
    tally["slowest ms"] = max(tally["slowest ms"], round(1000 * (time.monotonic() - started)))


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    """Print (and with ``SEQVISION_FUZZ_REPORT``, append as JSON lines) how many cases each target tried."""
    started = time.monotonic()
    yield
    record = {"examples_setting": FUZZ_EXAMPLES, "seconds": round(time.monotonic() - started, 1)}
    for target, tally in sorted(TALLY.items()):
        print(f"\nfuzz {target}: {dict(tally)}")
    if os.environ.get("SEQVISION_FUZZ_REPORT"):
        with open(os.environ["SEQVISION_FUZZ_REPORT"], "a", encoding="utf-8") as fh:
            fh.write(json.dumps({**record, "targets": {t: dict(c) for t, c in TALLY.items()}}) + "\n")


# ---------------------------------------------------------------------------------------------- mutations


@st.composite
def mutated(draw: st.DrawFn, seed: bytes, max_ops: int = 6) -> bytes:
    """``seed`` after 1..``max_ops`` byte edits: flips, overwrites, truncation, insertion, deletion, duplication."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, max_ops))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        op = draw(st.sampled_from(["flip", "byte", "truncate", "insert", "delete", "duplicate", "special"]))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 256))]
        elif op == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 512))]
        elif op == "special" and len(data) >= at + 4:  # lengths, sizes and counts live in 2- and 4-byte fields
            value = draw(st.sampled_from([0, 1, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]))
            data[at : at + 4] = struct.pack(draw(st.sampled_from(["<I", ">I"])), value)
    return bytes(data)


WEIRD_VALUES = ["", "-1", "0", "1e308", "-1e308", "nan", "inf", "1e-320", "3,4", "x", "1 2 3", "0 0 0 0", "9" * 400]
WEIRD_VALUES += ["-1e308,0 1e308,0 1e308,10 -1e308,10", "0 0 1e300 0 0 1e300", "10,10 20,10 20,1e-320", "5,5 " * 300]
WEIRD_TEXT = ["", " ", "\u0000", "\ud7ff\u200b", "&amp;", "e\u0301", "\t\n", "a" * 5000, "\U0001f600"]


@st.composite
def mutated_xml(draw: st.DrawFn, seed: bytes) -> bytes:
    """The seed page with its structure edited: attributes, elements and text changed, dropped, copied or moved."""
    root = ET.fromstring(seed)
    for _ in range(draw(st.integers(1, 6))):
        nodes = list(root.iter())
        node = nodes[draw(st.integers(0, len(nodes) - 1))]
        op = draw(st.sampled_from(["attr", "drop_attr", "text", "drop", "copy", "move", "rename", "tail"]))
        if op == "attr":
            name = draw(st.sampled_from([*node.attrib, "points", "POINTS", "HPOS", "WIDTH", "CONTENT", "index"]))
            node.set(name, draw(st.sampled_from(WEIRD_VALUES) | st.text(max_size=40)))
        elif op == "drop_attr" and node.attrib:
            del node.attrib[draw(st.sampled_from(sorted(node.attrib)))]
        elif op == "text":
            node.text = draw(st.sampled_from(WEIRD_TEXT + WEIRD_VALUES) | st.text(max_size=40))
        elif op == "tail":
            node.tail = draw(st.text(max_size=10))
        elif op in ("drop", "move"):
            parent = next((p for p in nodes if node in list(p)), None)
            if parent is not None:
                parent.remove(node)
                if op == "move":
                    target = nodes[draw(st.integers(0, len(nodes) - 1))]
                    if target is not node and node not in target.iter():
                        target.append(node)
        elif op == "copy":
            target = nodes[draw(st.integers(0, len(nodes) - 1))]
            target.append(copy.deepcopy(node) if node is not root else ET.Element("x"))
        elif op == "rename":
            namespace = node.tag[: node.tag.index("}") + 1] if node.tag.startswith("{") else ""
            node.tag = namespace + draw(
                st.sampled_from(["TextLine", "Coords", "Page", "String", "Shape", "Polygon", "TextEquiv", "Unicode"])
            )
    text = ET.tostring(root, encoding="unicode")
    return text.encode(draw(st.sampled_from(["utf-8", "utf-8", "utf-16"])), errors="surrogatepass")


def xml_or_bytes(seed: bytes) -> st.SearchStrategy[bytes]:
    return mutated_xml(seed) | mutated(seed) | mutated_xml(seed).flatmap(lambda xml: mutated(xml, max_ops=2))


# ---------------------------------------------------------------------------------------------- seeds


def line_image(size: tuple[int, int] = (180, 32)) -> Image.Image:
    image = Image.new("L", size, 235)
    draw = ImageDraw.Draw(image)
    for x in range(8, size[0] - 10, 14):
        draw.rectangle((x, 9, x + 8, size[1] - 9), fill=30)
    return image


def encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"quality": 80} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def load_whole_line(sample: LineSample) -> None:
    """What training and reading do with a line: header size, decode (crop), scale, normalise."""
    image_size(sample)
    pixels = normalise(resize_to_height(load_line(sample), 32))
    assert pixels.ndim == 2 and np.isfinite(pixels).all()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_fuzz_line_images(fmt: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp(f"fuzz-{fmt}")
    seed = encoded(line_image(), fmt)
    path = folder / f"line.{fmt.lower()}"

    @FUZZ
    @given(data=mutated(seed))
    def case(data: bytes) -> None:
        path.write_bytes(data)
        check(f"image {fmt}", lambda: load_whole_line(LineSample(path, "text", "fuzz")))

    case()


TSV_SEED = "a.png\tHello world\nsub/b.png\tcaf\u00e9 \u00e0 la carte\n\nc.png\t  tabs\tinside  \n\ufeffd.png\tlast\n"


def test_fuzz_tsv(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("fuzz-tsv")
    line_image().save(folder / "a.png")
    path = folder / "labels.tsv"

    def read() -> None:
        for sample in read_lines(path).samples:
            assert sample.text and "\t" not in sample.text and "\n" not in sample.text
            with contextlib.suppress(SeqvisionError):  # a missing or unreadable image: a skipped line, as in training
                load_whole_line(sample)

    @FUZZ
    @given(data=mutated(TSV_SEED.encode()) | st.binary(max_size=300))
    def case(data: bytes) -> None:
        path.write_bytes(data)
        check("tsv", read)

    case()


PAGE_SEED = """<?xml version="1.0" encoding="UTF-8"?>
<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">
  <Page imageFilename="page.png" imageWidth="200" imageHeight="80">
    <TextRegion id="r1"><Coords points="0,0 200,0 200,80 0,80"/>
      <TextLine id="l1"><Coords points="10,10 150,10 150,30 10,30"/>
        <TextEquiv index="0"><Unicode>Hello world</Unicode></TextEquiv></TextLine>
      <TextLine id="l2"><Coords points="10,40 190,42 188,70 12,68"/>
        <Word id="w1"><TextEquiv><Unicode>Line</Unicode></TextEquiv></Word>
        <Word id="w2"><TextEquiv><Unicode>two</Unicode></TextEquiv></Word></TextLine>
    </TextRegion>
  </Page>
</PcGts>
"""

ALTO_SEED = """<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">
  <Description><MeasurementUnit>pixel</MeasurementUnit>
    <sourceImageInformation><fileName>page.png</fileName></sourceImageInformation></Description>
  <Layout><Page ID="p1" WIDTH="200" HEIGHT="80"><PrintSpace><TextBlock ID="b1">
    <TextLine ID="t1" HPOS="10" VPOS="10" WIDTH="140" HEIGHT="20">
      <String CONTENT="Hello"/><SP/><String CONTENT="wor"/><HYP CONTENT="-"/></TextLine>
    <TextLine ID="t2" HPOS="5" VPOS="40" WIDTH="150" HEIGHT="30">
      <Shape><Polygon POINTS="10 40 190 42 188 70 12 68"/></Shape><String CONTENT="again"/></TextLine>
  </TextBlock></PrintSpace></Page></Layout>
</alto>
"""


@pytest.mark.parametrize("kind", ["page", "alto"])
def test_fuzz_page_files(kind: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp(f"fuzz-{kind}")
    page = Image.new("RGB", (200, 80), "white")
    ImageDraw.Draw(page).rectangle((20, 15, 140, 25), fill="black")
    page.save(folder / "page.png", dpi=(300, 300))
    path = folder / f"{kind}.xml"
    seed = (PAGE_SEED if kind == "page" else ALTO_SEED).encode()

    def read() -> None:
        for sample in read_page_file(path).samples:
            with contextlib.suppress(SeqvisionError):  # a polygon off the page: a skipped line, as in training
                load_whole_line(sample)

    @FUZZ
    @given(data=xml_or_bytes(seed))
    def case(data: bytes) -> None:
        path.write_bytes(data)
        check(kind, read)

    case()


def test_fuzz_video(tmp_path_factory: pytest.TempPathFactory) -> None:
    av = pytest.importorskip("av")
    from seqvision.data.clips import decode, probe, sample_indices
    from seqvision.tasks.video.synth import write_video

    folder = tmp_path_factory.mktemp("fuzz-video")
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (24, 32, 3), dtype=np.uint8) for _ in range(6)]
    seeds = []
    for suffix in ("avi", "mp4"):
        write_video(folder / f"seed.{suffix}", frames, fps=10)
        seeds.append((suffix, (folder / f"seed.{suffix}").read_bytes()))
    av.logging.set_level(av.logging.PANIC)  # corrupt input is expected; FFmpeg's complaints are noise here

    def read(path: Path) -> None:
        info = probe(path)
        clip = decode(path, sample_indices(info, 4), 16)
        assert clip.shape == (4, 3, 16, 16) and np.isfinite(clip).all()

    @FUZZ
    @given(choice=st.sampled_from(seeds).flatmap(lambda s: st.tuples(st.just(s[0]), mutated(s[1]))))
    def case(choice: tuple[str, bytes]) -> None:
        suffix, data = choice
        path = folder / f"clip.{suffix}"
        path.write_bytes(data)
        check(f"video {suffix}", lambda: read(path))

    case()


# ---------------------------------------------------------------------------------------------- models


def safetensors_parts(data: bytes) -> tuple[dict, bytes]:
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + size]), data[8 + size :]


def safetensors_bytes(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + body


@st.composite
def mutated_model(draw: st.DrawFn, seed: bytes) -> bytes:
    """A saved model with its safetensors header or its seqvision metadata edited (shapes, dtypes, keys, values)."""
    header, body = safetensors_parts(seed)
    meta = json.loads(header["__metadata__"]["seqvision"])
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["shape", "dtype", "offsets", "drop_tensor", "meta_value", "meta_drop", "arch"]))
        tensors = sorted(k for k in header if k != "__metadata__")
        if not tensors:
            break
        name = draw(st.sampled_from(tensors))
        if op == "shape":
            header[name]["shape"] = draw(st.lists(st.integers(-1, 70), max_size=4))
        elif op == "dtype":
            header[name]["dtype"] = draw(st.sampled_from(["F16", "I64", "BOOL", "U8", "F64", "X9"]))
        elif op == "offsets":
            header[name]["data_offsets"] = draw(st.lists(st.integers(-5, len(body) + 50), min_size=0, max_size=3))
        elif op == "drop_tensor":
            del header[name]
        elif op in ("meta_value", "meta_drop"):
            key = draw(st.sampled_from(sorted({*meta, "calibration", "input"})))
            if op == "meta_drop" and key in meta:
                del meta[key]
            elif op == "meta_value":
                meta[key] = draw(
                    st.sampled_from([None, 0, -3, "", "x", [], {}, [1, "a"], 1e300, True, {"temperature": "hot"}])
                )
        elif op == "arch" and isinstance(meta.get("architecture"), dict):
            part = draw(st.sampled_from(["encoder", "sequence", "head", "height", "in_channels", "input", "preset"]))
            arch = meta["architecture"]
            if isinstance(arch.get(part), dict):
                arch[part][draw(st.sampled_from([*arch[part], "nope"]))] = draw(
                    st.sampled_from([None, 0, -1, 3, 10_000, "gru", "tcn", "nope", [], 0.5, True])
                )
            else:
                arch[part] = draw(st.sampled_from([None, 0, -1, 7, 10_000, "clip", "x", [], {}]))
    header["__metadata__"] = {"seqvision": json.dumps(meta)}
    return safetensors_bytes(header, body)


def test_fuzz_saved_models(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("fuzz-model")
    seed = (trained_run / "model.safetensors").read_bytes()
    path = folder / "model.safetensors"

    def load() -> None:
        load_state(path)
        recognizer = Recognizer.load(path)
        recognizer.read([line_image()])  # a model that loads must also read

    @FUZZ
    @given(data=mutated_model(seed) | mutated(seed))
    def case(data: bytes) -> None:
        path.write_bytes(data)
        check("model", load)

    case()


def video_model(folder: Path) -> Path:
    """A tiny untrained video model saved as ``seqvision train --task video`` saves one."""
    from seqvision.checkpoint import save_model
    from seqvision.config import ExperimentConfig, apply_overrides, to_dict
    from seqvision.nn.model import build_model
    from seqvision.nn.presets import get_preset
    from seqvision.tasks.video.task import input_metadata

    cfg = ExperimentConfig(task="video", model=get_preset("lrcn-small"))
    apply_overrides(cfg, ["model.height=16", "model.encoder.channels=[4,8,8,8]", "model.sequence.hidden=8"])
    apply_overrides(cfg, ["data.clip.frames=4"])
    model = build_model(cfg.model, 3)
    meta = {
        "task": "video",
        "architecture": to_dict(cfg.model),
        "labels": ["a", "b", "c"],
        "input": input_metadata(cfg),
    }
    return save_model(folder / "video.safetensors", model, meta)


def test_fuzz_saved_video_models(tmp_path_factory: pytest.TempPathFactory) -> None:
    from seqvision.tasks.video.predictor import ClipClassifier

    folder = tmp_path_factory.mktemp("fuzz-video-model")
    seed = video_model(folder).read_bytes()
    path = folder / "model.safetensors"

    def load() -> None:
        classifier = ClipClassifier.load(path)
        frames, size = classifier.clip_config.frames, classifier.size
        if frames <= 16 and size <= 64:  # a model that loads must also classify (when its input is small)
            assert classifier.run(torch.zeros(1, frames, 3, size, size), torch.tensor([frames])).shape[0] == 1

    @FUZZ
    @given(data=mutated_model(seed) | mutated(seed))
    def case(data: bytes) -> None:
        path.write_bytes(data)
        check("video model", load)

    case()


def caption_model(folder: Path) -> Path:
    """A tiny untrained captioning model saved as ``seqvision train --task captioning`` saves one."""
    from seqvision.checkpoint import save_model
    from seqvision.config import ExperimentConfig, apply_overrides, to_dict
    from seqvision.nn.model import build_model
    from seqvision.nn.presets import get_preset
    from seqvision.tasks.captioning.vocab import SPECIALS

    cfg = ExperimentConfig(task="captioning", model=get_preset("sat-small"))
    apply_overrides(cfg, ["model.height=32", "model.encoder.channels=[4,8,8,8]", "model.encoder.grid=2"])
    apply_overrides(cfg, ["model.head.hidden=8", "model.head.embedding=8", "model.head.attention=8"])
    words = [*SPECIALS, "a", "dog", "runs"]
    model = build_model(cfg.model, len(words))
    meta = {
        "task": "captioning",
        "architecture": to_dict(cfg.model),
        "vocabulary": words,
        "input": {"height": 32, "width": 32, "channels": 3},
        "decoding": {"max_words": 5},
    }
    return save_model(folder / "captions.safetensors", model, meta)


def test_fuzz_saved_caption_models(tmp_path_factory: pytest.TempPathFactory) -> None:
    from seqvision.tasks.captioning.predictor import Captioner

    folder = tmp_path_factory.mktemp("fuzz-caption-model")
    seed = caption_model(folder).read_bytes()
    path = folder / "model.safetensors"

    def load() -> None:
        captioner = Captioner.load(path)
        if captioner.size <= 64 and captioner.max_words <= 30:  # a model that loads must also caption
            photo = np.zeros((3, captioner.size, captioner.size), np.uint8)
            assert len(captioner.caption_arrays([photo])) == 1

    @FUZZ
    @given(data=mutated_model(seed) | mutated(seed))
    def case(data: bytes) -> None:
        path.write_bytes(data)
        check("caption model", load)

    case()


def test_fuzz_resume_checkpoints(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    from seqvision.training.faults import load_resume_file

    folder = tmp_path_factory.mktemp("fuzz-ckpt")
    seed = (trained_run / "checkpoints" / "last.ckpt").read_bytes()
    path = folder / "last.ckpt"

    @FUZZ
    @given(data=mutated(seed))
    def case(data: bytes) -> None:
        path.write_bytes(data)
        check("resume checkpoint", lambda: load_resume_file(path))

    case()
    assert torch.load(trained_run / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]


# ---------------------------------------------------------------------------------------------- found by fuzzing


def page_with(folder: Path, points: str = "10,10 150,10 150,30 10,30", image: str = "page.png", head: str = "") -> Path:
    Image.new("L", (200, 80), 255).save(folder / "page.png")
    path = folder / "lines.xml"  # not page.xml: the image must be found through imageFilename
    line = f'<TextLine id="l1"><Coords points="{points}"/><TextEquiv><Unicode>x</Unicode></TextEquiv></TextLine>'
    path.write_text(f'{head}<PcGts><Page imageFilename="{image}">{line}</Page></PcGts>', encoding="utf-8")
    return path


def test_page_image_name_too_long_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found beside the XML"):
        read_page_file(page_with(tmp_path, image="a" * 5000))


def test_unknown_xml_encoding_is_malformed_xml(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="malformed XML"):
        read_page_file(page_with(tmp_path, head='<?xml version="1.0" encoding="TTF-8"?>'))


@pytest.mark.parametrize("points", ["-1e308,0 1e308,0 1e308,10 -1e308,10", "0,0 3e9,0 0,30"])
def test_coordinates_that_overflow_skip_the_line(points: str, tmp_path: Path) -> None:
    report = read_page_file(page_with(tmp_path, points=points))
    assert not report.samples and "coordinates beyond" in report.skipped[0]


def test_video_with_non_utf8_metadata_still_decodes(tmp_path: Path) -> None:
    av = pytest.importorskip("av")
    from seqvision.data.clips import decode, probe

    path = tmp_path / "meta.mp4"
    with av.open(str(path), "w", format="mp4") as out:
        out.metadata["title"] = "QQQQQQ"
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 24, "yuv420p"
        for k in range(4):
            frame = av.VideoFrame.from_ndarray(np.full((24, 32, 3), 40 * k, np.uint8), format="rgb24")
            frame.pts = k
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    path.write_bytes(path.read_bytes().replace(b"QQQQQQ", b"\x80\x81\x82\xff\xfe\x80"))  # latin-1-ish title
    assert probe(path).frames == 4
    assert decode(path, [0, 3], 16).shape == (2, 3, 16, 16)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("format_version", None, "format_version"),
        ("task", ["text_lines"], "metadata is corrupt"),
        ("calibration", {"temperature": "hot"}, "metadata is corrupt"),
    ],
)
def test_corrupt_model_metadata_is_a_checkpoint_error(
    key: str, value: object, message: str, trained_run: Path, tmp_path: Path
) -> None:
    header, body = safetensors_parts((trained_run / "model.safetensors").read_bytes())
    meta = json.loads(header["__metadata__"]["seqvision"])
    meta[key] = value
    header["__metadata__"] = {"seqvision": json.dumps(meta)}
    path = tmp_path / "model.safetensors"
    path.write_bytes(safetensors_bytes(header, body))
    with pytest.raises(CheckpointError, match=message):
        Recognizer.load(path)


def test_video_model_with_corrupt_input_metadata_is_a_checkpoint_error(tmp_path: Path) -> None:
    from seqvision.tasks.video.predictor import ClipClassifier

    header, body = safetensors_parts(video_model(tmp_path).read_bytes())
    meta = json.loads(header["__metadata__"]["seqvision"])
    meta["input"] = None
    header["__metadata__"] = {"seqvision": json.dumps(meta)}
    path = tmp_path / "model.safetensors"
    path.write_bytes(safetensors_bytes(header, body))
    with pytest.raises(CheckpointError, match="metadata is corrupt"):
        ClipClassifier.load(path)


def test_caption_model_with_corrupt_decoding_metadata_is_a_checkpoint_error(tmp_path: Path) -> None:
    from seqvision.tasks.captioning.predictor import Captioner

    header, body = safetensors_parts(caption_model(tmp_path).read_bytes())
    meta = json.loads(header["__metadata__"]["seqvision"])
    meta["decoding"] = None
    header["__metadata__"] = {"seqvision": json.dumps(meta)}
    path = tmp_path / "model.safetensors"
    path.write_bytes(safetensors_bytes(header, body))
    with pytest.raises(CheckpointError, match="metadata is corrupt"):
        Captioner.load(path)


@pytest.mark.parametrize("encoder", ["small", "vgg", "mobile", "resnet"])
@pytest.mark.parametrize("channels", [[8], [0, 0, 0, 0], [8] * 9])
def test_wrong_encoder_widths_are_a_config_error(encoder: str, channels: list[int]) -> None:
    """Found through a fuzzed video model; ``--set model.encoder.channels=[8]`` was an IndexError traceback too."""
    from seqvision.errors import ConfigError
    from seqvision.nn.model import build_model
    from seqvision.nn.presets import get_preset

    cfg = get_preset("crnn-small")
    cfg.encoder.name, cfg.encoder.channels = encoder, channels
    with pytest.raises(ConfigError, match=f"encoder '{encoder}' takes .* channel widths"):
        build_model(cfg, 10)
