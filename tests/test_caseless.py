"""``caseless:PATH``: labels without case train through a case-folded CTC loss and are scored case-folded."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import torch
from torch import nn

from conftest import TINY
from seqvision.cli.main import main
from seqvision.config import TrainConfig
from seqvision.data.alphabet import Alphabet
from seqvision.data.readers import caseless_input, read_input, read_lines
from seqvision.tasks.lines.metrics import ErrorRates
from seqvision.tasks.lines.module import TextLineTask, fold_case


def test_caseless_prefix_is_parsed_before_the_weight():
    assert caseless_input("caseless:a/train*3") == ("a/train*3", True)
    assert caseless_input("a/train") == ("a/train", False)


def test_read_input_marks_every_line(lines_dir: Path):
    plain = read_lines(lines_dir / "labels.tsv").samples
    marked = read_input(f"caseless:{lines_dir / 'labels.tsv'}").samples
    assert [s.text for s in marked] == [s.text for s in plain]
    assert all(s.caseless for s in marked) and not any(s.caseless for s in plain)


def test_alphabet_folds_only_letters_with_both_cases():
    a = Alphabet(list("ABab1é"))
    assert a.case_pairs() == [(3, 1), (4, 2)]
    assert a.fold_case("aBé1z") == "ABé1z"  # É is not in the alphabet, z neither


class Fixed(nn.Module):
    """A 'model' whose output is given: each frame sure of one class."""

    def __init__(self, frames: list[int], classes: int):
        super().__init__()
        lp = torch.full((1, len(frames), classes), -20.0)
        lp[0, torch.arange(len(frames)), torch.tensor(frames)] = 0.0
        self.log_probs = lp.log_softmax(-1)

    def forward(self, images, widths):
        return self.log_probs, torch.tensor([self.log_probs.shape[1]])


def batch(text: str, alphabet: Alphabet, caseless: bool) -> dict:
    target = alphabet.encode(alphabet.fold_case(text) if caseless else text)
    return {
        "images": torch.zeros(1, 1, 8, 8),
        "widths": torch.tensor([8]),
        "targets": torch.tensor(target),
        "target_lengths": torch.tensor([len(target)]),
        "texts": [text],
        "caseless": torch.tensor([caseless]),
    }


def test_case_folded_loss_accepts_either_case_and_only_for_caseless_lines():
    alphabet = Alphabet(list("ABab"))
    a, b = alphabet.index["a"], alphabet.index["b"]
    task = TextLineTask(Fixed([a, 0, b], len(alphabet)), alphabet, TrainConfig(), 1)  # reads "ab"
    right = float(task.ctc_loss(batch("ab", alphabet, caseless=False))[0])
    capitals = float(task.ctc_loss(batch("AB", alphabet, caseless=False))[0])
    folded = float(task.ctc_loss(batch("AB", alphabet, caseless=True))[0])
    assert right < 0.1 and capitals > 10  # case-sensitive: the capitals are wrong
    assert math.isclose(folded, right, rel_tol=1e-4, abs_tol=1e-4)  # caseless: "ab" reads "AB"
    lp = torch.randn(2, 3, len(alphabet)).log_softmax(-1)
    f = fold_case(lp, [a, b], [alphabet.index["A"], alphabet.index["B"]])
    assert torch.allclose(f[..., alphabet.index["A"]].exp(), lp[..., a].exp() + lp[..., alphabet.index["A"]].exp())


def _upper_copy(lines_dir: Path, out: Path) -> Path:
    rows = [f"{s.image}\t{s.text.upper()}" for s in read_lines(lines_dir / "labels.tsv").samples]
    out.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return out


def test_eval_of_a_caseless_set_scores_case_folded(trained_run: Path, lines_dir: Path, tmp_path: Path, capsys):
    upper = _upper_copy(lines_dir, tmp_path / "upper.tsv")
    predictions = tmp_path / "predictions.tsv"
    argv = ["eval", str(trained_run), str(lines_dir / "labels.tsv"), "--json", "--predictions", str(predictions)]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(["eval", str(trained_run), f"caseless:{upper}", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    alphabet = Alphabet(json.loads((trained_run / "model.json").read_text())["alphabet"])
    expected = ErrorRates()
    for row in predictions.read_text(encoding="utf-8").splitlines():
        _, reference, text = row.split("\t")
        expected.update(alphabet.fold_case(text), alphabet.fold_case(reference))
    assert result["cer"] == round(expected.cer, 5)


def test_training_on_a_caseless_set_beside_a_cased_one(lines_dir: Path, tmp_path: Path, capsys):
    upper = _upper_copy(lines_dir, tmp_path / "upper.tsv")
    out = tmp_path / "run"
    argv = ["train", "--train", str(lines_dir / "labels.tsv"), f"caseless:{upper}*2", "--val", f"caseless:{upper}"]
    argv += ["--out", str(out), "--epochs", "2", *TINY, "--set=data.augment=false", "--set=train.lr=0.005"]
    assert main(argv) == 0
    assert "caseless:" in capsys.readouterr().err  # the mix names it
    meta = json.loads((out / "model.json").read_text())
    assert any(c.islower() for c in meta["alphabet"])  # the lower case came from the cased set
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    losses = [float(r["train_loss_epoch"]) for r in rows if r.get("train_loss_epoch")]
    assert losses[-1] < losses[0]
