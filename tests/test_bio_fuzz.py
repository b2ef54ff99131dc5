"""Fuzzing the FASTA and TSV readers (hypothesis): mutated files parse or raise the documented DataError.

Valid files are mutated byte by byte (inserted, deleted and replaced bytes drawn from the
characters that matter to the formats: '>', tabs, newlines, commas, '=', '|', bases, NUL,
invalid UTF-8, gzip's magic), optionally gzipped before or after mutation, and read with and
without a labels file and with and without required labels. Whatever comes back must be
records of A C G T U N only with consistent labels; any exception other than DataError, or a
read slower than the deadline, fails. Runs are derandomized, so CI sees the same cases.
"""

from __future__ import annotations

import gzip
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqvision.errors import DataError
from seqvision.tasks.dna.bio import ALLOWED, read_sequences, targets

CASES = 400  # examples per test (x 2 tests, plus hypothesis' own explicit and shrinking runs)
FUZZ = settings(
    max_examples=CASES,
    deadline=timedelta(seconds=5),  # a hang or a quadratic blow-up fails; a busy CI machine does not
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

SEEDS = {
    "fasta": b">s1 label=1\nACGTNacgt\nGGCA\n>s2|0\nTTTT\n;note\n>s3 x labels=1\nUUUU\n",
    "fasta_names": b">a labels=CTCF,YY1\nACGT\n>b labels=-\nGGGG\n>c labels=YY1\nAC\n",
    "fasta_bare": b">a\nACGT\n>b desc\nGGGGA\n",  # labels from the labels file, or none for prediction
    "tsv": b"sequence\tlabel\nACGUN\t1\nUUUU\t0\nggga\t1\n",
    "tsv_names": b"ACGT\tCTCF,YY1\nACGA\t-\nTTTT\tYY1\n",
    "tsv_columns": b"seq\tgata\tpum\nACGT\t1\t0\nACGA\t0\t0\n",
}
LABELS = b"id\tlab\na\t1\nb\t0\n"
# format characters and bases often, bytes that break the text rarely (so most mutants still reach the parser)
ALPHABET = list(b">\t\n,=|-; ACGTUNacgtn01" * 4 + b"\rXZ\x00\xff\xc3\x1f\x8b")


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        at = draw(st.integers(0, len(data)))
        byte = draw(st.sampled_from(ALPHABET))
        if kind == "insert":
            data[at:at] = bytes([byte]) * draw(st.integers(1, 3))
        elif data and at < len(data):
            if kind == "delete":
                del data[at : at + draw(st.integers(1, 4))]
            else:
                data[at] = byte
    return bytes(data)


def check(path: Path, labels: Path | None, need_labels: bool) -> None:
    """Parse or raise DataError; a parse must give clean records and labels that fit the file's names."""
    try:
        data = read_sequences(path, labels, need_labels=need_labels)
    except DataError as exc:
        assert str(exc) and "\n" not in str(exc), repr(exc)
        return
    assert data.records
    for record in data.records:
        assert record.sequence and set(record.sequence) <= ALLOWED
        if record.labels is not None:
            assert len(targets(record, data.labels)) == len(data.labels)
        else:
            assert not need_labels


@FUZZ
@given(
    st.sampled_from(sorted(SEEDS)).flatmap(lambda name: st.tuples(st.just(name), mutated(SEEDS[name]))),
    st.sampled_from(["plain", "plain", "plain", "gzip", "gzip-then-mutate"]),
    st.booleans(),
    st.booleans(),
)
def test_mutated_files_parse_or_raise_data_error(
    case: tuple[str, bytes], packing: str, need_labels: bool, with_labels_file: bool
) -> None:
    name, data = case
    with tempfile.TemporaryDirectory() as tmp:
        suffix = ".fa" if name.startswith("fasta") else ".tsv"
        if packing == "gzip":
            data, suffix = gzip.compress(data, mtime=0), suffix + ".gz"
        elif packing == "gzip-then-mutate":  # corrupt streams: flip a byte in the middle of a real gzip file
            raw = bytearray(gzip.compress(SEEDS[name], mtime=0))
            raw[len(raw) // 2] ^= data[0] if data else 1
            data, suffix = bytes(raw[: len(raw) - (len(data) % 5)]), suffix + ".gz"
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        labels = None
        if with_labels_file and suffix.startswith(".fa"):
            labels = Path(tmp) / "labels.tsv"
            labels.write_bytes(LABELS)
        check(path, labels, need_labels)


@FUZZ
@given(st.binary(max_size=200), st.sampled_from([".fa", ".tsv", ".fa.gz", ".fasta", ".txt"]), st.booleans())
def test_arbitrary_bytes_parse_or_raise_data_error(data: bytes, suffix: str, need_labels: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        check(path, None, need_labels)
