"""Shared fixtures: a tiny synthetic line dataset, a tiny trained model, and the real data folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from seqvision.cli.main import main
from seqvision.errors import DataError
from seqvision.tasks.lines.synth import PILLOW_FONT, Font, find_fonts, write_dataset

HEIGHT = 32
# A model small enough to train in seconds on two cores; one thread, no loader workers.
TINY = [
    f"--set=model.height={HEIGHT}",
    "--set=model.sequence.hidden=32",
    "--set=model.encoder.channels=[8,16,16,16]",
    "--set=data.num_workers=0",
    "--threads=1",
    "--quiet",
]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest on one thread, and leave the other core free."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def lines_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 rendered lines: ``labels.tsv`` plus ``images/*.png`` (read-only for tests: copy before changing)."""
    folder = tmp_path_factory.mktemp("lines")
    write_dataset(folder, 40, plain_fonts(), seed=1, height=HEIGHT, clean=True, max_chars=24, workers=1)
    return folder


def plain_fonts() -> list[Font]:
    """Two plain families where installed (``make install`` adds them), else Pillow's built-in font."""
    try:
        return list(find_fonts(include=("DejaVu Sans", "Liberation Serif")))
    except DataError:
        return [PILLOW_FONT]


@pytest.fixture(scope="session")
def fonts() -> list[Font]:
    """Three installed families (sans, serif, mono) for the synthesiser's tests; skips without the font packages."""
    try:
        return list(find_fonts(include=("DejaVu Sans", "DejaVu Serif", "Liberation Mono")))
    except DataError as exc:
        pytest.skip(f"needs the Debian font packages that `make install` adds: {exc}")


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory, lines_dir: Path) -> Path:
    """Run folder of a tiny model trained for 2 epochs on :func:`lines_dir` (copy it before resuming)."""
    out = tmp_path_factory.mktemp("runs") / "tiny"
    argv = ["train", "--train", str(lines_dir / "labels.tsv"), "--out", str(out), "--epochs", "2", "--seed", "0"]
    argv += [*TINY, "--set=train.lr=0.005", "--set=data.augment=false"]
    assert main(argv) == 0
    return out


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data sets beside the project (``../shared/data``); tests using it skip when it is absent."""
    path = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"real data not found at {path}")
    return path


@pytest.fixture(scope="session")
def sound_clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 generated clips with sound (2 per material, scenes g01/g02; mkv: x264 + PCM), 12 frames of 32x32 at 16 fps."""
    pytest.importorskip("av")
    from seqvision.tasks.sound.synth import write_sound_clips

    out = tmp_path_factory.mktemp("sound") / "clips"
    write_sound_clips(out, 2, frames=12, size=32, groups=2)
    return out
