"""Mixed training sets: several line-format inputs, each weighted with ``*N`` (issue 19)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import TINY
from seqvision.cli.main import main
from seqvision.config import DataConfig
from seqvision.data.loaders import read_split, weighted_input
from seqvision.data.readers import read_lines
from seqvision.errors import ConfigError, DataError


def _subset(lines_dir: Path, out: Path, rows: slice) -> Path:
    """A labels.tsv over some of the fixture's lines (absolute image paths, so it may live anywhere)."""
    samples = read_lines(lines_dir / "labels.tsv").samples[rows]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(f"{s.image}\t{s.text}\n" for s in samples), encoding="utf-8")
    return out


def test_weighted_input_syntax(tmp_path: Path) -> None:
    assert weighted_input("a/train*8") == ("a/train", 8)
    assert weighted_input("a/labels.tsv") == ("a/labels.tsv", 1)
    literal = tmp_path / "odd*2"  # a real file whose name ends in *2 is read as it is
    literal.write_text("")
    assert weighted_input(str(literal)) == (str(literal), 1)
    with pytest.raises(ConfigError, match="at least 1"):
        weighted_input("a*0")


def test_mix_repeats_each_input_by_its_weight(lines_dir: Path, tmp_path: Path) -> None:
    real = _subset(lines_dir, tmp_path / "real.tsv", slice(0, 10))
    synth = _subset(lines_dir, tmp_path / "synth.tsv", slice(10, 40))
    cfg = DataConfig(train=[str(synth), f"{real}*3"], val=str(real))
    train, val = read_split(cfg, seed=0, log=None)
    assert len(train) == 30 + 3 * 10
    assert len(val) == 10
    sources = [s.source.split(":")[0] for s in train]
    assert sources.count(str(real)) == 30 and sources.count(str(synth)) == 30


def test_mix_holds_validation_out_of_every_input_before_repeating(lines_dir: Path, tmp_path: Path) -> None:
    real = _subset(lines_dir, tmp_path / "real.tsv", slice(0, 20))
    synth = _subset(lines_dir, tmp_path / "synth.tsv", slice(20, 40))
    cfg = DataConfig(train=[str(synth), f"{real}*4"], val_fraction=0.25)
    train, val = read_split(cfg, seed=0, log=None)
    assert len(val) == 5 + 5  # a quarter of each input
    assert not {s.source for s in val} & {s.source for s in train}  # no validation line is trained on
    assert len(train) == 15 + 4 * 15


def test_single_input_split_is_unchanged(lines_dir: Path) -> None:
    """A plain string keeps the split it always had (resumed runs and old configs depend on it)."""
    one = read_split(DataConfig(train=str(lines_dir / "labels.tsv")), seed=3, log=None)
    listed = read_split(DataConfig(train=[str(lines_dir / "labels.tsv")]), seed=3, log=None)
    assert [s.source for s in one[0]] == [s.source for s in listed[0]]
    assert [s.source for s in one[1]] == [s.source for s in listed[1]]


def test_mix_with_a_missing_input_names_it(lines_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nowhere"):
        read_split(DataConfig(train=[str(lines_dir / "labels.tsv"), f"{tmp_path / 'nowhere'}*2"]), seed=0, log=None)


def test_one_input_tasks_refuse_a_list() -> None:
    assert DataConfig(train=["clips.csv"]).train_path == "clips.csv"
    with pytest.raises(ConfigError, match="this task reads one --train input"):
        _ = DataConfig(train=["a.csv", "b.csv*2"]).train_path


def test_train_cli_mix_round_trip(lines_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = _subset(lines_dir, tmp_path / "real.tsv", slice(0, 8))
    synth = _subset(lines_dir, tmp_path / "synth.tsv", slice(8, 40))
    out = tmp_path / "run"
    argv = ["train", "--train", str(synth), f"{real}*2", "--val", str(real), "--out", str(out), "--epochs", "1"]
    assert main([*argv, *TINY]) == 0
    assert "training mix: 48 lines" in capsys.readouterr().err
    saved = yaml.safe_load((out / "config.yaml").read_text(encoding="utf-8"))
    assert saved["data"]["train"] == [str(synth), f"{real}*2"]
    meta = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert meta["training"]["train_lines"] == 48


def test_yaml_config_mix(lines_dir: Path, tmp_path: Path) -> None:
    real = _subset(lines_dir, tmp_path / "real.tsv", slice(0, 8))
    config = tmp_path / "mix.yaml"
    config.write_text(
        yaml.safe_dump({"data": {"train": [str(lines_dir / "labels.tsv"), f"{real}*3"], "val": str(real)}})
    )
    out = tmp_path / "run"
    assert main(["train", "--config", str(config), "--out", str(out), "--epochs", "1", *TINY]) == 0
    meta = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert meta["training"]["train_lines"] == 40 + 24


PRINTED = {"ehri_en": (1502, 240), "gt4hist_en": (1255, 87), "sroie": (3192, 722)}


@pytest.mark.parametrize("name", sorted(PRINTED))
def test_real_printed_sets_read_whole(shared_data: Path, name: str) -> None:
    """The real printed lines of ../shared/data: every line reads, every image is a 48 px line."""
    from seqvision.data.images import image_size

    folder = shared_data / "printed" / name
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    for split, expected in zip(("train", "val"), PRINTED[name], strict=True):
        report = read_lines(folder / split)
        assert len(report.samples) == expected and not report.skipped
        for sample in report.samples[:: max(1, expected // 25)]:
            width, height = image_size(sample)
            assert height == 48 and width >= 8, sample.source
    if name == "sroie":  # labels are upper case although the print is not: scored case-folded
        assert all(s.text == s.text.upper() for s in read_lines(folder / "val").samples)


def test_mix_of_real_printed_sets(shared_data: Path) -> None:
    printed = shared_data / "printed"
    if not (printed / "ehri_en").is_dir():
        pytest.skip(f"{printed} not found")
    cfg = DataConfig(train=[f"{printed / 'ehri_en' / 'train'}*2", str(printed / "gt4hist_en" / "train")])
    cfg.val = str(printed / "ehri_en" / "val")
    train, val = read_split(cfg, seed=0, log=None)
    assert len(train) == 2 * 1502 + 1255 and len(val) == 240
