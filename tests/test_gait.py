"""Gait data and scores: readers (CASIA-B folders, CSV) with one-line skips, subject splits that never leak,
gallery/probe, CMC rank-k and mAP, the metric losses, P x K batches and the synthetic walkers."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from seqvision.errors import DataError
from seqvision.tasks.gait.dataset import SubjectBatches, load_walk, probe_walks
from seqvision.tasks.gait.losses import arcface_loss, batch_hard_triplet
from seqvision.tasks.gait.metrics import nearest_subjects, retrieval_scores
from seqvision.tasks.gait.sequences import (
    GaitSample,
    check_no_leak,
    gallery_split,
    read_gait,
    subject_split,
)
from seqvision.tasks.gait.synth import Walker, render_walk, write_walkers


@pytest.fixture(scope="module")
def walkers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_walkers(tmp_path_factory.mktemp("gait") / "walk", 5, sequences=3, frames=12, size=16)


def samples(subjects: int, per_subject: int = 2) -> list[GaitSample]:
    return [
        GaitSample(Path(f"{s:03d}/nm-{k:02d}"), f"{s:03d}", f"nm-{k:02d}", "090", f"{s:03d}/nm-{k:02d}")
        for s in range(subjects)
        for k in range(1, per_subject + 1)
    ]


def test_folder_and_csv_readers_agree(walkers: Path) -> None:
    folder = read_gait(walkers)
    assert not folder.skipped and len(folder.samples) == 15
    first = folder.samples[0]
    assert (first.subject, first.sequence, first.view) == ("001", "nm-01", "090")
    rows = ["path,subject,sequence,view"] + [
        f"{s.path.relative_to(walkers)},{s.subject},{s.sequence},{s.view}" for s in folder.samples
    ]
    (walkers / "list.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    table = read_gait(walkers / "list.csv")
    assert [(s.path, s.subject, s.sequence) for s in table.samples] == [
        (s.path, s.subject, s.sequence) for s in folder.samples
    ]


def test_bad_clips_are_skipped_with_one_line_each(walkers: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "data"
    shutil.copytree(walkers, root)
    shutil.rmtree(root / "001" / "nm-02" / "090")
    (root / "001" / "nm-02" / "090").mkdir()  # zero frames
    Image.new("L", (20, 16)).save(root / "002" / "nm-01" / "090" / "005.png")  # one frame of another size
    for seq in ("nm-02", "nm-03"):
        shutil.rmtree(root / "003" / seq)  # subject 003 keeps one sequence
    (root / "bad.csv").write_text("path,subject\n001/nm-01/090\nmissing/clip,009\n", encoding="utf-8")
    report = read_gait(root)
    text = "\n".join(report.skipped)
    assert f"{root / '001' / 'nm-02' / '090'}: frame folder holds no images" in text
    assert f"{root / '002' / 'nm-01' / '090'}: frames differ in size (000.png 16x16, 005.png 20x16)" in text
    assert "subject 003: only one sequence (nm-01)" in text
    assert len(report.skipped) == 3 and all("\n" not in m for m in report.skipped)
    assert {s.subject for s in report.samples} == {"001", "002", "004", "005"}
    bad = read_gait(root / "bad.csv").skipped
    assert bad[0] == f"{root / 'bad.csv'}:2: expected path,subject[,sequence[,view]], got '001/nm-01/090'"
    assert bad[1].startswith(f"{root / 'bad.csv'}:3: {root / 'missing' / 'clip'}: no such video file")
    with pytest.raises(DataError, match="no such file or folder"):
        read_gait(tmp_path / "nowhere")
    with pytest.raises(DataError, match="no subject folders"):
        read_gait(tmp_path / "data" / "001" / "nm-01" / "090")  # frames, not subject folders


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.9])
def test_subject_split_never_leaks(fraction: float, seed: int) -> None:
    train, val = subject_split(samples(9, 3), fraction, seed)
    train_subjects, val_subjects = {s.subject for s in train}, {s.subject for s in val}
    assert not train_subjects & val_subjects
    assert len(train_subjects) >= 2 and len(val_subjects) >= 2 and len(train) + len(val) == 27
    check_no_leak(train, val)  # what --val is checked with


def test_split_refusals() -> None:
    with pytest.raises(DataError, match=r"3 subject\(s\) .*\(need 4"):
        subject_split(samples(3), 0.5, 0)
    with pytest.raises(DataError, match="the split leaks: 1 subject"):
        check_no_leak(samples(2), samples(1))


def test_gallery_split() -> None:
    data = samples(2, 4)
    gallery, probe = gallery_split(data, [])
    assert {s.sequence for s in gallery} == {"nm-01", "nm-02"} and {s.sequence for s in probe} == {"nm-03", "nm-04"}
    gallery, probe = gallery_split(data, ["nm-04"])
    assert len(gallery) == 2 and len(probe) == 6


def test_retrieval_scores_by_hand() -> None:
    gallery = np.eye(4, dtype=np.float32)  # subjects a b c a
    probe = np.array([[0.9, 0.1, 0, 0], [0, 0.8, 0, 0.6], [0, 0, 0, 1], [1, 0, 0, 0]], dtype=np.float32)
    probe /= np.linalg.norm(probe, axis=1, keepdims=True)
    scores = retrieval_scores(probe, ["a", "a", "b", "z"], gallery, ["a", "b", "c", "a"], ks=(1, 2))
    # probe 0: a first and last (AP (1 + 2/4) / 2); probe 1: b, a, a (AP (1/2 + 2/3) / 2);
    # probe 2: a, then a b c tied (b third, AP 1/3); z unranked
    assert scores["probes"] == 3 and scores["unranked"] == 1
    assert scores["rank1"] == pytest.approx(1 / 3) and scores["rank2"] == pytest.approx(2 / 3)
    assert scores["map"] == pytest.approx((3 / 4 + (1 / 2 + 2 / 3) / 2 + 1 / 3) / 3)
    assert nearest_subjects(np.array([0.5, 0.1, 0.9, 0.2]), ["a", "b", "c", "b"], 2) == [("b", 0.1), ("a", 0.5)]


def test_metric_losses() -> None:
    subjects = torch.tensor([0, 0, 1, 1])
    apart = torch.tensor([[1.0, 0], [1, 0], [0, 1], [0, 1]])
    together = torch.tensor([[1.0, 0]] * 4)
    assert float(batch_hard_triplet(apart, subjects, 0.2)) == 0.0
    assert float(batch_hard_triplet(together, subjects, 0.2)) == pytest.approx(0.2, abs=1e-4)
    assert float(batch_hard_triplet(together, subjects, 0.0)) == pytest.approx(math.log(2), abs=1e-4)
    assert float(batch_hard_triplet(apart, torch.tensor([0, 1, 2, 3]), 0.2)) == 0.0  # no positive: no loss, no NaN
    centres = torch.tensor([[1.0, 0], [0, 1]])
    right, wrong = (
        arcface_loss(apart, centres, subjects, 0.3, 16.0),
        arcface_loss(apart, centres.flip(0), subjects, 0.3, 16.0),
    )
    assert torch.isfinite(right) and float(right) < float(wrong)


def test_subject_batches_are_p_by_k() -> None:
    labels = [i // 3 for i in range(18)] + [6]  # six subjects of three clips, one of a single clip
    sampler = SubjectBatches(labels, subjects=3, per_subject=4, seed=0)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 1 and len(batches[0]) == 12
    for batch in batches:
        counts = {labels[i] for i in batch}
        assert len(counts) == 3 and all(sum(labels[i] == s for i in batch) == 4 for s in counts)


def test_walkers_share_a_shape_and_differ_in_rhythm() -> None:
    """Mean silhouette area is nearly the same for every walker; the walk repeats every half cycle (legs swap)."""
    areas = []
    for seed in range(6):
        walker = Walker.draw(random.Random(seed))
        frames = render_walk(walker, 32, 32, random.Random(seed))
        areas.append(np.mean([f.mean() for f in frames]))
    assert max(areas) / min(areas) < 1.25
    steady = Walker(12.0, 0.4, 1.0)
    frames = [f.astype(float) for f in render_walk(steady, 30, 48, random.Random(0))]
    half = [np.abs(frames[k] - frames[k + 6]).mean() for k in range(20)]  # half a cycle apart (jitter: +-3 %)
    quarter = [np.abs(frames[k] - frames[k + 3]).mean() for k in range(20)]
    assert np.mean(half) < 0.7 * np.mean(quarter)


def test_frames_are_consecutive_grey_silhouettes(walkers: Path) -> None:
    walks, bad = probe_walks(read_gait(walkers).samples[:1])
    assert not bad
    clip = load_walk(walks[0], 16, 8)
    assert clip.shape == (8, 1, 16, 16) and clip.min() >= 0 and clip.max() <= 1
    frames = [np.asarray(Image.open(walks[0].sample.path / f"{k:03d}.png"), dtype=np.float32) / 255 for k in range(12)]
    start = next(k for k in range(5) if np.allclose(clip[0, 0], frames[k], atol=1e-5))  # the middle 8 of 12
    assert all(np.allclose(clip[i, 0], frames[start + i], atol=1e-5) for i in range(8))
