"""Video data on real encoded files (written by the generator here): readers, decoding, sampling,
grouped splits that never leak, and corrupt files skipped with a message naming each."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from seqvision.data.clip_lists import check_groups_apart as check_no_leak
from seqvision.data.clip_lists import group_of, grouped_split
from seqvision.data.clips import ClipInfo, decode, probe, sample_indices
from seqvision.errors import DataError
from seqvision.tasks.video.clips import ClipSample, read_clips
from seqvision.tasks.video.dataset import probe_clips
from seqvision.tasks.video.synth import CLASSES, CONTAINERS, render_clip, write_clips

av = pytest.importorskip("av")

FRAMES, SIZE = 8, 32


@pytest.fixture(scope="session")
def clips_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two 8-frame 32x32 mp4 clips per class in two groups (read-only for tests)."""
    folder = tmp_path_factory.mktemp("clips")
    write_clips(folder, 2, frames=FRAMES, size=SIZE, groups=2, seed=0)
    return folder


def centroid_x(frames: np.ndarray) -> list[float]:
    """Brightness-weighted x position of the object in each ``(T, 3, S, S)`` frame (background is dark)."""
    out = []
    for f in frames:
        weight = np.clip(f.mean(0) - np.median(f.mean(0)), 0, None)  # (S, S)
        out.append(float((weight.sum(0) * np.arange(f.shape[-1])).sum() / weight.sum()))
    return out


@pytest.mark.parametrize("container", list(CONTAINERS))
@pytest.mark.parametrize("direction", ["move-right", "move-left"])
def test_decoded_frames_keep_motion_and_order(container: str, direction: str, tmp_path: Path) -> None:
    csv = write_clips(tmp_path, 1, frames=FRAMES, size=SIZE, container=container, classes=(direction,))
    path = tmp_path / read_clips(csv).samples[0].path
    info = probe(path)
    assert info.frames == FRAMES and info.fps == (0.0 if container == "frames" else 10.0)
    frames = decode(path, sample_indices(info, FRAMES), SIZE)
    assert frames.shape == (FRAMES, 3, SIZE, SIZE) and frames.dtype == np.float32
    assert frames.min() >= 0.0 and frames.max() <= 1.0
    xs = centroid_x(frames)
    steps = np.diff(xs) if direction == "move-right" else -np.diff(xs)
    assert (steps > 0).all(), f"{container} {direction}: object x per frame {xs}"


def test_reversed_pairs_hold_the_same_frames() -> None:
    """Order-only classes: a clip and its twin are the same frames reversed; a frame average cannot tell them apart."""
    for forward, backward in [("move-right", "move-left"), ("grow", "shrink"), ("rotate-cw", "rotate-ccw")]:
        assert CLASSES[forward][0] == CLASSES[backward][0]
        a = render_clip(forward, FRAMES, SIZE, random.Random(1), random.Random(2))
        b = render_clip(backward, FRAMES, SIZE, random.Random(1), random.Random(2))
        assert all(np.array_equal(x, y) for x, y in zip(a, b[::-1], strict=True))
        assert not np.array_equal(a[0], a[-1])


def test_folder_and_csv_readers_agree(clips_dir: Path) -> None:
    folder, table = read_clips(clips_dir), read_clips(clips_dir / "clips.csv")
    assert not folder.skipped and not table.skipped
    assert len(folder.samples) == 2 * len(CLASSES)
    as_set = lambda report: {(s.path.resolve(), s.label, s.group) for s in report.samples}  # noqa: E731
    assert as_set(folder) == as_set(table)
    assert {s.label for s in folder.samples} == set(CLASSES)
    assert {s.group for s in folder.samples} == {"g01", "g02"}


def test_tsv_reader_header_group_column_and_bad_rows(clips_dir: Path, tmp_path: Path) -> None:
    clip = clips_dir / "grow" / "v_grow_g01_c01.mp4"
    rows = ["path\tlabel\tgroup", f"{clip}\tgrow\tactor-7", f"{clip}\tgrow", "just-a-path.mp4", f"{clip}\t\tg1"]
    (tmp_path / "list.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = read_clips(tmp_path / "list.tsv")
    assert [(s.label, s.group) for s in report.samples] == [("grow", "actor-7"), ("grow", "g01")]
    assert [m.split(": ")[0] for m in report.skipped] == [f"{tmp_path / 'list.tsv'}:4", f"{tmp_path / 'list.tsv'}:5"]


def test_frame_folders_letterboxed(tmp_path: Path) -> None:
    """A folder of frame images is a clip; a 40x20 frame is scaled to 32x16 and centred with black bars."""
    clip = tmp_path / "wide" / "clip_g03_c01"
    clip.mkdir(parents=True)
    for i in range(5):
        Image.new("RGB", (40, 20), (255, 255, 255) if i % 2 else (0, 0, 255)).save(clip / f"{i:03d}.png")
    (sample,) = read_clips(tmp_path).samples
    assert (sample.label, sample.group) == ("wide", "g03")
    info = probe(sample.path)
    assert info.frames == 5
    indices = sample_indices(info, 8)
    assert indices == [0, 0, 1, 2, 2, 3, 4, 4]  # 8 from 5: repeats, in order
    frames = decode(sample.path, indices, SIZE)
    assert frames.shape == (8, 3, SIZE, SIZE)
    assert np.allclose(frames[:, :, :8], 0) and np.allclose(frames[:, :, 24:], 0)  # bars above and below
    assert np.allclose(frames[2, :, 8:24], 1.0)  # source frame 1 (white) fills the middle
    assert np.allclose(frames[1, 2, 8:24], 1.0) and np.allclose(frames[1, 0, 8:24], 0.0)  # source frame 0: blue


def test_sampling() -> None:
    info = ClipInfo(100, 30.0)
    uniform = sample_indices(info, 10)
    assert uniform == sorted(uniform) and len(set(uniform)) == 10 and uniform[0] < 10 and uniform[-1] >= 90
    assert sample_indices(ClipInfo(3, 30.0), 6) == [0, 0, 1, 1, 2, 2]  # short clips repeat frames
    rng = random.Random(0)
    for _ in range(50):
        crop = sample_indices(info, 10, rng=rng, crop=0.6)
        assert crop == sorted(crop) and crop[0] >= 0 and crop[-1] <= 99
        assert crop[-1] - crop[0] >= 0.9 * 60 - 1  # the 10 samples span 9/10 of a crop of at least 60 frames
    at_fps = sample_indices(info, 8, fps=10.0)  # every 3rd source frame, from the middle
    assert np.diff(at_fps).tolist() == [3] * 7 and at_fps[0] == (99 - 21) // 2
    assert len(sample_indices(ClipInfo(10, 30.0), 8, fps=10.0)) == 4  # a short clip gives fewer frames


def test_ucf101_groups() -> None:
    assert group_of(Path("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi")) == "g08"
    assert group_of(Path("v_Biking_G3_c04.avi")) == "g03"
    assert group_of(Path("x/clip.mp4")) == "x/clip.mp4"  # no group: a clip is its own group


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.5])
@pytest.mark.parametrize("seed", range(4))
def test_grouped_split_never_leaks(fraction: float, seed: int) -> None:
    rng = random.Random(seed)
    samples = [ClipSample(Path(f"c{i}.mp4"), f"l{i % 3}", f"g{rng.randrange(9)}", f"c{i}") for i in range(60)]
    train, val = grouped_split(samples, fraction, seed)
    assert train and val and len(train) + len(val) == len(samples)
    assert not {s.group for s in train} & {s.group for s in val}
    assert sorted(map(str, train + val)) == sorted(map(str, samples))
    check_no_leak(train, val)  # and the leak check agrees


def test_split_refusals() -> None:
    one_group = [ClipSample(Path(f"c{i}.mp4"), "a", "g01", "") for i in range(4)]
    with pytest.raises(DataError, match="one group"):
        grouped_split(one_group, 0.25, 0)
    other = [ClipSample(Path("d.mp4"), "a", "g07", ""), ClipSample(Path("e.mp4"), "a", "g01", "")]
    with pytest.raises(DataError, match=r"leaks: 1 group.*g01"):
        check_no_leak(one_group, other)


def write_zero_frame_video(path: Path) -> None:
    """A valid AVI header with a video stream and no frames at all."""
    with av.open(str(path), "w", format="avi") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width = stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        out.start_encoding()


@pytest.fixture
def corrupt_dir(clips_dir: Path, tmp_path: Path) -> Path:
    """class ``grow``: one good clip and one of each kind of broken file."""
    folder = tmp_path / "corrupt" / "grow"
    folder.mkdir(parents=True)
    good = (clips_dir / "grow" / "v_grow_g01_c01.mp4").read_bytes()
    (folder / "good.mp4").write_bytes(good)
    (folder / "truncated.mp4").write_bytes(good[: len(good) // 2])
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "text.avi").write_text("not a video\n", encoding="utf-8")
    (folder / "noise.webm").write_bytes(random.Random(0).randbytes(3000))
    write_zero_frame_video(folder / "zero-frames.avi")
    return tmp_path / "corrupt"


def test_corrupt_clips_skipped_with_their_names(corrupt_dir: Path) -> None:
    report = read_clips(corrupt_dir)
    assert len(report.samples) == 6
    clips, skipped = probe_clips(report.samples)
    assert [c.sample.path.name for c in clips] == ["good.mp4"]
    assert len(skipped) == 5
    for name in ("truncated.mp4", "empty.mp4", "text.avi", "noise.webm", "zero-frames.avi"):
        assert sum(name in m for m in skipped) == 1, (name, skipped)
    assert any("zero-frames.avi: video has no frames" in m for m in skipped), skipped
    with pytest.raises(DataError, match=r"missing\.mp4: video file not found"):
        probe(corrupt_dir / "grow" / "missing.mp4")
