"""The Predictor contract, for every registered task: load through the registry, predict a batch, records to JSON.

Each task gets a tiny saved model (untrained, as ``seqvision train`` would save it; text lines use a
bundled one) and a few inputs of its kind. A task registered without an entry here fails
``test_every_task_has_a_contract_case``, so a new task cannot skip the contract.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from seqvision.checkpoint import BUNDLED, save_model
from seqvision.config import ExperimentConfig, apply_overrides, to_dict
from seqvision.errors import CheckpointError
from seqvision.nn.model import build_model
from seqvision.nn.presets import get_preset
from seqvision.registry import TASKS
from seqvision.tasks import get_task
from seqvision.tasks.predictor import Predictor, load_predictor

LINES = Path(__file__).resolve().parents[1] / "examples" / "lines"


def text_lines(folder: Path) -> tuple[Path, list[Any]]:
    images = [Image.open(LINES / "line1.png"), Image.open(LINES / "line2.png"), Image.open(LINES / "line3.png")]
    return BUNDLED / "print-en.safetensors", images


def image_classes(folder: Path) -> tuple[Path, list[Any]]:
    cfg = ExperimentConfig(task="image_classes", model=get_preset("digits-small"))
    apply_overrides(cfg, ["model.height=16", "model.sequence.hidden=8", "model.sequence.layers=1"])
    labels = ["0", "1", "7"]
    meta = {
        "task": "image_classes",
        "architecture": to_dict(cfg.model),
        "labels": labels,
        "input": {"height": 16, "channels": 1},
    }
    path = save_model(folder / "digits.safetensors", build_model(cfg.model, len(labels)), meta)
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 255, (20, w), dtype=np.uint8)) for w in (20, 64, 33)]
    return path, images


def video(folder: Path) -> tuple[Path, list[Any]]:
    from seqvision.tasks.video.clips import read_clips
    from seqvision.tasks.video.synth import write_clips
    from seqvision.tasks.video.task import input_metadata

    cfg = ExperimentConfig(task="video", model=get_preset("lrcn-small"))
    apply_overrides(cfg, ["model.height=16", "model.encoder.channels=[4,8,8,8]", "model.sequence.hidden=8"])
    apply_overrides(cfg, ["data.clip.frames=4"])
    meta = {"task": "video", "architecture": to_dict(cfg.model), "labels": ["a", "b"], "input": input_metadata(cfg)}
    path = save_model(folder / "video.safetensors", build_model(cfg.model, 2), meta)
    csv = write_clips(
        folder / "clips", 1, frames=6, size=16, groups=1, container="frames", classes=("move-right", "grow")
    )
    return path, [s.path for s in read_clips(csv).samples]


def gait(folder: Path) -> tuple[Path, list[Any]]:
    from seqvision.tasks.gait.sequences import read_gait
    from seqvision.tasks.gait.synth import write_walkers
    from seqvision.tasks.gait.task import input_metadata

    cfg = ExperimentConfig(task="gait", model=get_preset("gait-small"))
    apply_overrides(cfg, ["model.height=16", "model.encoder.channels=[4,8,8,8]", "model.sequence.hidden=8"])
    apply_overrides(cfg, ["model.head.embedding=8", "data.clip.frames=4"])
    meta = {"task": "gait", "architecture": to_dict(cfg.model), "input": input_metadata(cfg)}
    path = save_model(folder / "gait.safetensors", build_model(cfg.model, 8), meta)
    root = write_walkers(folder / "walkers", 2, sequences=2, frames=6, size=16)
    return path, [s.path for s in read_gait(root).samples][:3]


def sound(folder: Path) -> tuple[Path, list[Any]]:
    pytest.importorskip("av")
    from seqvision.tasks.sound.clips import read_sound_clips
    from seqvision.tasks.sound.synth import write_sound_clips
    from seqvision.tasks.sound.task import input_metadata

    cfg = ExperimentConfig(task="sound", model=get_preset("vis-small"))
    apply_overrides(cfg, ["model.height=16", "model.encoder.channels=[4,8,8,8]", "model.sequence.hidden=8"])
    apply_overrides(cfg, ["data.clip.frames=6", "data.sound.bands=6", "data.sound.steps=2"])
    sound = {"rate": 16000, "bands": 6, "steps": 2, "n_fft": 512, "loss": "l1", "mean": [-5.0] * 6}
    meta = {"task": "sound", "architecture": to_dict(cfg.model), "input": input_metadata(cfg), "sound": sound}
    path = save_model(folder / "sound.safetensors", build_model(cfg.model, 12), meta)
    csv = write_sound_clips(folder / "clips", 1, frames=6, size=16, groups=1)
    return path, [s.path for s in read_sound_clips(csv).samples[:3]]


def emotion(folder: Path) -> tuple[Path, list[Any]]:
    from seqvision.config import EmotionConfig
    from seqvision.tasks.emotion.model import build_emotion_model
    from seqvision.tasks.emotion.synth import write_emotion_clips
    from seqvision.tasks.emotion.task import input_metadata

    cfg = ExperimentConfig(task="emotion", model=get_preset("emotion-small"))
    apply_overrides(cfg, ["model.height=16", "model.encoder.channels=[4,8,8,8]", "data.clip.frames=6"])
    apply_overrides(cfg, ["data.emotion.bands=16", "data.emotion.audio_channels=[4,8,8,8]"])
    labels = ["happy", "sad"]
    meta = {
        "task": "emotion",
        "architecture": to_dict(cfg.model),
        "emotion": to_dict(cfg.data.emotion),
        "labels": labels,
        "input": input_metadata(cfg),
    }
    assert isinstance(cfg.data.emotion, EmotionConfig)
    path = save_model(folder / "emotion.safetensors", build_emotion_model(cfg.model, cfg.data.emotion, 2), meta)
    csv = write_emotion_clips(folder / "clips", 1, actors=1, frames=6, size=16)
    return path, [folder / "clips" / row.split(",")[0] for row in csv.read_text().splitlines()[1:4]]


def captioning(folder: Path) -> tuple[Path, list[Any]]:
    from seqvision.tasks.captioning.vocab import SPECIALS

    cfg = ExperimentConfig(task="captioning", model=get_preset("sat-small"))
    apply_overrides(cfg, ["model.height=32", "model.encoder.channels=[4,8,8,8]", "model.encoder.grid=2"])
    apply_overrides(cfg, ["model.head.hidden=8", "model.head.embedding=8", "model.head.attention=8"])
    words = [*SPECIALS, "a", "dog", "runs"]
    meta = {
        "task": "captioning",
        "architecture": to_dict(cfg.model),
        "vocabulary": words,
        "input": {"height": 32, "width": 32, "channels": 3},
        "decoding": {"max_words": 5},
    }
    path = save_model(folder / "captions.safetensors", build_model(cfg.model, len(words)), meta)
    rng = np.random.default_rng(1)
    photos = []
    for i, size in enumerate((40, 32, 57)):
        photos.append(folder / f"photo{i}.png")
        Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(photos[-1])
    return path, photos


def forecast(folder: Path) -> tuple[Path, list[Any]]:
    from seqvision.tasks.forecast.model import build_forecaster
    from seqvision.tasks.forecast.normalise import Normalisation

    cfg = ExperimentConfig(task="forecast", model=get_preset("convlstm-small"))
    apply_overrides(cfg, ["model.height=16", "model.sequence.hidden=4", "model.sequence.layers=1"])
    model = build_forecaster(cfg.model, frames_out=2)
    for p in model.head.parameters():  # the head starts at zero (persistence); make the forecast depend on it
        p.data.normal_(0, 0.1)
    norm = Normalisation("linear", offset=0.0, scale=255.0, units="intensity 0-255")
    inp = {"kind": "arrays", "height": 16, "width": 16, "channels": 1, "frames_in": 3, "frames_out": 2}
    meta = {
        "task": "forecast",
        "architecture": to_dict(cfg.model),
        "input": {**inp, "normalisation": norm.to_dict(), "units": norm.units},
    }
    path = save_model(folder / "forecast.safetensors", model, meta)
    rng = np.random.default_rng(2)
    past = [rng.uniform(0, 255, (t, 16, 16)).astype(np.float32) for t in (3, 5, 4)]
    return path, past


def dna(folder: Path) -> tuple[Path, list[Any]]:
    from seqvision.nn.presets import danq_small
    from seqvision.tasks.dna.batches import CHANNELS
    from seqvision.tasks.dna.bio import SeqRecord

    model_cfg = danq_small(filters=12)
    model_cfg.encoder.kernel, model_cfg.encoder.pool = 7, 3
    model_cfg.sequence.hidden, model_cfg.head.hidden = 16, 8
    labels = ["bound", "open"]
    meta = {
        "task": "dna",
        "architecture": to_dict(model_cfg),
        "labels": labels,
        "input": {"channels": CHANNELS, "n": 0.25, "rna": False},
    }
    path = save_model(folder / "dna.safetensors", build_model(model_cfg, len(labels)), meta)
    rng = np.random.default_rng(3)
    records = [
        SeqRecord(f"s{i}", "".join(rng.choice(list("ACGT"), n)), None, f"test:{i}") for i, n in enumerate((40, 90, 61))
    ]
    return path, records


def segment(folder: Path) -> tuple[Path, list[Any]]:
    from seqvision.tasks.segment.model import MAPS, build_segmenter

    cfg = ExperimentConfig(task="segment", model=get_preset("seg-small"))
    apply_overrides(cfg, ["model.height=64", "model.encoder.channels=[4,8,8,8]"])
    model = build_segmenter(cfg.model)
    with torch.no_grad():  # an untrained head says "background" everywhere; make some pixels line-like
        model.head.bias.fill_(0.0)
    meta = {"task": "segment", "architecture": to_dict(cfg.model), "maps": list(MAPS), "input": {"height": 64}}
    path = save_model(folder / "segment.safetensors", model, meta)
    rng = np.random.default_rng(4)
    pages = [Image.fromarray(rng.integers(0, 255, (h, w), dtype=np.uint8)) for h, w in ((80, 60), (100, 120), (64, 64))]
    return path, pages


CASES: dict[str, Callable[[Path], tuple[Path, list[Any]]]] = {
    "text_lines": text_lines,
    "image_classes": image_classes,
    "video": video,
    "gait": gait,
    "sound": sound,
    "emotion": emotion,
    "captioning": captioning,
    "forecast": forecast,
    "dna": dna,
    "segment": segment,
}


def test_every_task_has_a_contract_case() -> None:
    assert sorted(CASES) == list(TASKS)


@pytest.fixture(scope="module", params=list(TASKS))
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, list[Any]]:
    name = request.param
    path, inputs = CASES[name](tmp_path_factory.mktemp(f"predictor-{name}"))
    return name, path, inputs


def test_predictor_loads_through_the_registry_and_records_round_trip_json(case: tuple[str, Path, list[Any]]) -> None:
    name, path, inputs = case
    cls = get_task(name).predictor
    assert cls.task == name
    predictor = load_predictor(path)  # the task comes from the model's metadata, not from the caller
    assert type(predictor) is cls
    assert isinstance(predictor, Predictor)
    assert predictor.metadata["task"] == name
    records = predictor.predict(inputs)
    assert len(records) == len(inputs)
    as_json = [predictor.to_json(r) for r in records]
    for j in as_json:
        assert isinstance(j, dict) and j
        assert json.loads(json.dumps(j)) == j  # plain JSON values: nothing lost or turned into something else
    # one record per input, in input order, however the predictor batches (by width, by length ...)
    again = [predictor.to_json(r) for r in predictor.predict(inputs[::-1])]
    assert again == as_json[::-1]


def test_predictor_refuses_another_tasks_model(case: tuple[str, Path, list[Any]], tmp_path: Path) -> None:
    name, _, _ = case
    if name == "text_lines":
        other, what = dna(tmp_path)[0], "DNA/RNA"
    else:
        other, what = BUNDLED / "print-en.safetensors", "text-line"
    with pytest.raises(CheckpointError, match=f"a {what} model, not a"):
        get_task(name).predictor.load(other)


def test_forecaster_onnx_backend_matches_torch(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    path, past = forecast(tmp_path)
    torch_out = get_task("forecast").predictor.load(path).predict(past)
    onnx_out = get_task("forecast").predictor.load(path, "onnx").predict(past)
    for a, b in zip(torch_out, onnx_out, strict=True):
        assert a.shape == (2, 1, 16, 16)
        np.testing.assert_allclose(a, b, atol=1e-3)
