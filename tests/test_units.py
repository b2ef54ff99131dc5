"""Unit contracts: registries, alphabet, CTC decoding, error rates, masking, batching, normalisation, checkpoints."""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from safetensors.torch import save_file

import seqvision.nn.presets  # noqa: F401  (fills PRESETS)
from seqvision.checkpoint import load_state, save_model
from seqvision.config import EncoderConfig, ExperimentConfig, HeadConfig, ModelConfig, SequenceConfig, to_dict
from seqvision.data.alphabet import Alphabet
from seqvision.data.images import normalise
from seqvision.data.lines import WidthBucketSampler, ctc_frames_needed, pad_batch
from seqvision.errors import CheckpointError, ConfigError
from seqvision.nn.masking import conv_length, length_mask, mask_steps, mask_width
from seqvision.nn.model import SeqModel, build_model
from seqvision.registry import ENCODERS, HEADS, PRESETS, SEQUENCES, SPATIAL_SEQUENCES, Registry
from seqvision.tasks.lines.decoding.ctc import greedy_decode
from seqvision.tasks.lines.metrics import ErrorRates, edit_distance
from seqvision.tasks.lines.predictor import Recognizer
from seqvision.tasks.lines.task import model_metadata

# ------------------------------------------------------------------------------------------ registry


def make_registry() -> Registry:
    widgets: Registry = Registry("widget")

    @widgets.register("plain")
    def plain() -> int:
        """A plain widget.

        More words that describe() must not return.
        """
        return 1

    @widgets.register("bare")
    def bare() -> int:
        return 2

    return widgets


def test_registry_register_get_and_list() -> None:
    widgets = make_registry()
    assert widgets.get("plain")() == 1
    assert widgets.names() == ["bare", "plain"]  # sorted
    assert list(widgets) == ["bare", "plain"]
    assert "plain" in widgets and "fancy" not in widgets
    assert widgets.describe("plain") == "A plain widget."
    assert widgets.describe("bare") == ""


def test_registry_duplicate_name_raises() -> None:
    widgets = make_registry()
    with pytest.raises(ValueError, match="widget 'plain' is already registered"):
        widgets.register("plain")(lambda: 3)
    assert widgets.get("plain")() == 1  # the first registration stays


def test_registry_unknown_name_lists_choices() -> None:
    with pytest.raises(ConfigError, match=r"unknown widget 'fancy'; choose one of: bare, plain"):
        make_registry().get("fancy")


@pytest.mark.parametrize("registry", [ENCODERS, SEQUENCES, SPATIAL_SEQUENCES, HEADS, PRESETS], ids=lambda r: r.kind)
def test_every_registered_builder_is_described(registry: Registry) -> None:
    assert registry.names()
    for name in registry:
        assert registry.describe(name), f"{registry.kind} {name!r} has no docstring"


# ------------------------------------------------------------------------------------------ alphabet


def test_alphabet_encode_decode() -> None:
    alphabet = Alphabet.from_texts(["ba", "ca b"])
    assert alphabet.chars == [" ", "a", "b", "c"]
    assert len(alphabet) == 5  # the blank is class 0
    assert Alphabet.BLANK == 0
    assert alphabet.encode("cab") == [4, 2, 3]
    assert alphabet.encode("a c") == [2, 1, 4]
    assert alphabet.decode([4, 2, 3]) == "cab"
    assert alphabet.decode([0, 4, 0, 0, 2]) == "ca"  # blanks are skipped
    assert alphabet.decode(alphabet.encode("abc cab")) == "abc cab"


def test_alphabet_unknown_characters() -> None:
    alphabet = Alphabet("ab")
    assert alphabet.encode("xaz!b") == [1, 2]  # unknown characters are dropped
    assert alphabet.unknown(["abz", "zz!"]) == Counter({"z": 3, "!": 1})
    assert alphabet.unknown(["ab", ""]) == Counter()


def test_alphabet_rejects_duplicates() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        Alphabet(["a", "b", "a"])


@pytest.mark.parametrize(
    ("ids", "frames"),
    [([], 0), ([1], 1), ([1, 2, 3], 3), ([1, 1], 3), ([1, 1, 1], 5), ([1, 2, 1], 3), ([2, 2, 3, 3], 6)],
)
def test_ctc_frames_needed(ids: list[int], frames: int) -> None:
    assert ctc_frames_needed(ids) == frames


# ------------------------------------------------------------------------------------- greedy decode


def log_probs_for(path: list[tuple[int, float]], classes: int = 3) -> np.ndarray:
    """``(T, K)`` log-probabilities whose best class at step t is ``path[t][0]`` with probability ``path[t][1]``."""
    probs = np.zeros((len(path), classes), dtype=np.float32)
    for t, (k, p) in enumerate(path):
        probs[t] = (1 - p) / (classes - 1)
        probs[t, k] = p
    return np.log(probs)


def test_greedy_decode_collapses_repeats_and_splits_on_blanks() -> None:
    alphabet = Alphabet("ab")  # a = 1, b = 2
    path = [(1, 0.9), (1, 0.6), (0, 0.7), (1, 0.8), (2, 0.5), (2, 0.95), (0, 0.9)]
    beyond = [(2, 0.99), (1, 0.99)]  # frames past the length must be ignored
    decoded = greedy_decode(log_probs_for(path + beyond), len(path), alphabet)
    assert decoded.text == "aab"
    assert decoded.char_frames == [(0, 2), (3, 4), (4, 6)]
    assert decoded.char_confidences == pytest.approx([0.9, 0.8, 0.95])
    geometric_mean = math.exp(sum(math.log(p) for _, p in path) / len(path))
    assert decoded.confidence == pytest.approx(geometric_mean, rel=1e-5)
    assert all(0 < c <= 1 for c in [decoded.confidence, *decoded.char_confidences])


def test_greedy_decode_without_blank_merges_a_double_letter() -> None:
    alphabet = Alphabet("ab")
    assert greedy_decode(log_probs_for([(1, 0.9), (1, 0.9)]), 2, alphabet).text == "a"
    assert greedy_decode(log_probs_for([(1, 0.9), (0, 0.9), (1, 0.9)]), 3, alphabet).text == "aa"
    assert greedy_decode(log_probs_for([(2, 0.9), (1, 0.9), (2, 0.9)]), 3, alphabet).text == "bab"


def test_greedy_decode_blank_and_empty() -> None:
    alphabet = Alphabet("ab")
    blank = greedy_decode(log_probs_for([(0, 0.5), (0, 0.5)]), 2, alphabet)
    assert (blank.text, blank.char_confidences, blank.char_frames) == ("", [], [])
    assert blank.confidence == pytest.approx(0.5)
    empty = greedy_decode(log_probs_for([(1, 0.9)]), 0, alphabet)
    assert (empty.text, empty.confidence) == ("", 0.0)


# ------------------------------------------------------------------------------------------- metrics


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("kitten", "sitting", 3),
        ("", "", 0),
        ("abc", "", 3),
        ("", "abc", 3),
        ("abc", "abc", 0),
        ("flaw", "lawn", 2),
        ("ab", "ba", 2),
        (["the", "cat", "sat"], ["the", "sat"], 1),
    ],
)
def test_edit_distance(a: str | list[str], b: str | list[str], distance: int) -> None:
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance


def test_error_rates_are_micro_averaged() -> None:
    rates = ErrorRates()
    rates.update("helo world", "hello world")  # 1 char edit of 11; 1 word edit of 2
    rates.update("foo bar baz", "foo bar")  # 4 char edits (" baz") of 7; 1 word edit of 2
    assert (rates.char_edits, rates.chars, rates.word_edits, rates.words, rates.lines) == (5, 18, 2, 4, 2)
    assert rates.cer == pytest.approx(5 / 18)  # not the mean of per-line rates, (1/11 + 4/7) / 2
    assert rates.wer == pytest.approx(0.5)


def test_error_rates_empty() -> None:
    assert (ErrorRates().cer, ErrorRates().wer) == (0.0, 0.0)


# ------------------------------------------------------------------------------------------- masking


def test_length_mask() -> None:
    mask = length_mask(torch.tensor([2, 0, 4]), 4)
    expected = [[True, True, False, False], [False, False, False, False], [True, True, True, True]]
    assert mask.dtype == torch.bool
    assert mask.tolist() == expected


def test_mask_width_and_mask_steps() -> None:
    lengths = torch.tensor([3, 5, 1])
    x = torch.randn(3, 2, 4, 5) + 10  # (B, C, H, W), no zeros
    masked = mask_width(x, lengths)
    for i, n in enumerate(lengths.tolist()):
        assert torch.equal(masked[i, :, :, :n], x[i, :, :, :n])
        assert not masked[i, :, :, n:].any()
    seq = torch.randn(3, 5, 6) + 10  # (B, T, C)
    masked_seq = mask_steps(seq, lengths)
    for i, n in enumerate(lengths.tolist()):
        assert torch.equal(masked_seq[i, :n], seq[i, :n])
        assert not masked_seq[i, n:].any()


@pytest.mark.parametrize(("kernel", "stride", "padding"), [(3, 1, 1), (3, 2, 1), (2, 2, 0), (1, 2, 0), (5, 3, 2)])
def test_conv_length_matches_torch(kernel: int, stride: int, padding: int) -> None:
    conv = torch.nn.Conv1d(1, 1, kernel, stride, padding)
    lengths = torch.arange(kernel, 30)
    expected = [conv(torch.zeros(1, 1, int(n))).shape[-1] for n in lengths]
    assert conv_length(lengths, kernel, stride, padding).tolist() == expected


# ------------------------------------------------------------------------------------------ batching


def test_width_bucket_sampler_covers_every_index_once_per_epoch() -> None:
    rng = random.Random(3)
    widths = [rng.randint(20, 800) for _ in range(103)]
    sampler = WidthBucketSampler(widths, batch_size=8, shuffle=True, seed=1)
    epochs = [list(sampler) for _ in range(3)]
    for batches in epochs:
        assert len(batches) == len(sampler) == 13
        assert sorted(i for batch in batches for i in batch) == list(range(103))
        assert all(1 <= len(batch) <= 8 for batch in batches)
        # similar widths share a batch: the mean spread within a batch is a small part of the whole range
        spread = np.mean([max(widths[i] for i in b) - min(widths[i] for i in b) for b in batches])
        assert spread < 0.2 * (max(widths) - min(widths))
    assert epochs[0] != epochs[1]  # a new order every epoch
    assert list(WidthBucketSampler(widths, 8, shuffle=True, seed=1)) == epochs[0]  # reproducible from the seed


def test_width_bucket_sampler_without_shuffle_is_sorted() -> None:
    widths = [50, 10, 40, 20, 30]
    batches = list(WidthBucketSampler(widths, batch_size=2, shuffle=False))
    assert batches == [[1, 3], [4, 2], [0]]


@pytest.mark.parametrize(("multiple", "padded"), [(None, 32), (16, 32), (1, 19), (4, 20)])
def test_pad_batch(multiple: int | None, padded: int) -> None:
    arrays = [np.full((8, w), v, dtype=np.float32) for w, v in [(5, 0.2), (19, 0.5), (3, 1.0)]]
    images, widths = pad_batch(arrays) if multiple is None else pad_batch(arrays, multiple=multiple)
    assert images.shape == (3, 1, 8, padded)  # the widest line, rounded up to the multiple (default 16)
    assert images.dtype == torch.float32
    assert widths.tolist() == [5, 19, 3]  # true widths, not the padded one
    for i, a in enumerate(arrays):
        w = a.shape[1]
        assert torch.equal(images[i, 0, :, :w], torch.from_numpy(a))
        assert not images[i, :, :, w:].any()  # zero padding is blank paper


# ------------------------------------------------------------------------------------- normalisation


def line_image(paper: int, ink: int, size: tuple[int, int] = (100, 32)) -> Image.Image:
    img = Image.new("L", size, paper)
    ImageDraw.Draw(img).rectangle((20, 8, 79, 23), fill=ink)  # a stroke covering 30% of the line
    return img


@pytest.mark.parametrize(("paper", "ink"), [(255, 0), (200, 100), (230, 40)])
def test_normalise_maps_paper_to_zero_and_ink_to_one(paper: int, ink: int) -> None:
    out = normalise(line_image(paper, ink))
    assert out.shape == (32, 100)
    assert out.dtype == np.float32
    stroke = np.zeros_like(out, dtype=bool)
    stroke[8:24, 20:80] = True
    assert (out[~stroke] == 0).all()
    assert out[stroke] == pytest.approx(1.0, abs=0.01)
    assert out.min() >= 0 and out.max() <= 1


def test_normalise_does_not_amplify_faint_marks() -> None:
    assert not normalise(Image.new("L", (40, 16), 180)).any()  # blank paper stays blank
    faint = normalise(line_image(255, 250))  # 5 grey levels of ink: noise, not text
    assert 0 < faint.max() < 0.3


# --------------------------------------------------------------------------------------- checkpoints

ALPHABET = Alphabet("abc ")


def tiny_config(hidden: int = 8) -> ExperimentConfig:
    cfg = ExperimentConfig()
    cfg.model = ModelConfig(
        preset="test",
        height=16,
        encoder=EncoderConfig("small", channels=[4, 4, 4, 4], dropout=0.0),
        sequence=SequenceConfig("lstm", hidden=hidden, layers=1, dropout=0.0),
        head=HeadConfig("ctc"),
    )
    return cfg


def tiny_model(cfg: ExperimentConfig) -> SeqModel:
    torch.manual_seed(0)
    return build_model(cfg.model, len(ALPHABET)).eval()


def save_tiny(path: Path, hidden: int = 8, **extra: object) -> tuple[Path, SeqModel]:
    cfg = tiny_config(hidden)
    model = tiny_model(cfg)
    params = sum(p.numel() for p in model.parameters())
    return save_model(path, model, {**model_metadata(cfg, ALPHABET, params), **extra}), model


def test_save_model_and_load_state_round_trip(tmp_path: Path) -> None:
    path, model = save_tiny(tmp_path / "tiny", metrics={"val_cer": 0.5})
    assert path == tmp_path / "tiny.safetensors"
    tensors, meta, loaded_from = load_state(path)
    assert loaded_from == path
    state = model.state_dict()
    assert tensors.keys() == state.keys()
    assert all(torch.equal(tensors[k], state[k]) for k in state)
    assert meta["format"] == "seqvision-model"
    assert meta["alphabet"] == ALPHABET.chars
    assert meta["architecture"] == to_dict(tiny_config().model)
    assert meta["input"]["height"] == 16
    assert meta["metrics"] == {"val_cer": 0.5}
    assert json.loads(path.with_suffix(".json").read_text(encoding="utf-8")) == meta  # the readable copy


def test_recognizer_load_reads_like_the_saved_model(tmp_path: Path) -> None:
    path, model = save_tiny(tmp_path / "run" / "model")
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 256, (20, w), dtype=np.uint8)) for w in (90, 31, 140, 60)]

    for where in (path, path.with_suffix(".json"), path.parent, tmp_path / "run" / "model"):
        rec = Recognizer.load(where)
        assert rec.path == path and rec.height == 16 and rec.alphabet.chars == ALPHABET.chars
        assert not rec.model.training
        for key, value in model.state_dict().items():
            assert torch.equal(rec.model.state_dict()[key], value)

    results = rec.read(images, batch_size=3)  # width-sorted batches, answers in input order
    assert len(results) == len(images)
    for img, result in zip(images, results, strict=True):
        images_t, widths = pad_batch([rec.prepare(img)])
        with torch.no_grad():
            log_probs, lengths = model(images_t, widths)
        alone = greedy_decode(log_probs[0].numpy(), int(lengths[0]), ALPHABET)
        assert result.text == alone.text
        assert result.confidence == pytest.approx(alone.confidence, abs=1e-5)


def test_missing_model_raises_naming_it(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no such model") as info:
        load_state(tmp_path / "nope.safetensors")
    assert str(tmp_path / "nope.safetensors") in str(info.value)


@pytest.mark.parametrize("keep", [0, 4, 100, 0.5, -1])
def test_truncated_file_raises_naming_it(tmp_path: Path, keep: float) -> None:
    path, _ = save_tiny(tmp_path / "model")
    data = path.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else keep % len(data)
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(data[:n])
    with pytest.raises(CheckpointError, match="truncated or not a safetensors file") as info:
        load_state(broken)
    assert str(broken) in str(info.value)
    with pytest.raises(CheckpointError, match=re.escape(str(broken))):
        Recognizer.load(broken)


def test_safetensors_without_seqvision_metadata_raises_naming_it(tmp_path: Path) -> None:
    plain = tmp_path / "plain.safetensors"
    save_file({"weight": torch.zeros(2, 3)}, str(plain))
    other = tmp_path / "other.safetensors"
    save_file({"weight": torch.zeros(2, 3)}, str(other), metadata={"seqvision": json.dumps({"format": "other"})})
    for path in (plain, other):
        with pytest.raises(CheckpointError, match="not a seqvision model") as info:
            load_state(path)
        assert str(path) in str(info.value)


@pytest.mark.parametrize("content", [b"", b"hello, not a model\n", b"\x89PNG\r\n\x1a\n" + bytes(64), b'{"a": 1}'])
def test_non_safetensors_file_raises_naming_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as info:
        load_state(path)
    assert str(path) in str(info.value)


def test_newer_format_version_raises_naming_it(tmp_path: Path) -> None:
    path, _ = save_tiny(tmp_path / "future", format_version=99)
    with pytest.raises(CheckpointError, match="newer seqvision") as info:
        load_state(path)
    assert str(path) in str(info.value)


def test_metadata_that_does_not_fit_the_weights_raises_naming_it(tmp_path: Path) -> None:
    path, _ = save_tiny(tmp_path / "model")
    tensors, meta, _ = load_state(path)
    meta["architecture"]["sequence"]["hidden"] = 16  # claims another width than the weights have
    mismatched = tmp_path / "mismatched.safetensors"
    save_file(tensors, str(mismatched), metadata={"seqvision": json.dumps(meta)})
    with pytest.raises(CheckpointError, match="do not fit") as info:
        Recognizer.load(mismatched)
    assert str(mismatched) in str(info.value)
