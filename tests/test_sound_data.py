"""Sound data: generated clips are real files whose audio lines up with the pictures; features and the way back
(Griffin-Lim); onset scores; readers that refuse bad clips in one line naming the file (generated data only)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from seqvision.data.clip_lists import grouped_split
from seqvision.data.clips import probe
from seqvision.data.video_write import write_video
from seqvision.errors import DataError
from seqvision.tasks.sound.clips import SoundSample, check_no_leak, read_sound_clips
from seqvision.tasks.sound.dataset import probe_sound
from seqvision.tasks.sound.features import Features, mel_filterbank
from seqvision.tasks.sound.metrics import SoundScores, match, onsets
from seqvision.tasks.sound.synth import write_sound_clips

pytest.importorskip("av")
FEATURES = Features(16000, 32, 4, 512)


def truth(csv_path: Path) -> dict[Path, list[float]]:
    rows = list(csv.DictReader(csv_path.read_text().splitlines()))
    return {csv_path.parent / r["path"]: [float(t) for t in r["onsets"].split(";") if t] for r in rows}


@pytest.mark.parametrize("container", ["mkv", "mp4"])
def test_generated_sound_lines_up_with_the_hits(container: str, tmp_path: Path) -> None:
    """The onsets found in each file's decoded audio are the frames the stick hits (AAC's priming included)."""
    csv_path = write_sound_clips(tmp_path, 2, frames=24, container=container)
    found = listed = 0
    for path, hits in truth(csv_path).items():
        info = probe(path)
        assert (info.frames, info.fps) == (24, 16.0)
        clip = probe_sound(SoundSample(path, "g", str(path)), FEATURES)
        assert clip.features.shape == (24 * 4, 32) and len(clip.wave) == 24000
        found += match(onsets(clip.features, 64.0), np.array(hits), tolerance=0.05)
        listed += len(hits)
    assert found >= 0.9 * listed, f"{found} of {listed} hits heard"


def test_materials_sound_different(sound_clips: Path) -> None:
    """Metal rings longest: a second after its hits its clips are louder than the wooden ones."""
    levels: dict[str, list[float]] = {}
    for path in sorted(sound_clips.rglob("*.mkv")):
        clip = probe_sound(SoundSample(path, "g", str(path)), FEATURES)
        levels.setdefault(path.parent.name, []).append(float(clip.features.mean()))
    assert set(levels) == {"wood", "metal", "glass", "cloth"}
    assert np.mean(levels["metal"]) > np.mean(levels["wood"]) and np.mean(levels["metal"]) > np.mean(levels["cloth"])


def test_griffin_lim_keeps_the_features(sound_clips: Path) -> None:
    path = next(iter(sorted(sound_clips.rglob("*.mkv"))))
    clip = probe_sound(SoundSample(path, "g", str(path)), FEATURES)
    centres = np.arange(len(clip.features)) * 250 + 125

    def error(iterations: int) -> float:
        wave = FEATURES.waveform(clip.features, 16.0, iterations)
        assert wave.shape == (len(clip.features) * FEATURES.hop(16.0),) and np.isfinite(wave).all()
        return float(np.abs(FEATURES.log_mel(wave, centres) - clip.features).mean())

    spread = float(np.abs(clip.features - clip.features.mean(0)).mean())  # what the mean sound is off by
    random_phase, iterated = error(0), error(32)
    assert iterated < 0.8 * random_phase and iterated < spread, (iterated, random_phase, spread)


def test_filterbank() -> None:
    fb = mel_filterbank(16000, 512, 32)
    assert fb.shape == (32, 257) and (fb >= 0).all() and (fb.sum(1) > 0).all()
    assert (np.argmax(fb, 1) == np.sort(np.argmax(fb, 1))).all()  # bands rise in frequency


def test_onset_scores() -> None:
    quiet, loud = np.full(32, -6.9), np.full(32, -1.0)
    feats = np.stack([loud if k in (10, 11, 12, 40) else quiet for k in range(64)])  # onsets at 10 and 40
    np.testing.assert_allclose(onsets(feats, 64.0), [10 / 64, 40 / 64], atol=1 / 64)  # within a sound frame
    assert match(np.array([0.16, 0.9]), np.array([10 / 64, 40 / 64])) == 1
    scores = SoundScores("l1")
    scores.update(feats, feats, feats.mean(0), 64.0)
    s = scores.summary()
    assert s["loss"] == 0 and s["mean_sound_loss"] > 0 and s["onset_accuracy"] == 1.0
    mean = SoundScores("l1")
    mean.update(np.tile(feats.mean(0), (64, 1)), feats, feats.mean(0), 64.0)
    assert mean.summary()["onset_recall"] == 0 and mean.summary()["loss"] == pytest.approx(s["mean_sound_loss"])


def frames(n: int) -> list[np.ndarray]:
    return [np.full((32, 32, 3), 10 * k, dtype=np.uint8) for k in range(n)]


def bad_clips(folder: Path) -> dict[str, tuple[Path, str]]:
    """Clips the sound task must refuse, each with the words its one-line error must hold."""
    av = pytest.importorskip("av")
    noise = 0.3 * np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    cases = {
        "no audio": ("mute.mkv", None, "no audio track"),
        "silent": ("silent.mkv", np.zeros(16000, np.float32), "silent"),
        "short audio": ("short.mkv", noise[:4000], "before the video"),
    }
    out = {}
    for name, (file, audio, words) in cases.items():
        write_video(folder / file, frames(16), 16.0, audio, 16000)
        out[name] = (folder / file, words)
    empty = folder / "empty.mkv"  # a video stream that holds no frame, beside a real audio track
    with av.open(str(empty), "w", format="matroska") as container:
        stream = container.add_stream("libx264", rate=16)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        sound = container.add_stream("pcm_s16le", rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray((noise[None, :1024] * 3e4).astype(np.int16), format="s16", layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        container.mux(sound.encode(frame))
        container.mux(sound.encode(None))
    out["zero frames"] = (empty, "no frames")
    (folder / "frames").mkdir()
    out["frame folder"] = (folder / "frames", "frame folder has no audio track")
    (folder / "junk.mp4").write_bytes(b"not a video at all")
    out["corrupt"] = (folder / "junk.mp4", "unreadable or corrupt")
    return out


def test_bad_clips_are_refused_in_one_line_naming_the_file(tmp_path: Path) -> None:
    for name, (path, words) in bad_clips(tmp_path).items():
        with pytest.raises(DataError) as info:
            probe_sound(SoundSample(path, "g", str(path)), FEATURES)
        message = str(info.value)
        assert str(path) in message and words in message and "\n" not in message, (name, message)


def test_readers_and_splits(sound_clips: Path, tmp_path: Path) -> None:
    from_folder = read_sound_clips(sound_clips)
    from_csv = read_sound_clips(sound_clips / "clips.csv")
    assert sorted(s.path for s in from_folder.samples) == sorted(s.path for s in from_csv.samples)
    assert len(from_csv.samples) == 8 and {s.group for s in from_csv.samples} == {"g01", "g02"}
    train, val = grouped_split(from_csv.samples, 0.5, seed=0)
    assert train and val and not {s.group for s in train} & {s.group for s in val}
    with pytest.raises(DataError, match="leaks"):
        check_no_leak(train, train[:1])
    with pytest.raises(DataError, match="no such file"):
        read_sound_clips(tmp_path / "missing.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no video files"):
        read_sound_clips(tmp_path / "empty")
    with pytest.raises(DataError, match="one group"):
        grouped_split([s for s in from_csv.samples if s.group == "g01"], 0.5, seed=0)
