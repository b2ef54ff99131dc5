"""DNA/RNA readers, one-hot batches and ranking metrics: formats, every documented error, hand-computed AUCs."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from seqvision.errors import DataError
from seqvision.tasks.dna.batches import collate_sequences, one_hot
from seqvision.tasks.dna.bio import BINARY, read_sequences, targets
from seqvision.tasks.dna.ranking import average_precision, macro, roc_auc


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------ TSV


def test_tsv_binary_with_header_lower_case_and_rna(tmp_path: Path) -> None:
    data = read_sequences(write(tmp_path / "a.tsv", "sequence\tlabel\nacgun\t1\nUUUU\t0\n\n# comment\nGGGA\t1\n"))
    assert [r.sequence for r in data.records] == ["ACGUN", "UUUU", "GGGA"]
    assert data.labels == [BINARY]
    assert [targets(r, data.labels) for r in data.records] == [[1.0], [0.0], [1.0]]
    assert data.records[0].source.endswith("a.tsv:2") and data.is_rna


def test_tsv_multi_label_names_and_columns(tmp_path: Path) -> None:
    names = read_sequences(write(tmp_path / "n.tsv", "ACGT\tCTCF,YY1\nACGA\t-\nTTTT\tYY1\n"))
    assert names.labels == ["CTCF", "YY1"]
    assert [targets(r, names.labels) for r in names.records] == [[1, 1], [0, 0], [0, 1]]
    columns = read_sequences(write(tmp_path / "c.tsv", "seq\tgata\tpum\nACGT\t1\t0\nACGA\t0\t0\nACCC\t1\t1\n"))
    assert columns.labels == ["gata", "pum"] and not columns.is_rna
    assert [targets(r, columns.labels) for r in columns.records] == [[1, 0], [0, 0], [1, 1]]


def test_variable_lengths_are_kept(tmp_path: Path) -> None:
    data = read_sequences(write(tmp_path / "v.tsv", "ACGTACGT\t1\nAC\t0\n"))
    assert [len(r.sequence) for r in data.records] == [8, 2]


# ---------------------------------------------------------------------------------------------- FASTA


def test_fasta_header_labels_multiline_and_gzip(tmp_path: Path) -> None:
    text = ">s1 label=1\nACGT\nacgt\n;comment\n>s2|0\nNNNN\n\n>s3 some words labels=1\nTTTT\n"
    plain = read_sequences(write(tmp_path / "a.fa", text))
    assert [(r.id, r.sequence) for r in plain.records] == [("s1", "ACGTACGT"), ("s2", "NNNN"), ("s3", "TTTT")]
    assert [targets(r, plain.labels) for r in plain.records] == [[1.0], [0.0], [1.0]]
    gz = tmp_path / "a.fasta.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    unzipped = read_sequences(gz).records
    assert [(r.id, r.sequence, r.labels) for r in unzipped] == [(r.id, r.sequence, r.labels) for r in plain.records]
    assert unzipped[1].source == f"{gz}:5"


def test_fasta_with_labels_file(tmp_path: Path) -> None:
    fasta = write(tmp_path / "x.fasta", ">a desc\nACGT\n>b\nGGGG\n")
    labels = write(tmp_path / "labels.tsv", "id\tCTCF\tYY1\na\t1\t0\nb\t1\t1\nunused\t0\t0\n")
    data = read_sequences(fasta, labels)
    assert data.labels == ["CTCF", "YY1"]
    assert [sorted(r.labels or ()) for r in data.records] == [["CTCF"], ["CTCF", "YY1"]]


def test_unlabelled_input_for_prediction(tmp_path: Path) -> None:
    fasta = read_sequences(write(tmp_path / "p.fa", ">a\nACGT\n>b\nGG\n"), need_labels=False)
    tsv = read_sequences(write(tmp_path / "p.tsv", "ACGT\nGG\n"), need_labels=False)
    assert [r.labels for r in fasta.records + tsv.records] == [None] * 4
    assert [r.id for r in fasta.records] == ["a", "b"] and [r.id for r in tsv.records] == ["1", "2"]


# --------------------------------------------------------------------------------------------- errors

BAD = [
    ("bad.tsv", "ACGT\t1\nACXT\t0\n", r"bad\.tsv:2: bad character 'X' at position 3"),
    ("bad.tsv", "AC T\t1\n", r"bad\.tsv:1: bad character ' ' at position 3"),
    ("bad.tsv", "ACGT\t1\nACGT\n", r"bad\.tsv:2: missing label"),
    ("bad.tsv", "ACGT\n", r"bad\.tsv:1: missing label"),
    ("bad.tsv", "ACGT\t1\n\t0\n", r"bad\.tsv:2: empty sequence"),
    ("bad.tsv", "ACGT\t1\t0\nACGT\t1\n", r"bad\.tsv:2: 1 label column\(s\), but earlier lines have 2"),
    ("bad.tsv", "ACGT\t1\t2\n", r"bad\.tsv:1: with several label columns each must be 0 or 1"),
    ("bad.tsv", "ACGT\t \n", r"bad\.tsv:1: empty label"),
    ("bad.tsv", "", r"bad\.tsv: no sequences \(empty file\)"),
    ("bad.tsv", "sequence\tlabel\n", r"bad\.tsv: no sequences \(empty file\)"),
    ("bad.fa", ">a label=1\n>b label=0\nACGT\n", r"bad\.fa:1: empty record 'a' \(no sequence\)"),
    ("bad.fa", ">a label=1\nACGT\n>b label=0\n", r"bad\.fa:3: empty record 'b'"),
    ("bad.fa", ">a label=1\nAC-GT\n", r"bad\.fa:2: record 'a': bad character '-' at position 3"),
    ("bad.fa", ">a\nACGT\n", r"bad\.fa:1: missing label: no label in its header"),
    ("bad.fa", ">a|1\nACGT\n>a|0\nACGT\n", r"bad\.fa:3: duplicate record id 'a'"),
    ("bad.fa", "ACGT\n>a|1\nACGT\n", r"bad\.fa:1: sequence before the first '>' header"),
    ("bad.fa", ">\nACGT\n", r"bad\.fa:1: FASTA header without an id"),
    ("bad.fa", "", r"bad\.fa: no sequences \(empty file\)"),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD, ids=[m.split(": ", 1)[-1][:40] for _, _, m in BAD])
def test_bad_input_is_one_clear_data_error(tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        read_sequences(write(tmp_path / name, text))


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"missing\.fa: no such file"):
        read_sequences(tmp_path / "missing.fa")
    corrupt = tmp_path / "c.fa.gz"
    corrupt.write_bytes(gzip.compress(b">a|1\nACGT\n" * 50)[:-12])
    with pytest.raises(DataError, match=r"c\.fa\.gz: corrupt or truncated gzip file"):
        read_sequences(corrupt)
    (tmp_path / "fake.fa.gz").write_bytes(b">a|1\nACGT\n")
    with pytest.raises(DataError, match=r"fake\.fa\.gz: named \.gz but not a gzip file"):
        read_sequences(tmp_path / "fake.fa.gz")
    (tmp_path / "latin.tsv").write_bytes(b"ACGT\t1\nAC\xe9T\t0\n")
    with pytest.raises(DataError, match=r"latin\.tsv:2: not UTF-8 text"):
        read_sequences(tmp_path / "latin.tsv")
    fasta = write(tmp_path / "x.fa", ">a\nACGT\n>b\nACGT\n")
    with pytest.raises(DataError, match=r"x\.fa:3: missing label: record 'b' is not in .*l\.tsv"):
        read_sequences(fasta, write(tmp_path / "l.tsv", "a\t1\n"))
    with pytest.raises(DataError, match=r"goes with FASTA input"):
        read_sequences(write(tmp_path / "t.tsv", "ACGT\t1\n"), tmp_path / "l.tsv")


def test_unknown_label_against_the_model(tmp_path: Path) -> None:
    data = read_sequences(write(tmp_path / "n.tsv", "ACGT\tCTCF\n"))
    with pytest.raises(DataError, match=r"n\.tsv:1: label 'CTCF' is not one of the model's labels \['YY1'\]"):
        targets(data.records[0], ["YY1"], "the model's")


# ------------------------------------------------------------------------------------ one-hot batches


def test_one_hot_channels_u_as_t_and_n_as_quarter() -> None:
    x = one_hot("ACGTUN")
    assert x.shape == (4, 6) and x.dtype == np.float32
    np.testing.assert_array_equal(x[:, :5].argmax(0), [0, 1, 2, 3, 3])
    np.testing.assert_array_equal(x[:, 5], [0.25] * 4)
    np.testing.assert_array_equal(x.sum(0), np.ones(6))


def test_collate_pads_with_zeros_and_keeps_lengths() -> None:
    batch = collate_sequences([(one_hot("ACG"), np.array([1.0])), (one_hot("ACGTA"), np.array([0.0]))])
    assert batch["images"].shape == (2, 4, 1, 5) and batch["widths"].tolist() == [3, 5]
    assert batch["images"][0, :, 0, 3:].abs().sum() == 0 and batch["targets"].tolist() == [[1.0], [0.0]]
    assert torch.equal(batch["images"][1, :, 0], torch.from_numpy(one_hot("ACGTA")))


# -------------------------------------------------------------------------------------------- metrics


def brute_roc_auc(truth: np.ndarray, scores: np.ndarray) -> float:
    """P(positive scores above negative) + half the ties, over every pair."""
    pos, neg = scores[truth == 1], scores[truth == 0]
    pairs = [(p > n) + 0.5 * (p == n) for p, n in itertools.product(pos, neg)]
    return float(np.mean(pairs))


def brute_average_precision(truth: np.ndarray, scores: np.ndarray) -> float:
    """sum over distinct thresholds t (high to low) of (recall(t) - previous recall) * precision(t)."""
    total, previous = 0.0, 0.0
    for t in sorted(set(scores.tolist()), reverse=True):
        chosen = scores >= t
        recall = truth[chosen].sum() / truth.sum()
        total += (recall - previous) * truth[chosen].mean()
        previous = recall
    return total


def test_metrics_on_hand_computed_cases() -> None:
    truth = np.array([0, 0, 1, 1])
    assert roc_auc(truth, np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)  # 3 of 4 pairs ordered
    assert average_precision(truth, np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx((1 + 2 / 3) / 2)
    assert roc_auc(truth, np.array([0.1, 0.2, 0.3, 0.4])) == 1.0
    assert average_precision(truth, np.array([0.1, 0.2, 0.3, 0.4])) == 1.0
    assert roc_auc(truth, np.array([0.4, 0.3, 0.2, 0.1])) == 0.0
    assert roc_auc(truth, np.full(4, 0.5)) == 0.5  # all tied: chance
    assert average_precision(truth, np.full(4, 0.5)) == 0.5  # one threshold: precision = prevalence
    # ties across classes count half: pairs (0.5 vs 0.5) = 0.5, (0.5 vs 0.1) = 1, (0.9 vs both) = 2
    assert roc_auc(truth, np.array([0.1, 0.5, 0.5, 0.9])) == pytest.approx(3.5 / 4)
    assert np.isnan(roc_auc(np.array([1, 1]), np.array([0.2, 0.3])))
    assert np.isnan(average_precision(np.array([0, 0]), np.array([0.2, 0.3])))


def test_metrics_match_brute_force_on_random_data_with_ties() -> None:
    rng = np.random.default_rng(0)
    for _ in range(30):
        n = int(rng.integers(2, 40))
        truth = rng.integers(0, 2, n)
        truth[:2] = [0, 1]
        scores = rng.integers(0, 6, n) / 5.0  # few distinct values: many ties
        assert roc_auc(truth, scores) == pytest.approx(brute_roc_auc(truth, scores))
        assert average_precision(truth, scores) == pytest.approx(brute_average_precision(truth, scores))


def test_macro_skips_undefined_labels() -> None:
    truth = np.array([[0, 1], [1, 1], [0, 1]])
    scores = np.array([[0.1, 0.5], [0.9, 0.2], [0.2, 0.3]])
    assert macro(roc_auc, truth, scores) == 1.0  # the second label has no negatives: left out
