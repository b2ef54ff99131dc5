"""Faults a training run must survive: ``kill -9`` then ``--resume``, a full disk, an unwritable folder, torn writes."""

from __future__ import annotations

import csv
import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import seqvision.io
import seqvision.training.faults as faults
from conftest import TINY
from seqvision.checkpoint import load_state
from seqvision.cli.main import main
from seqvision.data.lines import WidthBucketSampler
from seqvision.errors import CheckpointError, OutputError
from seqvision.io import atomic_write_bytes

# 38 train lines in batches of 8: 5 steps an epoch; a resume checkpoint every 3 steps and at every epoch end
KILL_RUN = [
    *TINY,
    "--epochs=6",
    "--seed=0",
    "--set=train.lr=0.005",
    "--set=data.augment=false",
    "--set=data.batch_size=8",
    "--set=train.checkpoint_every=3",
]
STEPS_PER_EPOCH = 5
pytestmark = pytest.mark.filterwarnings("ignore:The dirpath has changed")  # run folders copied from trained_run


def one_error(err: str, rc: int, *needles: str) -> str:
    """A clean failure: non-zero exit, no traceback, one ``seqvision: error:`` line holding ``needles``."""
    assert rc != 0 and "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("seqvision: error:")]
    assert len(errors) == 1, err
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def train_losses(run: Path) -> dict[int, float]:
    """``step -> train loss`` over every CSV segment of a (possibly resumed) run."""
    losses = {}
    for path in [*sorted(run.glob("metrics-*.csv")), run / "metrics.csv"]:
        with path.open(newline="", encoding="utf-8") as fh:
            losses |= {int(r["step"]): float(r["train_loss_step"]) for r in csv.DictReader(fh) if r["train_loss_step"]}
    return losses


def val_losses(run: Path) -> dict[int, float]:
    """``epoch -> validation loss`` over every CSV segment of a run."""
    losses = {}
    for path in [*sorted(run.glob("metrics-*.csv")), run / "metrics.csv"]:
        with path.open(newline="", encoding="utf-8") as fh:
            losses |= {int(r["epoch"]): float(r["val_loss"]) for r in csv.DictReader(fh) if r["val_loss"]}
    return losses


def seqvision_process(*argv: str) -> list[str]:
    return [sys.executable, "-m", "seqvision", "train", *argv]


def kill_after_saves(argv: list[str], last: Path, saves: int, timeout: float = 120) -> None:
    """Start a training process and ``kill -9`` it as soon as ``last`` has been written ``saves`` times."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen, count, deadline = None, 0, time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if last.exists():
                stat = last.stat()  # each atomic save is a new file: a new inode and time
                if (stat.st_ino, stat.st_mtime_ns) != seen:
                    seen, count = (stat.st_ino, stat.st_mtime_ns), count + 1
                    if count >= saves:
                        proc.send_signal(signal.SIGKILL)
                        break
            time.sleep(0.002)
    finally:
        if proc.poll() is None and count < saves:
            proc.kill()
        _, err = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, f"the run ended before it was killed:\n{err.decode()[-2000:]}"


def test_kill_9_then_resume_matches_an_uninterrupted_run(lines_dir: Path, tmp_path: Path) -> None:
    """A run killed mid-epoch and resumed ends where an uninterrupted run ends: same losses, same model."""
    data = ["--train", str(lines_dir / "labels.tsv")]
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    done = subprocess.run(seqvision_process(*data, *KILL_RUN, "--out", str(whole)), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    last = killed / "checkpoints" / "last.ckpt"
    kill_after_saves(seqvision_process(*data, *KILL_RUN, "--out", str(killed)), last, saves=3)
    state = torch.load(last, weights_only=True)
    # saves at steps 3, 5 (epoch end), 6: the third is mid-epoch, after one batch of the second epoch
    assert state["global_step"] == 6 and state["global_step"] % STEPS_PER_EPOCH != 0
    resumed = subprocess.run(seqvision_process("--resume", str(killed), "--quiet"), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert not list(last.parent.glob(".*.tmp"))

    expected, got = train_losses(whole), train_losses(killed)
    assert max(expected) == max(got) == 6 * STEPS_PER_EPOCH - 1  # no step lost, none repeated at the end
    # the resumed run replays the same batches, dropout draws and learning rates: equal up to float noise
    for step in expected:
        assert got[step] == pytest.approx(expected[step], rel=1e-4, abs=1e-5), step
    assert val_losses(killed) == pytest.approx(val_losses(whole), rel=1e-4)
    # the final weights, and the early-stopping and best-model state, are those of the uninterrupted run
    end, resumed_end = (torch.load(run / "checkpoints" / "last.ckpt", weights_only=True) for run in (whole, killed))
    torch.testing.assert_close(resumed_end["state_dict"], end["state_dict"], rtol=1e-4, atol=1e-6)
    for name in ("EarlyStopping{'monitor': 'val_cer', 'mode': 'min'}", "ExportBest"):
        got_state, expected_state = resumed_end["callbacks"][name], end["callbacks"][name]
        assert got_state.keys() == expected_state.keys() and all(
            got_state[k] == pytest.approx(expected_state[k]) for k in expected_state if k != "stopping_reason_message"
        )
    expected_meta, meta = load_state(whole)[1], load_state(killed)[1]
    assert meta["training"]["step"] == expected_meta["training"]["step"]
    assert meta["metrics"] == pytest.approx(expected_meta["metrics"], rel=1e-4)


def test_sampler_resumes_mid_epoch_with_the_same_order() -> None:
    widths = list(range(10, 400, 7))
    whole = WidthBucketSampler(widths, batch_size=4, seed=3)
    epochs = [list(whole) for _ in range(3)]
    resumed = WidthBucketSampler(widths, batch_size=4, seed=3)
    resumed.resume_at(1, 5)
    assert list(resumed) == epochs[1][5:]  # the rest of the killed run's epoch
    assert list(resumed) == epochs[2]  # then the next epochs as before
    finished = WidthBucketSampler(widths, batch_size=4, seed=3)
    finished.resume_at(0, len(finished))  # killed after a whole epoch: the next one starts
    assert list(finished) == epochs[1]


# ---------------------------------------------------------------------------------------------- torn writes


def failing_fsync(monkeypatch: pytest.MonkeyPatch, name_part: str) -> None:
    """The disk fills up while ``name_part``'s temporary file is written: half of it is on disk, then ENOSPC."""
    temps: dict[int, str] = {}
    real_mkstemp, real_fsync = seqvision.io.tempfile.mkstemp, os.fsync

    def mkstemp(*args, **kwargs):
        fd, name = real_mkstemp(*args, **kwargs)
        temps[fd] = name
        return fd, name

    def fsync(fd: int) -> None:
        name = next((n for f, n in temps.items() if f == fd), "")
        if name_part in Path(name).name:
            os.ftruncate(fd, os.fstat(fd).st_size // 2)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(seqvision.io.tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(seqvision.io.os, "fsync", fsync)


def test_failed_write_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "model.safetensors"
    atomic_write_bytes(target, b"old" * 1000)
    failing_fsync(monkeypatch, "model.safetensors")
    with pytest.raises(OutputError, match=r"model\.safetensors: the disk is full .* previous version"):
        atomic_write_bytes(target, b"new" * 5000)
    assert target.read_bytes() == b"old" * 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]  # no half file left


def test_disk_full_during_training_one_line_checkpoint_intact(
    trained_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    last = run / "checkpoints" / "last.ckpt"
    before = last.read_bytes()
    failing_fsync(monkeypatch, "last.ckpt")
    rc = main(["train", "--resume", str(run), "--epochs", "3", *TINY])
    one_error(capsys.readouterr().err, rc, "last.ckpt", "disk is full")
    assert last.read_bytes() == before  # the previous checkpoint, whole
    assert not list(last.parent.glob(".*.tmp"))
    faults.check_resume_file(last)


def test_resume_removes_what_a_kill_during_a_save_left(trained_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    last = run / "checkpoints" / "last.ckpt"
    half = last.parent / ".last.ckpt.abc123.tmp"  # what atomic_write_bytes leaves when killed mid-write
    half.write_bytes(last.read_bytes()[:5000])
    assert main(["train", "--resume", str(run), "--epochs", "3", *TINY]) == 0
    assert not half.exists()
    assert torch.load(last, weights_only=True)["epoch"] == 2


def test_corrupt_resume_checkpoint_is_one_clear_line(
    trained_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Flipped bytes inside the archive (which ``zipfile.is_zipfile`` still accepts) fail its checksum."""
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    last = run / "checkpoints" / "last.ckpt"
    data = bytearray(last.read_bytes())
    data[len(data) // 3] ^= 0xFF
    last.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt"):
        faults.load_resume_file(last)
    rc = main(["train", "--resume", str(run), "--epochs", "3", *TINY])
    one_error(capsys.readouterr().err, rc, "last.ckpt", "corrupt", "delete it")


# ---------------------------------------------------------------------------------------------- disk space


def test_full_disk_fails_before_training(
    lines_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(faults.shutil, "disk_usage", lambda path: usage._replace(free=1 << 20))
    out = tmp_path / "run"
    rc = main(["train", "--train", str(lines_dir / "labels.tsv"), "--out", str(out), *TINY])
    one_error(capsys.readouterr().err, rc, str(out), "not enough free disk space", "MB free")
    assert not (out / "checkpoints").exists() and not (out / "metrics.csv").exists()  # failed before training


def test_free_space_counts_what_a_resumed_run_replaces(tmp_path: Path) -> None:
    params = 1_000_000
    needed = faults.needed_space(params)
    faults.check_free_space(tmp_path, params, free=needed)
    with pytest.raises(OutputError, match="not enough free disk space"):
        faults.check_free_space(tmp_path, params, free=needed - 1)
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.ckpt").write_bytes(bytes(3 * 4 * params))  # replaced, not added
    faults.check_free_space(tmp_path, params, free=needed - 3 * 4 * params)


def test_unwritable_run_folder_fails_first(lines_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``/proc`` refuses new folders even to root (CI runs as root, so ``chmod`` would prove nothing)."""
    if not Path("/proc/self").exists():
        pytest.skip("needs Linux /proc")
    rc = main(["train", "--train", str(lines_dir / "labels.tsv"), "--out", "/proc/seqvision-run", *TINY])
    one_error(capsys.readouterr().err, rc, "/proc/seqvision-run", "not writable")


class Killed(BaseException):
    """Stands in for ``kill -9`` in-process: raised right after a checkpoint is written, nothing runs after it."""


def test_video_run_resumed_from_an_epoch_end_matches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The video task's shuffled plain DataLoader: the restored torch generator draws the same permutations."""
    pytest.importorskip("av")
    clips = tmp_path / "clips"
    assert (
        main(["synth-video", "--out", str(clips), "--clips", "2", "--frames", "8", "--size", "32", "--groups", "2"])
        == 0
    )
    argv = [
        "train",
        "--task",
        "video",
        "--train",
        str(clips / "clips.csv"),
        "--epochs=4",
        "--set=data.val_fraction=0.5",
    ]
    argv += ["--set=model.height=32", "--set=model.encoder.channels=[8,8,12,16]", "--set=model.sequence.hidden=16"]
    argv += [
        "--set=data.clip.frames=8",
        "--set=data.num_workers=0",
        "--set=data.batch_size=4",
        "--threads=1",
        "--quiet",
    ]
    assert main([*argv, "--out", str(tmp_path / "whole")]) == 0

    save = faults.ResumeCheckpoint._save

    def save_then_die(self: faults.ResumeCheckpoint, trainer) -> None:
        save(self, trainer)
        if trainer.current_epoch == 1:
            raise Killed

    monkeypatch.setattr(faults.ResumeCheckpoint, "_save", save_then_die)
    with pytest.raises(Killed):
        main([*argv, "--out", str(tmp_path / "killed")])
    monkeypatch.setattr(faults.ResumeCheckpoint, "_save", save)
    assert main(["train", "--resume", str(tmp_path / "killed"), "--quiet", "--threads=1"]) == 0

    expected, got = train_losses(tmp_path / "whole"), train_losses(tmp_path / "killed")
    assert got.keys() == expected.keys() and max(got) == 7  # 4 epochs of 2 steps
    assert got == pytest.approx(expected, rel=1e-4)
    assert val_losses(tmp_path / "killed") == pytest.approx(val_losses(tmp_path / "whole"), rel=1e-4)
