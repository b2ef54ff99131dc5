"""Emotion data contracts: RAVDESS names, readers on real encoded video + audio (inside the video or a .wav
beside it), splits by speaker that never leak, and bad inputs as one clear line naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seqvision.data.clip_lists import check_groups_apart, grouped_split
from seqvision.data.video_write import write_video
from seqvision.errors import DataError
from seqvision.tasks.emotion import ravdess
from seqvision.tasks.emotion.clips import read_emotion_clips
from seqvision.tasks.emotion.dataset import Hearing, probe_clip
from seqvision.tasks.emotion.synth import CLASSES, write_emotion_clips

pytest.importorskip("av")
HEARING = Hearing(16000, 16, 512, 160)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 clips per emotion and actor, 3 actors, sound inside the mp4 (x264 + AAC)."""
    out = tmp_path_factory.mktemp("emotion") / "inside"
    write_emotion_clips(out, 6, actors=3, frames=8, size=16)
    return out


def test_ravdess_names_give_label_speaker_and_fields() -> None:
    name = ravdess.parse("Actor_12/01-01-03-02-01-01-12.mp4")
    assert name is not None
    assert (name.label, name.speaker, name.intensity, name.modality, name.statement) == (
        "happy",
        "actor12",
        "strong",
        1,
        1,
    )
    assert name.stem(3) == "03-01-03-02-01-01-12"  # the same recording's audio-only file
    assert ravdess.parse("03-02-08-01-02-02-01.wav").label == "surprised"  # type: ignore[union-attr]
    assert ravdess.parse("v_ApplyEyeMakeup_g08_c01.avi") is None and ravdess.parse("01-01-03-02-01-01.mp4") is None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("01-01-09-01-01-01-01.mp4", "emotion 09"),
        ("01-01-01-02-01-01-01.mp4", "neutral has no strong"),
        ("04-01-03-01-01-01-01.mp4", "modality 04"),
        ("01-01-03-01-01-03-01.mp4", "repetition 03"),
    ],
)
def test_impossible_ravdess_codes_are_one_line(name: str, problem: str) -> None:
    with pytest.raises(DataError, match=problem) as err:
        ravdess.parse(name)
    assert name in str(err.value) and "\n" not in str(err.value)


def test_folder_and_csv_read_the_same_clips_with_sound_inside(clips: Path) -> None:
    folder, table = read_emotion_clips(clips), read_emotion_clips(clips / "clips.csv")
    assert not folder.skipped and not table.skipped
    assert sorted(s.path.name for s in folder.samples) == sorted(s.path.name for s in table.samples)
    assert len(folder.samples) == 6 * len(CLASSES)
    assert {s.group for s in folder.samples} == {"actor01", "actor02", "actor03"}
    sample = folder.samples[0]
    assert sample.audio == sample.path and sample.video == sample.path  # the sound is the video's own track
    clip = probe_clip(sample, "both", HEARING)
    assert clip.info is not None and clip.info.frames == 8
    assert clip.mel is not None and clip.mel.shape[1] == 16 and abs(len(clip.mel) - 101) <= 3  # 1 s at a 10 ms hop
    assert np.isfinite(clip.mel).all() and clip.mel.std() > 0.1


def test_a_wav_beside_the_video_is_its_sound(tmp_path: Path) -> None:
    write_emotion_clips(tmp_path, 2, actors=1, frames=8, size=16, audio="beside", container="mkv")
    report = read_emotion_clips(tmp_path)
    assert len(report.samples) == 2 * len(CLASSES)  # the .wav files are no clips of their own
    sample = report.samples[0]
    assert sample.path.name.startswith("02-") and sample.audio is not None and sample.audio.name.startswith("03-")
    assert probe_clip(sample, "audio", HEARING).mel is not None
    with pytest.raises(DataError, match="no audio track"):  # the video-only file has none of its own
        probe_clip(sample.__class__(sample.path, "happy", "a", "x", sample.path), "both", HEARING)
    wav = sample.audio
    alone = read_emotion_clips(wav.parent).samples  # a lone .wav is an audio-only clip ...
    wav_only = [s for s in alone if s.path == wav]
    assert not wav_only  # ... but not while its video is listed
    with pytest.raises(DataError, match="an audio file"):
        probe_clip(sample.__class__(wav, "happy", "a", str(wav), wav), "video", HEARING)


def test_grouped_split_never_shares_a_speaker(clips: Path) -> None:
    samples = read_emotion_clips(clips).samples
    for seed in range(5):
        train, val = grouped_split(samples, 0.3, seed, "speaker")
        assert train and val and len(train) + len(val) == len(samples)
        assert not {s.group for s in train} & {s.group for s in val}
    with pytest.raises(DataError, match="the split leaks: 1 speaker"):
        check_groups_apart(samples[:5], samples[4:6], what="speaker")
    one = [s for s in samples if s.group == "actor01"]
    with pytest.raises(DataError, match="one speaker"):
        grouped_split(one, 0.3, 0, "speaker")


def test_bad_clips_are_one_line_naming_the_file(tmp_path: Path, clips: Path) -> None:
    from seqvision.tasks.emotion.clips import make_sample

    frames = [np.zeros((16, 16, 3), np.uint8)] * 8
    silent, mute, long_sound = tmp_path / "silent.mkv", tmp_path / "mute.mp4", tmp_path / "long.mkv"
    write_video(silent, frames, 8.0, np.zeros(16000, np.float32), 16000)
    write_video(mute, frames, 8.0)
    write_video(long_sound, frames, 8.0, np.random.default_rng(0).normal(0, 0.1, 16000 * 4).astype(np.float32), 16000)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    cases = {silent: "silent", mute: "no audio track", long_sound: "the sound lasts 4.00 s but the video 1.00 s"}
    cases[empty] = "unreadable|no frames|corrupt"
    for path, problem in cases.items():
        with pytest.raises(DataError, match=problem) as err:
            probe_clip(make_sample(path, "happy", "a", str(path)), "both", HEARING)
        assert str(path) in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(DataError, match="no label"):
        make_sample(tmp_path / "clip.mp4", "", "", "list.csv:3")
    with pytest.raises(DataError, match="no such file"):
        read_emotion_clips(tmp_path / "missing")
