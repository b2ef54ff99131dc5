"""Captioning: decoder shapes and masks, beam 1 == greedy, readers, the metric wrapper on known pairs,
and a tiny run through ``main(argv)`` that overfits two generated photos; bad input is one clear line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageDraw

from seqvision.cli.main import main
from seqvision.config import SequenceConfig
from seqvision.errors import DataError
from seqvision.nn.encoders import encoders_for
from seqvision.nn.model import CaptionModel, build_model
from seqvision.nn.presets import get_preset
from seqvision.registry import PRESETS, SEQUENCES
from seqvision.tasks.captioning.captions import read_captions
from seqvision.tasks.captioning.dataset import collate_captions
from seqvision.tasks.captioning.module import caption_loss
from seqvision.tasks.captioning.search import beam_search, greedy
from seqvision.tasks.captioning.vocab import Vocabulary, tokenize

pytest.importorskip("pycocoevalcap")

CAPTION_PRESETS = [name for name in PRESETS if get_preset(name).input == "image"]
SIZE, GRID = 32, 2
TINY = [
    f"--set=model.height={SIZE}",
    "--set=model.encoder.channels=[8,16,16,16]",
    f"--set=model.encoder.grid={GRID}",
    "--set=model.head.hidden=64",
    "--set=model.head.embedding=32",
    "--set=model.head.attention=32",
    "--set=data.caption.min_count=1",
    "--set=data.augment=false",
    "--set=data.num_workers=0",
    "--set=train.lr=0.01",
    "--threads=1",
    "--quiet",
]
TINY_CHANNELS = {
    "small": [8, 16, 16, 16],
    "resnet": [8, 8, 12, 16],
    "vgg": [8, 8, 12, 12, 16],
    "mobile": [8, 8, 12, 12, 16],
    "laia": [4, 8, 8, 12, 16],
}
PHOTOS = {  # two generated photos, each with two wordings of one caption
    "ball.png": ("a red ball on white snow .", "A red ball on white snow"),
    "box.png": ("the blue box sits in the dark night", "The blue box sits in the dark night ."),
}


def tiny_model(sequence: str = "none", vocab: int = 12, encoder: str = "small") -> CaptionModel:
    cfg = get_preset("sat-small")
    cfg.encoder.name = encoder
    cfg.height, cfg.encoder.channels, cfg.encoder.grid = SIZE, TINY_CHANNELS[encoder], GRID
    cfg.sequence = SequenceConfig(sequence, hidden=16, layers=1, dropout=0.0, heads=2)
    cfg.head.hidden, cfg.head.embedding, cfg.head.attention = 24, 8, 8
    model = build_model(cfg, vocab)
    assert isinstance(model, CaptionModel)
    return model.eval()


def write_photos(folder: Path) -> Path:
    (folder / "images").mkdir(parents=True)
    ball = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(ball).ellipse((12, 12, 52, 52), fill="red")
    box = Image.new("RGB", (64, 64), "black")
    ImageDraw.Draw(box).rectangle((8, 30, 56, 56), fill="blue")
    ball.save(folder / "images" / "ball.png")
    box.save(folder / "images" / "box.png")
    with (folder / "captions.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["image", "caption"])
        writer.writerows([f"images/{name}", c] for name, caps in PHOTOS.items() for c in caps)
    return folder


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The two photos as train, and copies of them as val (another file each, so no leak)."""
    root = tmp_path_factory.mktemp("captions")
    return write_photos(root / "train"), write_photos(root / "val")


@pytest.fixture(scope="module")
def caption_run(photos: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("caption-runs") / "run"
    argv = ["train", "--task", "captioning", "--train", str(photos[0]), "--val", str(photos[1]), "--out", str(out)]
    assert main([*argv, "--epochs", "60", "--seed", "0", *TINY]) == 0
    return out


def test_caption_presets_build() -> None:
    assert CAPTION_PRESETS
    for name in CAPTION_PRESETS:
        cfg = get_preset(name)
        assert cfg.head.name == "attention" and isinstance(build_model(cfg, 50), CaptionModel)


@pytest.mark.parametrize("sequence", SEQUENCES.names())
def test_decoder_shapes_and_attention(sequence: str) -> None:
    model = tiny_model(sequence)
    images = torch.rand(3, 3, SIZE, SIZE)
    cells = model.cells(images)
    assert cells.shape[:2] == (3, GRID * GRID)
    words = torch.randint(4, 12, (3, 5))
    logits, alphas = model(images, words)
    assert logits.shape == (3, 5, 12) and alphas.shape == (3, 5, GRID * GRID)
    assert torch.allclose(alphas.sum(-1), torch.ones(3, 5), atol=1e-5)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("encoder", encoders_for("image"))  # the one-hot sequence encoders refuse photos
def test_every_encoder_gives_a_grid(encoder: str) -> None:
    model = tiny_model(encoder=encoder)
    cells = model.cells(torch.rand(2, 3, SIZE, SIZE))
    assert cells.shape == (2, GRID * GRID, model.encoder.out_channels) and torch.isfinite(cells).all()


def test_padding_never_reaches_the_loss_and_every_parameter_learns() -> None:
    model = tiny_model().train()
    vocab = Vocabulary.build(["a red ball", "a blue box on the snow"])
    items = [
        {"image": (torch.rand(3, SIZE, SIZE) * 255).to(torch.uint8).numpy(), "ids": ids, "refs": [], "index": i}
        for i, ids in enumerate([[vocab.encode("a red ball")], [vocab.encode("a blue box on the snow")]])
    ]
    batch = collate_captions(items)
    assert batch["words"].shape == batch["targets"].shape == (2, 7) and batch["owner"].tolist() == [0, 1]
    assert batch["words"][0].tolist() == [Vocabulary.bos, *vocab.encode("a red ball"), 0, 0, 0]
    assert batch["targets"][0].tolist() == [*vocab.encode("a red ball"), Vocabulary.eos, 0, 0, 0]
    model = tiny_model(vocab=len(vocab))
    torch.manual_seed(0)
    loss, _ = caption_loss(model, batch, attention_reg=1.0)
    padded = dict(batch, words=batch["words"].clone())
    padded["words"][0, 5:] = 7  # garbage after the end of the short caption: the loss must not change
    torch.manual_seed(0)
    assert torch.allclose(caption_loss(model, padded, attention_reg=1.0)[0], loss)
    model.train()
    loss, _ = caption_loss(model, batch, attention_reg=1.0)
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.any())]
    assert not missing, missing


def test_beam_width_one_is_greedy() -> None:
    torch.manual_seed(3)
    model = tiny_model(vocab=12)
    cells = model.cells(torch.rand(4, 3, SIZE, SIZE))
    assert beam_search(model.head, cells, 1, 2, 8, width=1) == greedy(model.head, cells, 1, 2, 8)
    wide = beam_search(model.head, cells, 1, 2, 8, width=4)
    assert len(wide) == 4 and all(len(ids) <= 9 and 2 not in ids for ids in wide)


def test_vocabulary_round_trip() -> None:
    vocab = Vocabulary.build(["A dog runs.", "a dog sits", "A cat's toy"], min_count=2)
    assert vocab.words[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"] and vocab.words[4:] == ["a", "dog"]
    assert vocab.decode([*vocab.encode("a dog flies"), Vocabulary.eos, 5]) == "a dog <unk>"
    assert tokenize("A cat's toy, on the mat.") == ["a", "cat's", "toy", "on", "the", "mat"]


def test_metric_wrapper_on_known_pairs() -> None:
    from seqvision.tasks.captioning.metrics import caption_scores

    refs = [["a dog runs on the grass", "a brown dog runs"], ["a man rides a red bike", "a cyclist on a road"]]
    same, _ = caption_scores(refs, ["a dog runs on the grass", "a man rides a red bike"], meteor=False)
    assert all(same[f"bleu{n}"] == pytest.approx(1.0, abs=1e-6) for n in range(1, 5))
    assert same["rouge_l"] == pytest.approx(1.0) and same["cider"] > 1.0
    unrelated, _ = caption_scores(refs, ["xylophones hum quietly", "purple zebras sing"], meteor=False)
    assert unrelated["bleu1"] < 1e-6 and unrelated["rouge_l"] == 0.0 and unrelated["cider"] == 0.0
    # BLEU-1 by hand: "a dog sleeps" vs best refs: clipped matches a, dog = 2 of 3 words; brevity penalty
    # exp(1 - 4/3) (closest reference length 4): 2/3 * e^(-1/3); second: "a man" 2 of 2, r = 5 -> e^(1-5/2)
    half, _ = caption_scores(refs, ["a dog sleeps", "a man"], meteor=False)
    assert half["bleu1"] == pytest.approx(4 / 5 * 2.718281828 ** (1 - 9 / 5), rel=1e-3)


def test_metric_wrapper_meteor_or_note(monkeypatch: pytest.MonkeyPatch) -> None:
    from seqvision.tasks.captioning import metrics as caption_metrics

    monkeypatch.setattr(caption_metrics.shutil, "which", lambda name: None)
    scores, notes = caption_metrics.caption_scores([["a dog runs"]], ["a dog runs"])
    assert "meteor" not in scores and notes and "Java" in notes[0]


def test_readers_csv_and_json(tmp_path: Path, photos: tuple[Path, Path]) -> None:
    csv_report = read_captions(photos[0])
    assert [len(s.captions) for s in csv_report.samples] == [2, 2] and not csv_report.skipped
    coco = {
        "images": [{"id": 1, "file_name": "images/ball.png"}, {"id": 2, "file_name": "images/gone.png"}],
        "annotations": [{"image_id": 1, "caption": "a red ball"}, {"image_id": 2, "caption": "nothing"}],
    }
    (photos[0] / "coco.json").write_text(json.dumps(coco))
    report = read_captions(photos[0] / "coco.json")
    assert [s.captions for s in report.samples] == [("a red ball",)] and "gone.png" in report.skipped[0]
    karpathy = {"images": [{"filename": "ball.png", "filepath": "images", "sentences": [{"raw": "a ball"}]}]}
    (tmp_path / "k.json").write_text(json.dumps(karpathy))
    with pytest.raises(DataError, match=r"k\.json"):  # images are relative to the JSON file: none here
        read_captions_or_fail(tmp_path / "k.json")
    (tmp_path / "bad.csv").write_text("file,text\na.png,hello\n")
    with pytest.raises(DataError, match=r"bad\.csv.*image and caption"):
        read_captions(tmp_path / "bad.csv")


def read_captions_or_fail(path: Path) -> None:
    report = read_captions(path)
    if not report.samples:
        raise DataError(f"{path}: {report.skipped[0]}")


def test_tiny_run_overfits_two_photos(caption_run: Path, photos: tuple[Path, Path], capsys) -> None:
    meta = json.loads((caption_run / "model.json").read_text(encoding="utf-8"))
    assert meta["task"] == "captioning" and "box" in meta["vocabulary"]
    with (caption_run / "metrics.csv").open(encoding="utf-8") as fh:
        losses = [float(r["train_loss_epoch"]) for r in csv.DictReader(fh) if r["train_loss_epoch"]]
    assert losses[-1] < 0.3 * losses[0], losses
    capsys.readouterr()
    # greedy, as validation decoded when it selected this model (the first epoch that got both right)
    assert main(["caption", str(caption_run), str(photos[1] / "images"), "--beam-width", "1", "--threads", "1"]) == 0
    got = dict(line.split("\t") for line in capsys.readouterr().out.splitlines())
    for name, caps in PHOTOS.items():
        assert got[str(photos[1] / "images" / name)] == " ".join(tokenize(caps[0]))


def test_eval_read_and_attention_maps(
    caption_run: Path, photos: tuple[Path, Path], tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seqvision.tasks.captioning import metrics as caption_metrics

    monkeypatch.setattr(caption_metrics.shutil, "which", lambda name: None)  # METEOR's JVM takes ~15 s to start
    capsys.readouterr()
    assert main(["eval", str(caption_run), str(photos[1]), "--json", "--threads", "1"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["images"] == 2 and result["bleu4"] > 0.99 and result["decoder"] == "greedy"
    assert "meteor" not in result and "METEOR skipped" in captured.err
    assert {"bleu1", "rouge_l", "cider"} <= set(result)
    image = str(photos[1] / "images" / "ball.png")
    assert main(["read", str(caption_run), image, "--json", "--threads", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["caption"] == "a red ball on white snow"
    maps = tmp_path / "maps"
    assert main(["caption", str(caption_run), image, "--beam-width=1", "--attention", str(maps), "--threads=1"]) == 0
    pngs = sorted(maps.glob("*.png"))
    assert [p.name for p in pngs][:2] == ["ball_00_a.png", "ball_01_red.png"] and len(pngs) == 6
    assert Image.open(pngs[0]).size == (224, 224)


def test_bad_input_is_one_clear_line(caption_run: Path, tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    capsys.readouterr()
    assert main(["caption", str(caption_run), str(broken), "--threads", "1"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "broken.png" in err and err.count("seqvision: error:") == 1
    assert main(["eval", str(caption_run), str(tmp_path / "missing.csv")]) == 1
    assert "missing.csv" in capsys.readouterr().err
    assert main(["export", str(caption_run), "--out", str(tmp_path / "m.onnx")]) == 1
    assert "not supported" in capsys.readouterr().err


def test_flickr8k_reads(shared_data: Path) -> None:
    for split, images in (("train", 800), ("val", 100)):
        report = read_captions(shared_data / "flickr8k" / split)
        assert len(report.samples) == images and not report.skipped
        assert all(len(s.captions) == 5 for s in report.samples)


def test_scheduled_sampling_feeds_the_models_own_words() -> None:
    model = tiny_model(vocab=12)
    images, words = torch.rand(2, 3, SIZE, SIZE), torch.randint(4, 12, (2, 6))
    forced, _ = model(images, words)
    own, _ = model(images, words, sampling=1.0)  # every step after the first reads the previous argmax
    assert torch.allclose(forced[:, 0], own[:, 0]) and not torch.allclose(forced, own)
    fed = torch.cat([words[:, :1], own[:, :-1].argmax(-1)], 1)
    assert torch.allclose(model(images, fed)[0], own, atol=1e-5)


def test_text_line_loaders_refuse_a_captioning_model(caption_run: Path) -> None:
    from seqvision.errors import CheckpointError
    from seqvision.tasks.lines.predictor import Recognizer

    with pytest.raises(CheckpointError, match="a captioning model, not a text-line model"):
        Recognizer.load(caption_run)
