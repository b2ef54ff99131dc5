"""Shards: ``seqvision pack`` round trip, and streaming that gives every line to exactly one rank and worker."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tarfile
from collections import Counter
from pathlib import Path

import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

import seqvision.tasks.lines.shard_stream as stream_module
from conftest import HEIGHT, TINY
from seqvision.cli.main import main
from seqvision.data.alphabet import Alphabet
from seqvision.data.readers import read_lines
from seqvision.errors import DataError
from seqvision.tasks.lines.shard_stream import ShardLines
from seqvision.tasks.lines.shards import ShardIndex, read_shard

N = 40


@pytest.fixture(scope="module")
def numbered(lines_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 40 test lines relabelled ``n0`` ... ``n39``, packed into 14 uneven shards of at most 3 lines."""
    folder = tmp_path_factory.mktemp("numbered")
    rows = (lines_dir / "labels.tsv").read_text(encoding="utf-8").splitlines()
    tsv = folder / "labels.tsv"
    tsv.write_text("".join(f"{lines_dir / r.split(chr(9))[0]}\tn{i}\n" for i, r in enumerate(rows)), encoding="utf-8")
    assert main(["pack", str(tsv), "--out", str(folder / "shards"), "--shard-size", "3"]) == 0
    return folder / "shards"


def test_pack_keeps_every_line_image_and_text(lines_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "shards"
    assert main(["pack", str(lines_dir), "--out", str(out), "--shard-size", "16"]) == 0
    assert "40 lines, 3 shards" in capsys.readouterr().out
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert [s["lines"] for s in index["shards"]] == [16, 16, 8]
    samples = read_lines(lines_dir).samples
    assert index["characters"] == "".join(Alphabet.from_texts(s.text for s in samples).chars)
    records = [r for s in ShardIndex.load(out).shards for r in read_shard(s.file)]
    assert [r.text for r in records] == [s.text for s in samples]
    for r, s in list(zip(records, samples, strict=True))[:5]:  # re-encoded, with the same pixels
        with Image.open(io.BytesIO(r.png)) as a, Image.open(s.image) as b:
            assert a.size == b.size == (r.width, r.height)
            assert a.convert("L").tobytes() == b.convert("L").tobytes()
    with tarfile.open(out / "lines-000000.tar") as tar:  # the WebDataset layout: KEY.png, KEY.txt, KEY.json
        assert tar.getnames()[:3] == ["000000000.png", "000000000.txt", "000000000.json"]
    assert main(["pack", str(lines_dir), "--out", str(out)]) == 1  # never into a folder that holds something


def test_pack_closes_shards_by_size_and_scales_lines(lines_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "shards"
    assert main(["pack", str(lines_dir), "--out", str(out), "--shard-mb", "0.02", "--height", "16"]) == 0
    index = ShardIndex.load(out)
    assert len(index.shards) > 2 and index.lines == N and index.height == 16
    # each shard closes with the line that passes the limit (tar pads the file to 10 KiB records)
    assert all(s.file.stat().st_size <= 0.02 * 2**20 + 4096 + 10240 for s in index.shards)
    assert {r.height for s in index.shards for r in read_shard(s.file)} == {16}


def test_pack_and_training_errors_are_one_line(tmp_path: Path, capsys) -> None:
    assert main(["pack", str(tmp_path / "missing.tsv"), "--out", str(tmp_path / "s")]) == 1
    assert "missing.tsv: no such file or folder" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "index.json").write_text("{not json", encoding="utf-8")
    argv = ["train", "--train", str(bad), "--val", str(bad), "--out", str(tmp_path / "run"), *TINY]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("seqvision: error:") and "index.json: not a valid shard index" in err
    assert len(err.splitlines()) == 1


def stream(index: ShardIndex, shuffle: bool, workers: int, batch: int = 4) -> ShardLines:
    alphabet = Alphabet.from_texts(index.characters)
    return ShardLines(index, alphabet, HEIGHT, batch, lambda w: w // 4, 10_000, shuffle, seed=3, workers=workers)


def seen_on_ranks(index: ShardIndex, shuffle: bool, world: int, workers: int, monkeypatch, epochs: int = 1):
    """Per rank, per epoch: the texts of every batch its loader (with real worker processes) yields."""
    result = []
    for rank in range(world):
        monkeypatch.setattr(stream_module, "rank_and_world", lambda r=rank: (r, world))
        ds = stream(index, shuffle, workers)
        ctx = "fork" if workers else None  # the workers inherit the simulated rank
        # persistent workers, as training uses: each keeps its copy of the stream, which counts the epochs
        loader = DataLoader(
            ds, batch_size=None, num_workers=workers, multiprocessing_context=ctx, persistent_workers=workers > 0
        )
        result.append([[b["texts"] for b in loader] for _ in range(epochs)])
        assert all(len(e) == len(ds) for e in result[-1])  # the epoch length Lightning is told is right
    return result


@pytest.mark.parametrize("shuffle", [False, True], ids=["eval", "train"])
def test_two_ranks_times_two_workers_see_every_line_once(numbered: Path, shuffle: bool, monkeypatch) -> None:
    index = ShardIndex.load(numbered)
    assert [s.lines for s in index.shards] == [3] * 13 + [1]
    ranks = seen_on_ranks(index, shuffle, world=2, workers=2, monkeypatch=monkeypatch, epochs=2)
    for epoch in range(2):
        texts = Counter(t for r in ranks for batch in r[epoch] for t in batch)
        assert texts == Counter(f"n{i}" for i in range(N))  # each line once: no duplicate, no drop
        assert {len(b) for r in ranks for b in r[epoch]} <= {1, 2}  # global batch 4 = 2 per rank
        if shuffle:
            assert len(ranks[0][epoch]) == len(ranks[1][epoch])  # DDP: the same number of steps per rank
    if shuffle:
        assert ranks[0][0] != ranks[0][1]  # a new order every epoch


def test_uneven_split_pads_training_but_not_evaluation(numbered: Path, monkeypatch) -> None:
    index = ShardIndex.load(numbered)
    odd = ShardIndex(index.folder, index.shards[:-1], index.characters, 0)  # 39 lines over 3 ranks x 2 workers
    train = seen_on_ranks(odd, True, world=3, workers=2, monkeypatch=monkeypatch)
    assert len({len(r[0]) for r in train}) == 1  # equal steps on every rank
    seen = Counter(t for r in train for b in r[0] for t in b)
    assert set(seen) == {f"n{i}" for i in range(39)}  # nothing dropped; a few repeats make up the steps
    evaluation = seen_on_ranks(odd, False, world=3, workers=2, monkeypatch=monkeypatch)
    assert Counter(t for r in evaluation for b in r[0] for t in b) == Counter(f"n{i}" for i in range(39))


def test_too_few_lines_for_the_ranks_and_workers_is_a_clear_error(numbered: Path, monkeypatch) -> None:
    index = ShardIndex.load(numbered)
    tiny = ShardIndex(index.folder, index.shards[:1], index.characters, 0)  # 3 lines
    monkeypatch.setattr(stream_module, "rank_and_world", lambda: (0, 2))
    with pytest.raises(DataError, match=r"3 line\(s\) for 2 rank\(s\) x 2 loader worker"):
        list(stream(tiny, shuffle=False, workers=2))


def test_batches_are_bucketed_by_width(numbered: Path) -> None:
    ds = stream(ShardIndex.load(numbered), shuffle=True, workers=0, batch=8)
    batches = list(ds)
    padded = sum(int(b["images"].shape[-1]) * len(b["texts"]) for b in batches)
    assert sum(int(b["widths"].sum()) for b in batches) > 0.75 * padded  # little of each batch is padding
    assert all(torch.isfinite(b["images"]).all() for b in batches)


def test_training_streams_from_shards(numbered: Path, tmp_path: Path) -> None:
    """A tiny real run on shards: the CTC loss goes down, and the model knows the index's characters."""
    out = tmp_path / "run"
    argv = ["train", "--train", str(numbered), "--val", str(numbered), "--out", str(out), "--epochs", "6"]
    assert main([*argv, "--batch-size", "8", *TINY, "--set=train.lr=0.005", "--set=data.augment=false"]) == 0
    meta = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert meta["alphabet"] == list(ShardIndex.load(numbered).characters)
    assert meta["training"]["train_lines"] == N
    with (out / "metrics.csv").open(encoding="utf-8") as fh:
        losses = [float(r["train_loss_epoch"]) for r in csv.DictReader(fh) if r.get("train_loss_epoch")]
    assert len(losses) == 6 and losses[-1] < 0.7 * losses[0], losses


def test_eval_on_shards_matches_eval_on_the_folder(lines_dir: Path, tmp_path: Path, capsys) -> None:
    """The bundled model scores the packed lines exactly as it scores the original folder."""
    assert main(["pack", str(lines_dir), "--out", str(tmp_path / "shards"), "--shard-size", "7"]) == 0
    capsys.readouterr()
    results = []
    for data in (lines_dir, tmp_path / "shards"):
        assert main(["eval", str(data), "--json", "--threads", "1"]) == 0
        results.append(json.loads(capsys.readouterr().out))
    for key in ("cer", "wer", "lines", "chars", "skipped"):
        assert results[0][key] == results[1][key], key
    assert results[1]["lines"] == N and results[1]["cer"] < 0.2  # a real reading, not an empty one


def test_two_gloo_processes_train_from_shards(numbered: Path, tmp_path: Path) -> None:
    """A real 2-process DDP run streaming shards with a loader worker each: no hang, the same steps as one process."""
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "seqvision", "train", "--train", str(numbered), "--val", str(numbered)]
    argv += ["--out", str(out), "--epochs", "2", "--batch-size", "8", *TINY, "--set=data.num_workers=1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([*argv, "--devices", "2", "--strategy", "ddp"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("model: ") == 1
    with (out / "metrics.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("val_loss")]
    # 40 lines, global batch 8: 5 steps per epoch, as in one process (each rank: 20 lines in batches of 4)
    assert [r["step"] for r in rows] == ["4", "9"]
