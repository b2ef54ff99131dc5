"""``POST /v1/clips`` contracts: tiny video and emotion models trained here on generated clips, served beside a
text-line model; a clip gets the labels ``seqvision read`` gives, bad uploads one clear line, temp files go."""

from __future__ import annotations

import copy
import json
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the [serve] extra is not installed")
pytest.importorskip("av")
from fastapi.testclient import TestClient

from seqvision.cli.main import main
from seqvision.errors import ConfigError
from seqvision.serving import ServeConfig, create_app, load_models

LINE = Path(__file__).resolve().parents[1] / "examples" / "lines" / "line1.png"
TINY = ["--epochs", "1", "--set=data.clip.frames=6", "--set=data.num_workers=0", "--threads=1", "--quiet"]
TINY_VIDEO = ["--set=model.height=16", "--set=model.encoder.channels=[4,8,8,8]", "--set=model.sequence.hidden=8"]
TINY_EMOTION = [*TINY_VIDEO, "--set=data.emotion.bands=16", "--set=data.emotion.audio_channels=[4,8,8,8]"]
KINDS = ("video", "emotion")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("serve-clips")
    argv = ["synth-video", "--out", str(out / "video"), "--clips", "2", "--frames", "6", "--size", "16"]
    assert main([*argv, "--groups", "2"]) == 0
    for name, actors, first in (("train", 2, 1), ("val", 1, 3)):
        argv = ["synth-emotion", "--out", str(out / name), "--clips", "1", "--actors", str(actors), "--first-actor"]
        assert main([*argv, str(first), "--frames", "6", "--size", "16", "--fps", "6", "--audio", "inside"]) == 0
    return {"video": out / "video", "emotion": out / "val", "emotion_train": out / "train"}


@pytest.fixture(scope="module")
def runs(data: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("serve-clip-runs")
    video = ["train", "--task", "video", "--train", str(data["video"] / "clips.csv"), "--out", str(out / "video")]
    assert main([*video, "--set=data.val_fraction=0.5", "--set=data.batch_size=4", *TINY, *TINY_VIDEO]) == 0
    emotion = ["train", "--task", "emotion", "--train", str(data["emotion_train"]), "--val", str(data["emotion"])]
    assert main([*emotion, "--out", str(out / "emotion"), "--set=data.batch_size=8", *TINY, *TINY_EMOTION]) == 0
    return {"video": out / "video", "emotion": out / "emotion"}


def clip_of(data: dict[str, Path], kind: str, i: int = 0) -> Path:
    return sorted(data[kind].rglob("*.mp4"))[i]


@pytest.fixture(scope="module")
def models(runs: dict[str, Path]) -> dict[str, Any]:
    return load_models([str(runs["video"]), "print-en", str(runs["emotion"])], "torch", 1)


@pytest.fixture(scope="module")
def client(models: dict[str, Any]) -> Iterator[TestClient]:
    with TestClient(create_app(models, ServeConfig(workers=2, max_clips=3))) as c:
        yield c


def read_json(model: Path, clip: Path, top_k: int, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert main(["read", str(model), str(clip), "--json", "--top-k", str(top_k), "--backend", "torch"]) == 0
    return json.loads(capsys.readouterr().out)


def post_clips(client: TestClient, paths: list[Path], **fields: str):  # type: ignore[no-untyped-def]
    files = [("file", (p.name, p.read_bytes(), "video/mp4")) for p in paths]
    return client.post("/v1/clips", files=files, data=fields)


def error(response, status: int, code: str, *needles: str) -> str:  # type: ignore[no-untyped-def]
    """A JSON error of ``status`` and ``code`` whose one-line detail holds ``needles``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code and "\n" not in body["detail"], body
    for needle in needles:
        assert needle in body["detail"], body["detail"]
    return body["detail"]


def same_record(got: dict, want: dict) -> None:
    assert got["label"] == want["label"]
    assert [t["label"] for t in got["top"]] == [t["label"] for t in want["top"]]
    assert [t["probability"] for t in got["top"]] == pytest.approx([t["probability"] for t in want["top"]], abs=2e-4)
    assert set(got.get("streams", {})) == set(want.get("streams", {}))
    for stream, best in want.get("streams", {}).items():
        assert got["streams"][stream]["label"] == best["label"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_clip_gets_the_labels_read_gives(
    kind: str, client: TestClient, runs: dict[str, Path], data: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    clip = clip_of(data, kind)
    want = read_json(runs[kind], clip, 3, capsys)
    body = post_clips(client, [clip], model=kind, top_k="3")
    assert body.status_code == 200, body.text
    result = body.json()
    assert (result["model"], result["task"]) == (kind, kind)
    assert [c["name"] for c in result["clips"]] == [clip.name] and len(result["clips"][0]["top"]) == 3
    same_record(result["clips"][0], want)
    assert ("streams" in result["clips"][0]) == (kind == "emotion")  # an emotion model of two streams: each alone
    timing = result["timing"]
    assert timing["batch_clips"] == 1 and timing["total_ms"] >= timing["decode_ms"] + timing["model_ms"] > 0
    raw = client.post(
        f"/v1/clips?model={kind}&top_k=3", content=clip.read_bytes(), headers={"content-type": "video/mp4"}
    )
    assert raw.status_code == 200, raw.text
    assert raw.json()["clips"][0]["name"] == "clip.mp4"
    same_record(raw.json()["clips"][0], want)


def test_several_clips_in_upload_order_and_the_default_clip_model(
    client: TestClient, runs: dict[str, Path], data: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    clips = [clip_of(data, "video", i) for i in (2, 0, 1)]
    body = post_clips(client, clips).json()  # no model: the first clip model served
    assert body["model"] == "video" and [c["name"] for c in body["clips"]] == [c.name for c in clips]
    assert body["timing"]["batch_clips"] == 3 and all(len(c["top"]) == 5 for c in body["clips"])
    for clip, got in zip(clips, body["clips"], strict=True):
        same_record(got, read_json(runs["video"], clip, 5, capsys))


def test_models_list_both_kinds(client: TestClient, runs: dict[str, Path]) -> None:
    body = client.get("/v1/models").json()
    assert (body["default"], body["default_clip"]) == ("print-en", "video")
    info = {m["name"]: m for m in body["models"]}
    assert list(info) == ["video", "print-en", "emotion"] and body["limits"]["max_clips"] == 3
    assert (info["print-en"]["kind"], info["print-en"]["task"]) == ("line", "text_lines")
    assert info["print-en"]["alphabet_size"] > 50 and info["print-en"]["labels"] is None
    for kind in KINDS:
        meta = json.loads((runs[kind] / "model.json").read_text(encoding="utf-8"))
        assert (info[kind]["kind"], info[kind]["task"], info[kind]["labels"]) == ("clip", kind, meta["labels"])
        assert (info[kind]["frames"], info[kind]["input_size"]) == (6, 16) and info[kind]["default"] == (
            kind == "video"
        )
        assert info[kind]["alphabet_size"] is None
    assert info["emotion"]["streams"] == ["video", "audio"] and info["video"]["streams"] is None
    assert client.get("/healthz").json()["models"] == ["video", "print-en", "emotion"]


def test_bad_uploads_are_one_clear_line(client: TestClient, data: dict[str, Path], tmp_path: Path) -> None:
    video = clip_of(data, "video")
    text = client.post("/v1/clips", files={"file": ("notes.mp4", b"not a video at all\n" * 20, "video/mp4")})
    error(text, 415, "unsupported_media_type", "notes.mp4: not a video or sound file")
    image = client.post("/v1/clips", files={"file": ("line1.png", LINE.read_bytes(), "image/png")})
    error(image, 415, "unsupported_media_type", "line1.png: an image (png), not a video clip")
    silent = post_clips(client, [video], model="emotion")  # a clip without sound, to a model that hears
    detail = error(silent, 422, "unusable_clip", f"{video.name}: no audio track")
    assert "seqvision-clip-" not in detail  # the upload is named, never the temporary file
    error(post_clips(client, [video] * 4), 413, "too_large", "4 clips is over the limit of 3")
    error(client.post("/v1/clips", files={"file": ("empty.mp4", b"", "video/mp4")}), 422, "invalid_request", "empty")
    error(client.post("/v1/clips", files={"model": (None, "video")}), 422, "invalid_request", "no clip")
    wrong_field = client.post("/v1/clips", files={"clip": ("a.mp4", video.read_bytes(), "video/mp4")})
    error(wrong_field, 422, "invalid_request", "clips go in the field 'file', not 'clip'")
    error(post_clips(client, [video], top_k="0"), 422, "invalid_request", "top_k")
    error(post_clips(client, [video], model="nope"), 404, "unknown_model", "nope", "video, print-en, emotion")
    error(post_clips(client, [video], model="print-en"), 422, "wrong_model", "print-en is a text-line model")
    png = client.post("/v1/clips", content=LINE.read_bytes(), headers={"content-type": "image/png"})
    error(png, 415, "unsupported_media_type", "'image/png'")
    line = client.post("/v1/read", files={"file": ("l.png", LINE.read_bytes(), "image/png")}, data={"model": "video"})
    error(line, 422, "wrong_model", "video is a video model, not a text-line model", "/v1/clips")
    small = create_app(load_models(["print-en"], "torch", 1), ServeConfig(workers=1, max_upload_bytes=100))
    with TestClient(small) as c:  # a line-only service
        sent = c.post("/v1/clips", files={"file": ("a.mp4", b"x" * 50, "video/mp4")})
        error(sent, 422, "wrong_model", "this server has no clip model (it serves print-en)")
        big = c.post("/v1/clips", content=video.read_bytes(), headers={"content-type": "video/mp4"})
        error(big, 413, "too_large", "over the limit of 100")


def test_uploads_leave_no_temporary_file(
    client: TestClient, data: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    clip = clip_of(data, "video")
    assert post_clips(client, [clip]).status_code == 200
    assert post_clips(client, [clip], model="emotion").status_code == 422
    assert client.post("/v1/clips", files={"file": ("x.mp4", b"junk" * 99, "video/mp4")}).status_code == 415
    assert list(tmp_path.iterdir()) == []


def test_serve_refuses_a_model_of_neither_kind() -> None:
    with pytest.raises(
        ConfigError, match=r"lines-seg.*a page-segmentation model; serve reads text lines and classifies"
    ):
        load_models(["lines-seg"], "torch", 1)


def wait_for(predicate: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_clips_wait_on_the_line_workers_and_share_a_forward_pass(models: dict[str, Any], data: dict[str, Path]) -> None:
    gate = threading.Event()
    video = copy.copy(models["video"])
    run = video.classify

    def slow(*args: object, **kwargs: object) -> Any:
        assert gate.wait(20), "gate never opened"
        return run(*args, **kwargs)

    video.classify = slow
    served = {"print-en": models["print-en"], "video": video}
    clips = [clip_of(data, "video", i) for i in range(3)]
    line = {"file": ("l.png", LINE.read_bytes(), "image/png")}
    with TestClient(create_app(served, ServeConfig(workers=1, batch=4))) as c, ThreadPoolExecutor(4) as pool:
        engine = c.app.state.engine  # type: ignore[attr-defined]
        first = pool.submit(post_clips, c, clips[:1])
        wait_for(lambda: engine.running == 1)
        read = pool.submit(lambda: c.post("/v1/read", files=line))  # the one worker is busy with clips: it waits
        later = [pool.submit(post_clips, c, [clip]) for clip in clips[1:]]
        wait_for(lambda: engine.waiting == 3)
        gate.set()
        assert first.result(30).json()["timing"]["batch_clips"] == 1
        bodies = [f.result(30).json() for f in later]
        assert [b["timing"]["batch_clips"] for b in bodies] == [2, 2]  # two requests, one pass
        assert [b["clips"][0]["name"] for b in bodies] == [clip.name for clip in clips[1:]]
        assert read.result(30).status_code == 200
