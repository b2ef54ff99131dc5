"""Model contracts, parametrized over the registries: every preset and every encoder x sequence model.

For each model: output shapes and lengths as the encoder declares them, finite log-probabilities,
a padded batch gives the same output as each line alone (even with noise in the padding), every
parameter gets a gradient from a CTC loss, and the ONNX export matches eager mode on a batch of
another size and width than the one it was traced with. Each encoder gets the input it reads:
line images for the image CNNs, one-hot DNA/RNA (4 channels, 1 high) for ``onehot-cnn1d``.
Spatial sequence models (``SPATIAL_SEQUENCES``, ``(B, T, C, H, W)`` maps: ConvLSTM) and the frames
presets built on them have their own contract below: shapes, no NaN, every parameter gets a
gradient, any number of steps, state carried over.
"""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from seqvision.config import EncoderConfig, HeadConfig, ModelConfig, SequenceConfig
from seqvision.errors import ConfigError
from seqvision.export.onnx import to_onnx
from seqvision.nn.encoders import SEQUENCE_ENCODERS
from seqvision.nn.model import SeqModel, build_model
from seqvision.nn.presets import get_preset
from seqvision.registry import ENCODERS, PRESETS, SEQUENCES, SPATIAL_SEQUENCES
from seqvision.tasks.forecast.model import build_forecaster

NUM_CLASSES = 11
WIDTHS = [45, 70, 29]  # one batch of lines of different widths (pixels)
EXTRA_PAD = 13  # the batch is padded beyond its widest line, as a fixed-width consumer would do
DEFAULT_ENCODER = EncoderConfig().name

# Tiny channel widths per encoder, one entry per width its builder reads (vgg's defaults reach 512).
SMALL_CHANNELS = {
    "small": [8, 8, 12, 16],  # stem, then three stages
    "vgg": [8, 8, 12, 12, 16],  # five stages
    "resnet": [8, 8, 12, 16],  # stem = first block, then three more blocks
    "mobile": [8, 8, 12, 12, 16],  # stem, then four separable blocks
    "laia": [4, 8, 8, 12, 16],  # five conv blocks
    "onehot-cnn1d": [12],  # motif filters
}
# (height, channels) of each encoder's input: line images, or one-hot sequences (4 x 1 x L)
INPUT_SHAPE = {name: (1, 4) if name in SEQUENCE_ENCODERS else (32, 1) for name in ENCODERS.names()}


def small_config(encoder: str, sequence: str, head: str = "ctc", pooling: str = "mean") -> ModelConfig:
    height, channels = INPUT_SHAPE.get(encoder, (32, 1))
    return ModelConfig(
        preset="test",
        input="sequence" if encoder in SEQUENCE_ENCODERS else "line",
        height=height,
        in_channels=channels,
        encoder=EncoderConfig(encoder, channels=SMALL_CHANNELS.get(encoder, []), dropout=0.1, kernel=7, pool=3),
        sequence=SequenceConfig(sequence, hidden=32, layers=2, dropout=0.1, heads=4),
        head=HeadConfig(head, pooling),
    )


# CTC line presets; clip presets: test_video_models.py; classify line presets (digits): test_compare.py
LINE_PRESETS = [name for name in PRESETS if get_preset(name).input == "line" and get_preset(name).head.name == "ctc"]
MODEL_KEYS = [f"preset:{name}" for name in LINE_PRESETS] + [
    f"combo:{enc}+{seq}" for enc, seq in itertools.product(ENCODERS.names(), SEQUENCES.names())
]


def model_config(key: str) -> ModelConfig:
    kind, _, name = key.partition(":")
    if kind == "preset":
        return get_preset(name)
    encoder, sequence = name.split("+")
    return small_config(encoder, sequence)


def build(cfg: ModelConfig, seed: int = 0) -> SeqModel:
    torch.manual_seed(seed)
    return build_model(cfg, NUM_CLASSES)


def line_batch(
    height: int, widths: list[int], pad_to: int | None = None, seed: int = 0, channels: int = 1
) -> tuple[Tensor, Tensor]:
    """``(B, C, H, W)`` random ink, padded on the right with large noise the model must never read.

    With ``channels=4, height=1`` it is a batch of one-hot sequences (random bases, some N) instead.
    """
    gen = torch.Generator().manual_seed(seed)
    width = pad_to or max(widths)
    images = torch.rand(len(widths), channels, height, width, generator=gen) * 8 - 4  # the padding: noise in [-4, 4)
    for i, w in enumerate(widths):
        if channels == 4 and height == 1:  # one-hot bases, every fifth one N (0.25 each)
            bases = F.one_hot(torch.randint(0, 4, (w,), generator=gen), 4).T.float()  # (L,) -> (4, L)
            bases[:, ::5] = 0.25
            images[i, :, 0, :w] = bases
        else:
            images[i, :, :, :w] = torch.rand(channels, height, w, generator=gen)
    return images, torch.tensor(widths)


def batch_for(cfg: ModelConfig, widths: list[int], pad_to: int | None = None, seed: int = 0) -> tuple[Tensor, Tensor]:
    """The input this config's encoder reads: line images, or one-hot sequences for a sequence encoder."""
    return line_batch(cfg.height, widths, pad_to, seed, cfg.in_channels)


def ctc_targets(lengths: Tensor, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Random label strings short enough for every line (at most a third of its frames, at least 1)."""
    gen = torch.Generator().manual_seed(seed)
    target_lengths = (lengths // 3).clamp(1, 5)
    targets = torch.randint(1, NUM_CLASSES, (int(target_lengths.sum()),), generator=gen)
    return targets, target_lengths


def assert_all_gradients(model: torch.nn.Module, may_be_zero: tuple[str, ...] = ()) -> None:
    """Every parameter has a finite gradient that is not all zero (an all-zero one means a dead path)."""
    params = dict(model.named_parameters())
    assert params, "model has no parameters"
    missing = [n for n, p in params.items() if p.grad is None]
    assert not missing, f"no gradient reached: {missing}"
    bad = [n for n, p in params.items() if not torch.isfinite(p.grad).all()]
    assert not bad, f"non-finite gradient: {bad}"
    zero = [n for n, p in params.items() if not p.grad.any() and not n.endswith(may_be_zero)]
    assert not zero, f"all-zero gradient: {zero}"


def test_model_keys_cover_every_registry_entry() -> None:
    assert PRESETS.names() and ENCODERS.names() and SEQUENCES.names() and SPATIAL_SEQUENCES.names()
    assert len(MODEL_KEYS) == len(LINE_PRESETS) + len(ENCODERS.names()) * len(SEQUENCES.names())
    # every preset is checked somewhere: line CTC here, frames below, clip/image/classify/sequence
    # (danq-small: test_dna.py), page (seg-small: test_segment_task.py) in their own files
    inputs = {get_preset(name).input for name in PRESETS}
    assert inputs <= {"line", "clip", "image", "frames", "sequence", "page"}, inputs
    assert FRAME_PRESETS and "convlstm" in SPATIAL_SEQUENCES


@pytest.mark.parametrize("key", MODEL_KEYS)
def test_output_shapes_and_lengths(key: str) -> None:
    cfg = model_config(key)
    model = build(cfg).eval()
    images, widths = batch_for(cfg, WIDTHS)
    with torch.no_grad():
        log_probs, lengths = model(images, widths)
    expected = model.encoder.output_lengths(widths)
    assert torch.equal(lengths, expected)
    assert (lengths >= 1).all()
    assert log_probs.shape == (len(WIDTHS), int(expected.max()), NUM_CLASSES)
    assert log_probs.dtype == torch.float32
    assert torch.isfinite(log_probs).all()
    # each step is a log-probability distribution over the classes
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(log_probs.shape[:2]), atol=1e-4, rtol=0)


@pytest.mark.parametrize("key", MODEL_KEYS)
def test_declared_stride_and_channels(key: str) -> None:
    cfg = model_config(key)
    model = build(cfg).eval()
    encoder, sequence = model.encoder, model.sequence
    stride = encoder.time_stride
    assert isinstance(stride, int) and stride >= 1
    # widths that are multiples of the stride give exactly W / stride frames, others floor or ceil
    multiples = torch.tensor([8 * stride, 13 * stride, 21 * stride])
    assert torch.equal(encoder.output_lengths(multiples), multiples // stride)
    odd = torch.arange(8 * stride, 12 * stride)
    out = encoder.output_lengths(odd)
    assert ((out >= odd // stride) & (out <= -(-odd // stride))).all(), out.tolist()

    images, widths = batch_for(cfg, [13 * stride, 8 * stride])
    with torch.no_grad():
        feats, lengths = encoder(images, widths)
        assert feats.shape == (2, 13, encoder.out_channels)
        assert torch.equal(lengths, torch.tensor([13, 8]))
        assert sequence.in_channels == encoder.out_channels
        seq_out = sequence(feats, lengths)
    assert seq_out.shape == (2, 13, sequence.out_channels)


@pytest.mark.parametrize("key", MODEL_KEYS)
def test_padded_batch_matches_each_line_alone(key: str) -> None:
    cfg = model_config(key)
    model = build(cfg).eval()
    images, widths = batch_for(cfg, WIDTHS, pad_to=max(WIDTHS) + EXTRA_PAD)
    with torch.no_grad():
        batched, lengths = model(images, widths)
        assert batched.shape[1] == int(model.encoder.output_lengths(torch.tensor([images.shape[-1]])))
        for i, w in enumerate(WIDTHS):
            alone, alone_lengths = model(images[i : i + 1, :, :, :w], widths[i : i + 1])
            n = int(lengths[i])
            assert int(alone_lengths) == n == alone.shape[1]
            torch.testing.assert_close(batched[i, :n], alone[0], atol=1e-4, rtol=0, msg=f"line {i} (width {w})")


@pytest.mark.parametrize("key", MODEL_KEYS)
def test_every_parameter_gets_a_ctc_gradient(key: str) -> None:
    cfg = model_config(key)
    model = build(cfg).train()
    images, widths = batch_for(cfg, WIDTHS)
    log_probs, lengths = model(images, widths)
    targets, target_lengths = ctc_targets(lengths)
    loss = F.ctc_loss(log_probs.transpose(0, 1), targets, lengths, target_lengths, blank=0, zero_infinity=False)
    assert torch.isfinite(loss)
    loss.backward()
    assert_all_gradients(model)


@pytest.mark.parametrize("pooling", ["mean", "max", "last"])
@pytest.mark.parametrize("sequence", SEQUENCES.names())
def test_classify_head(sequence: str, pooling: str) -> None:
    cfg = small_config(DEFAULT_ENCODER, sequence, head="classify", pooling=pooling)
    model = build(cfg).eval()
    images, widths = batch_for(cfg, WIDTHS, pad_to=max(WIDTHS) + EXTRA_PAD)
    with torch.no_grad():
        logits, lengths = model(images, widths)
        assert logits.shape == (len(WIDTHS), NUM_CLASSES)
        assert torch.isfinite(logits).all()
        assert torch.equal(lengths, model.encoder.output_lengths(widths))
        for i, w in enumerate(WIDTHS):
            alone, _ = model(images[i : i + 1, :, :, :w], widths[i : i + 1])
            torch.testing.assert_close(logits[i], alone[0], atol=1e-4, rtol=0, msg=f"line {i} (width {w})")

    model.train()
    logits, _ = model(images, widths)
    F.cross_entropy(logits, torch.tensor([1, 2, 3])).backward()
    # "last" reads a bidirectional RNN's backward half after its first step, from a zero state: the top
    # layer's reverse recurrent weights get a gradient (not None) that is exactly zero.
    top_reverse = f"weight_hh_l{cfg.sequence.layers - 1}_reverse"
    assert_all_gradients(model, may_be_zero=(top_reverse,) if pooling == "last" else ())


@pytest.mark.parametrize(
    ("field", "value"),
    [("encoder.name", "nope"), ("sequence.name", "nope"), ("head.name", "nope"), ("head.pooling", "median")],
)
def test_bad_component_raises_config_error(field: str, value: str) -> None:
    cfg = small_config(DEFAULT_ENCODER, "none", head="classify")
    section, attr = field.split(".")
    setattr(getattr(cfg, section), attr, value)
    with pytest.raises(ConfigError, match=value):
        build_model(cfg, NUM_CLASSES)


def test_transformer_hidden_not_divisible_by_heads_raises_config_error() -> None:
    cfg = small_config(DEFAULT_ENCODER, "transformer")
    cfg.sequence.hidden, cfg.sequence.heads = 30, 4
    with pytest.raises(ConfigError, match="divisible"):
        build_model(cfg, NUM_CLASSES)


def test_height_too_small_raises_config_error() -> None:
    cfg = small_config(DEFAULT_ENCODER, "none")
    cfg.height = 4
    with pytest.raises(ConfigError, match="too small"):
        build_model(cfg, NUM_CLASSES)


# ---------------------------------------------------------------------------------------------- ONNX


def assert_onnx_parity(cfg: ModelConfig) -> None:
    """seqvision.export.onnx checks onnxruntime against eager on untraced widths; check it again here, independently."""
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = build(cfg).eval()
    session = ort.InferenceSession(to_onnx(model, cfg.height), providers=["CPUExecutionProvider"])
    images, widths = batch_for(cfg, [37, 101, 58], seed=2)  # batch 3: not the traced shape
    log_probs, lengths = session.run(None, {"images": images.numpy(), "widths": widths.numpy()})
    with torch.no_grad():
        expected, expected_lengths = model(images, widths)
    assert lengths.tolist() == expected_lengths.tolist()
    assert log_probs.shape == tuple(expected.shape)
    for i, n in enumerate(expected_lengths.tolist()):
        torch.testing.assert_close(torch.from_numpy(log_probs[i, :n]), expected[i, :n], atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", LINE_PRESETS)
def test_onnx_export_parity_preset(name: str) -> None:
    assert_onnx_parity(get_preset(name))


@pytest.mark.parametrize("sequence", SEQUENCES.names())
@pytest.mark.parametrize("encoder", ENCODERS.names())
def test_onnx_export_parity_every_encoder_and_sequence(encoder: str, sequence: str) -> None:
    assert_onnx_parity(small_config(encoder, sequence))


# ------------------------------------------------------------------------- spatial sequence models

FRAME_PRESETS = [name for name in PRESETS if get_preset(name).input == "frames"]


def spatial(name: str, in_channels: int, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    cfg = SequenceConfig(name, hidden=8, layers=2, spatial_kernel=3)
    return SPATIAL_SEQUENCES.get(name)(cfg, in_channels)


@pytest.mark.parametrize("name", SPATIAL_SEQUENCES.names())
def test_spatial_sequence_shapes_steps_and_state(name: str) -> None:
    model = spatial(name, 3).eval()
    x = torch.rand(2, 5, 3, 12, 10)  # (B, T, C, H, W), H != W
    with torch.no_grad():
        out, state = model(x)
        assert out.shape == (2, 5, model.out_channels, 12, 10)
        assert torch.isfinite(out).all()
        assert len(state) == model.layers and all(h.shape == (2, model.out_channels, 12, 10) for h, _ in state)
        # any number of steps, and the state carries on: 3 steps then 2 more == 5 steps at once
        first, mid = model(x[:, :3])
        rest, _ = model(x[:, 3:], mid)
        torch.testing.assert_close(torch.cat([first, rest], 1), out, atol=1e-5, rtol=0)
        one, _ = model(x[:, :1])
        assert one.shape[1] == 1
        # no input at all (the forecaster): a (B, T, 0, H, W) tensor only sets the number of steps
        empty = spatial(name, 0).eval()
        free, _ = empty(x.new_zeros(2, 4, 0, 12, 10), state)
        assert free.shape == (2, 4, empty.out_channels, 12, 10) and torch.isfinite(free).all()


@pytest.mark.parametrize("name", SPATIAL_SEQUENCES.names())
def test_spatial_sequence_every_parameter_gets_a_gradient(name: str) -> None:
    model = spatial(name, 3).train()
    out, _ = model(torch.rand(2, 4, 3, 8, 8))
    out.square().mean().backward()
    assert_all_gradients(model)


@pytest.mark.parametrize("name", FRAME_PRESETS)
def test_frame_presets_predict_frames(name: str) -> None:
    cfg = get_preset(name)
    cfg.height, cfg.sequence.hidden = 16, 8  # small, same structure
    torch.manual_seed(0)
    model = build_forecaster(cfg, frames_out=3)
    past = torch.rand(2, 4, cfg.in_channels, 16, 16)
    with torch.no_grad():
        # untrained, the model is persistence: the last frame repeated
        torch.testing.assert_close(model(past), past[:, -1:].expand(-1, 3, -1, -1, -1))
    torch.nn.init.normal_(model.head.weight, std=0.1)
    pred = model(past)
    assert pred.shape == (2, 3, cfg.in_channels, 16, 16) and torch.isfinite(pred).all()
    pred.square().mean().backward()
    assert_all_gradients(model)


def test_frames_model_checks_its_config() -> None:
    cfg = get_preset(FRAME_PRESETS[0])
    cfg.height = 30  # not a multiple of the 4 px patch
    with pytest.raises(ConfigError, match="multiple"):
        build_forecaster(cfg, 10)
    cfg = get_preset(FRAME_PRESETS[0])
    cfg.sequence.spatial_kernel = 4
    with pytest.raises(ConfigError, match="odd"):
        build_forecaster(cfg, 10)
    with pytest.raises(ConfigError, match="frames"):
        build_forecaster(get_preset("crnn-small"), 10)
