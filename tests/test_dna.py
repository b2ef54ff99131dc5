"""The dna task (DanQ): model contracts for every sequence model, a planted-motif CLI round trip
(train -> eval -> predict -> motifs, MEME text validated), errors, and a tiny real PUM2 run above chance."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seqvision.cli.main import main
from seqvision.config import ExperimentConfig, ModelConfig
from seqvision.errors import ConfigError, DataError
from seqvision.nn.encoders import SEQUENCE_ENCODERS, encoders_for
from seqvision.nn.model import build_model
from seqvision.nn.presets import danq_small, get_preset
from seqvision.registry import ENCODERS, SEQUENCES
from seqvision.tasks import get_task
from seqvision.tasks.dna.bio import read_sequences

MOTIF = "TGTAAATA"  # planted in every positive synthetic sequence (PUM2's UGUAAAUA, as DNA)
TINY = [
    "--set=model.encoder.channels=[16]",
    "--set=model.encoder.kernel=9",
    "--set=model.encoder.pool=3",
    "--set=model.sequence.hidden=16",
    "--set=model.head.hidden=16",
    "--set=model.encoder.dropout=0",
    "--set=model.sequence.dropout=0.1",
    "--set=model.head.dropout=0.1",
    "--set=data.num_workers=0",
    "--set=train.lr=0.01",
    "--batch-size=32",
    "--threads=1",
    "--quiet",
]


def tiny_config(sequence: str) -> ModelConfig:
    cfg = danq_small(sequence=sequence, filters=12)
    cfg.encoder.kernel, cfg.encoder.pool = 7, 3
    cfg.sequence.hidden, cfg.head.hidden = 16, 8
    return cfg


def one_hot_batch(lengths: list[int], pad_to: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random one-hot sequences padded with noise the model must never read."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(len(lengths), 4, 1, pad_to, generator=gen) * 8 - 4
    for i, n in enumerate(lengths):
        x[i, :, 0, :n] = F.one_hot(torch.randint(0, 4, (n,), generator=gen), 4).T.float()
    return x, torch.tensor(lengths)


@pytest.mark.parametrize("sequence", SEQUENCES.names())
def test_every_sequence_model_swaps_into_danq(sequence: str) -> None:
    """(B, K) logits, a padded batch equals each sequence alone, every parameter gets a BCE gradient."""
    torch.manual_seed(0)
    model = build_model(tiny_config(sequence), 3).eval()
    x, lengths = one_hot_batch([50, 31, 44], pad_to=61)
    with torch.no_grad():
        logits, out_lengths = model(x, lengths)
        assert logits.shape == (3, 3) and torch.isfinite(logits).all()
        assert torch.equal(out_lengths, model.encoder.output_lengths(lengths))
        for i, n in enumerate(lengths.tolist()):
            alone, _ = model(x[i : i + 1, :, :, :n], lengths[i : i + 1])
            torch.testing.assert_close(logits[i], alone[0], atol=1e-4, rtol=0)
    model.train()
    logits, _ = model(x, lengths)
    F.binary_cross_entropy_with_logits(logits, torch.tensor([[1.0, 0, 1], [0, 0, 1], [1, 1, 0]])).backward()
    dead = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert not dead, dead


def test_preset_is_danq_shaped() -> None:
    cfg = get_preset("danq-small")
    assert (cfg.input, cfg.height, cfg.in_channels) == ("sequence", 1, 4)
    assert (cfg.encoder.name, cfg.head.name, cfg.sequence.bidirectional) == ("onehot-cnn1d", "sigmoid", True)
    model = build_model(cfg, 1)
    assert model.encoder.time_stride == cfg.encoder.pool and model.encoder.output_length(200) == 40


def test_encoders_and_inputs_must_match() -> None:
    assert set(encoders_for("sequence")) == set(SEQUENCE_ENCODERS) and set(ENCODERS.names()) >= SEQUENCE_ENCODERS
    assert not set(encoders_for("line")) & SEQUENCE_ENCODERS
    for name in SEQUENCE_ENCODERS:
        for preset in ("crnn-small", "lrcn-small", "sat-small"):
            cfg = get_preset(preset)
            cfg.encoder.name = name
            with pytest.raises(ConfigError, match=f"{name}' reads one-hot sequences"):
                build_model(cfg, 5)
    cfg = danq_small()
    cfg.encoder.name = "small"
    with pytest.raises(ConfigError, match=r"model\.input=sequence needs a sequence encoder"):
        build_model(cfg, 1)
    cfg = danq_small()
    cfg.encoder.channels = [8, 8]
    with pytest.raises(ConfigError, match="one channel width"):
        build_model(cfg, 1)


def test_task_refuses_a_line_model_and_short_sequences(tmp_path: Path) -> None:
    data = tmp_path / "d.tsv"
    data.write_text("ACGTACGTAC\t1\nACG\t0\nACGTACGTACGT\t0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="task dna needs a sequence model"):
        get_task("dna").prepare(ExperimentConfig(task="dna"), tmp_path, False, None)
    cfg = ExperimentConfig(task="dna", model=danq_small())  # pool 5: a 3-base record gives no step
    cfg.data.train, cfg.data.val = str(data), str(data)
    with pytest.raises(DataError, match=r"d\.tsv:2: record '2' is 3 bases long, too short"):
        get_task("dna").prepare(cfg, tmp_path, False, None)


# ------------------------------------------------------------------------- planted motif, CLI round trip


def planted(path: Path, n: int, seed: int, fasta: bool = False) -> Path:
    """Random DNA of 40-70 bases; every second sequence carries MOTIF at a random place (label 1)."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        seq = "".join(rng.choice("ACGT") for _ in range(rng.randint(40, 70)))
        if i % 2:
            at = rng.randint(0, len(seq) - len(MOTIF))
            seq = seq[:at] + MOTIF + seq[at + len(MOTIF) :]
        lines.append(f">s{i} label={i % 2}\n{seq}\n" if fasta else f"{seq}\t{i % 2}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def parse_meme(text: str) -> dict[str, np.ndarray]:
    """A strict reader of MEME minimal motif format: header, alphabet, background, then motifs whose
    matrices have the declared width and rows of alength probabilities summing to 1."""
    lines = text.splitlines()
    assert lines[0] == "MEME version 4" and lines[1] == ""
    assert lines[2] in ("ALPHABET= ACGT", "ALPHABET= ACGU")
    i = lines.index("Background letter frequencies")
    fields = lines[i + 1].split()
    assert [fields[k] for k in (0, 2, 4, 6)] == list(lines[2][-4:])
    assert sum(float(fields[k]) for k in (1, 3, 5, 7)) == pytest.approx(1, abs=1e-3)
    motifs, i = {}, i + 2
    while i < len(lines):
        if not lines[i]:
            i += 1
            continue
        name = re.fullmatch(r"MOTIF (\S+)", lines[i]).group(1)  # type: ignore[union-attr]
        header = re.fullmatch(r"letter-probability matrix: alength= 4 w= (\d+) nsites= (\d+) E= 0", lines[i + 1])
        assert header, lines[i + 1]
        w = int(header.group(1))
        rows = np.array([[float(v) for v in line.split()] for line in lines[i + 2 : i + 2 + w]])
        assert rows.shape == (w, 4) and (rows >= 0).all()
        np.testing.assert_allclose(rows.sum(1), 1, atol=1e-4)
        motifs[name] = rows
        i += 2 + w
    return motifs


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A tiny DanQ trained on 600 planted-motif sequences (FASTA); returns (run, val.tsv, val.fa)."""
    root = tmp_path_factory.mktemp("planted")
    train, val = planted(root / "train.fa", 600, 0, fasta=True), planted(root / "val.tsv", 80, 1)
    planted(root / "val.fa", 80, 1, fasta=True)
    run = root / "run"
    argv = ["train", "--task", "dna", "--train", str(train), "--val", str(val), "--out", str(run), "--epochs", "8"]
    assert main([*argv, *TINY]) == 0
    return run, val, root / "val.fa"


def test_planted_motif_round_trip(planted_run: tuple[Path, Path, Path], tmp_path: Path, capsys) -> None:
    run, val, val_fa = planted_run
    meta = json.loads((run / "model.json").read_text(encoding="utf-8"))
    assert meta["task"] == "dna" and meta["labels"] == ["positive"] and meta["metrics"]["val_auroc"] > 0.9
    capsys.readouterr()
    assert main(["eval", str(run), str(val), "--json", "--threads", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["roc_auc"] == pytest.approx(meta["metrics"]["val_auroc"], abs=1e-4) and result["sequences"] == 80
    assert result["pr_auc"] > 0.9  # chance is the prevalence, 0.5

    out = tmp_path / "p.tsv"
    assert main(["predict", str(run), str(val_fa), "--out", str(out), "--threads", "1"]) == 0
    rows = [line.split("\t") for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0] == ["id", "positive"] and [r[0] for r in rows[1:]] == [f"s{i}" for i in range(80)]
    probabilities = np.array([float(r[1]) for r in rows[1:]])
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    truth = np.arange(80) % 2
    assert probabilities[truth == 1].mean() > probabilities[truth == 0].mean() + 0.3

    meme = tmp_path / "m.meme"
    assert main(["motifs", str(run), "--data", str(val), "--out", str(meme), "--threads", "1"]) == 0
    motifs = parse_meme(meme.read_text(encoding="utf-8"))
    assert 0 < len(motifs) <= 16 and all(m.shape == (9, 4) for m in motifs.values())
    # some filter has learnt part of the planted motif: its consensus holds a 5-base piece of it
    consensus = ["".join("ACGT"[j] for j in m.argmax(1)) for m in motifs.values()]
    pieces = {MOTIF[k : k + 5] for k in range(len(MOTIF) - 4)}
    assert any(p in c for c in consensus for p in pieces), consensus
    bio_motifs = pytest.importorskip("Bio.motifs")  # an independent reader of the format
    with meme.open(encoding="utf-8") as fh:
        record = bio_motifs.parse(fh, "minimal")
    assert [m.name for m in record] == list(motifs) and record[0].length == 9


def test_cli_errors_are_one_line(planted_run: tuple[Path, Path, Path], tmp_path: Path, capsys) -> None:
    run, _, _ = planted_run
    bad = tmp_path / "bad.fa"
    bad.write_text(">a label=1\nACGTZ\n", encoding="utf-8")
    cases = [
        (["train", "--task", "dna", "--train", str(bad), "--out", str(tmp_path / "r"), *TINY], "bad character 'Z'"),
        (["eval", str(run), str(bad)], r"bad\.fa:2: record 'a': bad character 'Z' at position 5"),
        (["export", str(run), "--out", str(tmp_path / "m.onnx")], "not supported yet"),
        (["motifs", "print-en", "--data", str(bad)], "a text-line model, not a DNA/RNA model"),
        (["eval", str(run), str(bad), "--backend", "onnx"], "torch backend only"),
    ]
    for argv, message in cases:
        capsys.readouterr()
        assert main(argv) == 1, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and re.search(message, err), (argv, err)


def test_tiny_pum2_run_beats_chance(shared_data: Path, tmp_path: Path) -> None:
    """A tiny DanQ on 2,000 real PUM2 training sequences for 3 epochs: val ROC-AUC well above 0.5."""
    pum2 = shared_data / "pum2"
    if not (pum2 / "train.tsv").is_file():
        pytest.skip("pum2 not in the shared data")
    lines = (pum2 / "train.tsv").read_text(encoding="utf-8").splitlines()
    subset = tmp_path / "train.tsv"
    subset.write_text("\n".join(lines[:2001]) + "\n", encoding="utf-8")
    run = tmp_path / "run"
    argv = ["train", "--task", "dna", "--train", str(subset), "--val", str(pum2 / "val.tsv"), "--out", str(run)]
    assert main([*argv, "--epochs", "3", *TINY]) == 0
    meta = json.loads((run / "model.json").read_text(encoding="utf-8"))
    assert meta["metrics"]["val_auroc"] > 0.7, meta["metrics"]
    assert read_sequences(pum2 / "val.tsv").is_rna and meta["input"]["rna"]
    rows = [r for r in (run / "metrics.csv").read_text(encoding="utf-8").splitlines()[1:] if r]
    header = (run / "metrics.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    losses = [float(r.split(",")[header.index("val_loss")]) for r in rows if r.split(",")[header.index("val_loss")]]
    assert losses[-1] < losses[0] < 0.7  # below the 0.69 of a constant 0.5 guess after one epoch already


def test_multi_label_fasta_with_labels_file(tmp_path: Path, capsys) -> None:
    """Two planted motifs, two labels from a separate labels file: training, per-label eval, predictions."""
    rng = random.Random(3)
    motifs = {"pum": MOTIF, "gata": "AGATAAGA"}
    fasta, table = [], ["id\tpum\tgata"]
    for i in range(500):
        seq = "".join(rng.choice("ACGT") for _ in range(60))
        present = [name for name in motifs if rng.random() < 0.5]
        for k, name in enumerate(present):  # pum in the first half, gata in the second: never overlapping
            at = rng.randint(0, 22) + 30 * k if len(present) == 2 else rng.randint(0, 52)
            seq = seq[:at] + motifs[name] + seq[at + 8 :]
        fasta.append(f">r{i}\n{seq}\n")
        table.append(f"r{i}\t" + "\t".join("1" if name in present else "0" for name in motifs))
    (tmp_path / "all.fa").write_text("".join(fasta[:400]), encoding="utf-8")
    (tmp_path / "val.fa").write_text("".join(fasta[400:]), encoding="utf-8")
    (tmp_path / "labels.tsv").write_text("\n".join(table) + "\n", encoding="utf-8")
    run = tmp_path / "run"
    argv = ["train", "--task", "dna", "--train", str(tmp_path / "all.fa"), "--val", str(tmp_path / "val.fa")]
    argv += ["--labels", str(tmp_path / "labels.tsv"), "--out", str(run), "--epochs", "8", *TINY]
    assert main(argv) == 0
    assert json.loads((run / "model.json").read_text(encoding="utf-8"))["labels"] == ["pum", "gata"]
    capsys.readouterr()
    predictions = tmp_path / "p.tsv"
    argv = ["eval", str(run), str(tmp_path / "val.fa"), "--labels", str(tmp_path / "labels.tsv")]
    assert main([*argv, "--predictions", str(predictions), "--threads", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ROC-AUC") and [line.split()[0] for line in out[1:]] == ["pum", "gata"]
    per_label = [float(line.split()[2]) for line in out[1:]]
    assert min(per_label) > 0.85, out
    rows = predictions.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "id\tpum\ttrue_pum\tgata\ttrue_gata" and len(rows) == 101


@pytest.mark.parametrize("motif", ["ACG", "ACGT"])  # odd and even filter widths (even: one more output step)
def test_activation_pwm_of_a_hand_made_filter(motif: str) -> None:
    """A filter that fires only on ``motif`` gives exactly its one-hot PWM, wherever it sits (edges too);
    a filter that never fires is left out; MEME text for RNA has no strands line and parses."""
    from seqvision.tasks.dna.bio import SeqRecord
    from seqvision.tasks.dna.motifs import filter_motifs, meme_text

    cfg = danq_small(sequence="none", filters=2)
    cfg.encoder.kernel, cfg.encoder.pool, cfg.encoder.dropout = len(motif), 1, 0.0
    model = build_model(cfg, 1).eval()
    conv = model.encoder.motifs.conv
    with torch.no_grad():
        conv.weight.fill_(-1.0)
        conv.bias.copy_(torch.tensor([-(len(motif) - 1.0), 0.0]))
        for j, base in enumerate(motif):
            conv.weight[0, "ACGT".index(base), 0, j] = 1.0  # exact match: len - (len - 1) = 1, else <= -1
        conv.weight[1].zero_()  # never above zero: never activates
    sequences = ["TT" + motif + "TT", motif + "AAAA", "GGGG" + motif, "TTTTTTTT"]
    records = [SeqRecord(str(i), s, None, f"x:{i}") for i, s in enumerate(sequences)]
    found, background = filter_motifs(model, records)
    assert [m.name for m in found] == ["filter1"] and found[0].sites == 3
    np.testing.assert_array_equal(found[0].probabilities, np.eye(4)[["ACGT".index(b) for b in motif]])
    counts = {b: sum(s.count(b) for s in sequences) for b in "ACGT"}
    np.testing.assert_allclose(background, [counts[b] / sum(counts.values()) for b in "ACGT"])
    text = meme_text(found, background, rna=True)
    assert "ALPHABET= ACGU" in text and "strands" not in text and parse_meme(text)["filter1"].shape == (len(motif), 4)
    assert "strands: + -" in meme_text(found, background, rna=False)
