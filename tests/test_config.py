"""Typed dataclass configs: defaults, dotted overrides, YAML round trips, and errors that name the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqvision.config import (
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    SequenceConfig,
    TrainConfig,
    apply_overrides,
    from_dict,
    load_yaml,
    save_yaml,
    to_dict,
)
from seqvision.errors import ConfigError
from seqvision.nn.presets import DEFAULT_PRESET, get_preset


def test_defaults() -> None:
    cfg = ExperimentConfig()
    assert cfg.model == ModelConfig()
    assert cfg.model == get_preset(DEFAULT_PRESET)  # the bare config is the default preset
    assert cfg.model.preset == DEFAULT_PRESET
    assert (cfg.model.encoder.name, cfg.model.sequence.name, cfg.model.head.name) == ("small", "lstm", "ctc")
    assert cfg.model.encoder.channels == []
    assert cfg.model.sequence.bidirectional is True
    assert cfg.data == DataConfig()
    assert cfg.train == TrainConfig()
    assert isinstance(cfg.train.lr, float) and cfg.train.lr > 0
    assert cfg.data.batch_size > 0 and cfg.train.epochs > 0


def test_defaults_are_not_shared_between_instances() -> None:
    a, b = ExperimentConfig(), ExperimentConfig()
    a.model.encoder.channels.append(8)
    a.model.sequence.hidden = 7
    assert b.model.encoder.channels == []
    assert b.model.sequence.hidden == SequenceConfig().hidden


@pytest.mark.parametrize(
    ("override", "attribute", "expected"),
    [
        ("model.sequence.name=gru", "model.sequence.name", "gru"),
        ("model.preset=crnn-vgg", "model.preset", "crnn-vgg"),
        ("data.train=123", "data.train", "123"),  # a number where a string is expected stays text
        ("data.train=", "data.train", ""),
        ("data.train=a=b", "data.train", "a=b"),  # only the first '=' splits
        ("model.sequence.hidden=64", "model.sequence.hidden", 64),
        ("train.lr=0.01", "train.lr", 0.01),
        ("train.lr=3e-4", "train.lr", 3e-4),  # YAML 1.1 reads this as a string
        ("train.lr=1", "train.lr", 1.0),  # an int where a float is expected
        ("data.augment=false", "data.augment", False),
        ("data.augment=true", "data.augment", True),
        ("model.sequence.bidirectional=no", "model.sequence.bidirectional", False),
        ("model.encoder.channels=[8, 16, 24]", "model.encoder.channels", [8, 16, 24]),
        ("model.encoder.channels=16", "model.encoder.channels", [16]),  # a scalar becomes a one-item list
        ("model.encoder.channels=[]", "model.encoder.channels", []),
        (" model.sequence.layers =3", "model.sequence.layers", 3),  # spaces around the key are ignored
    ],
)
def test_apply_overrides(override: str, attribute: str, expected: object) -> None:
    cfg = ExperimentConfig()
    apply_overrides(cfg, [override])
    value: object = cfg
    for part in attribute.split("."):
        value = getattr(value, part)
    assert value == expected
    assert type(value) is type(expected)


def test_apply_overrides_in_order_and_leaves_the_rest() -> None:
    cfg = ExperimentConfig()
    apply_overrides(cfg, ["model.sequence.hidden=64", "model.sequence.hidden=96", "train.seed=3"])
    assert cfg.model.sequence.hidden == 96
    assert cfg.train.seed == 3
    expected = ExperimentConfig()
    expected.model.sequence.hidden, expected.train.seed = 96, 3
    assert cfg == expected


@pytest.mark.parametrize(
    ("override", "key", "suggestion"),
    [
        ("model.sequence.hiden=3", "model.sequence.hiden", "hidden"),
        ("modle.height=32", "modle", "model"),
        ("train.learning_rat=0.1", "train.learning_rat", None),  # nothing close: the valid keys are listed
    ],
)
def test_unknown_key_names_it_and_suggests(override: str, key: str, suggestion: str | None) -> None:
    with pytest.raises(ConfigError) as info:
        apply_overrides(ExperimentConfig(), [override])
    message = str(info.value)
    assert repr(key) in message
    if suggestion:
        assert f"did you mean {suggestion!r}" in message
    else:
        assert "lr" in message and "weight_decay" in message


@pytest.mark.parametrize(
    "override",
    [
        "model.sequence.hidden=abc",
        "model.sequence.hidden=1.5",
        "model.sequence.hidden=true",  # a bool is not an int
        "model.sequence.hidden=[1, 2]",
        "train.lr=fast",
        "train.lr=true",
        "data.augment=3",
        "data.augment=maybe",
        "model.encoder.channels=[8, x]",
        "model.encoder.channels={a: 1}",
        "model.sequence.name=[gru]",
        "model.sequence=gru",  # a section is not a value
    ],
)
def test_wrong_type_raises(override: str) -> None:
    key = override.partition("=")[0]
    with pytest.raises(ConfigError, match=key):
        apply_overrides(ExperimentConfig(), [override])


@pytest.mark.parametrize("override", ["model.sequence.name", "=gru", "", "train.lr:0.1"])
def test_malformed_override_raises(override: str) -> None:
    with pytest.raises(ConfigError, match="key=value"):
        apply_overrides(ExperimentConfig(), [override])


def test_yaml_round_trip(tmp_path: Path) -> None:
    cfg = ExperimentConfig()
    apply_overrides(
        cfg,
        [
            "model.preset=crnn-res",
            "model.encoder.name=resnet",
            "model.encoder.channels=[8, 16, 32, 48]",
            "model.sequence.bidirectional=false",
            "train.lr=2.5e-4",
            "data.train=data/train.tsv",
        ],
    )
    path = tmp_path / "sub" / "config.yaml"
    save_yaml(cfg, path)
    data = load_yaml(path)
    assert data == to_dict(cfg)
    assert from_dict(ExperimentConfig, data) == cfg
    assert not list(path.parent.glob(".*.tmp"))  # the atomic write left no temporary file behind


def test_partial_yaml_keeps_defaults(tmp_path: Path) -> None:
    path = tmp_path / "partial.yaml"
    path.write_text("model:\n  sequence:\n    name: gru\ntrain:\n  lr: 1e-3\n", encoding="utf-8")
    cfg = from_dict(ExperimentConfig, load_yaml(path))
    expected = ExperimentConfig()
    expected.model.sequence.name, expected.train.lr = "gru", 1e-3
    assert cfg == expected


def test_empty_yaml_is_an_empty_mapping(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing set\n", encoding="utf-8")
    assert load_yaml(path) == {}
    assert from_dict(ExperimentConfig, load_yaml(path)) == ExperimentConfig()


def test_from_dict_rejects_unknown_and_wrong_typed_keys() -> None:
    with pytest.raises(ConfigError, match=r"'model\.sequence\.hiden'.*'hidden'"):
        from_dict(ExperimentConfig, {"model": {"sequence": {"hiden": 3}}})
    with pytest.raises(ConfigError, match=r"'train\.epochs'"):
        from_dict(ExperimentConfig, {"train": {"epochs": "many"}})
    with pytest.raises(ConfigError, match=r"'data'.*mapping"):
        from_dict(ExperimentConfig, {"data": ["a", "b"]})


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- a\n- b\n", "mapping"),
        ("just a string\n", "mapping"),
        ("42\n", "mapping"),
        ("model: [unclosed\n", "not valid YAML"),
        ("a: b: c\n", "not valid YAML"),
        ("model:\n  x: 1\n y: 2\n", "not valid YAML"),
        ("\tbad: tab\n", "not valid YAML"),
    ],
)
def test_unusable_yaml_raises_naming_the_file(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=problem) as info:
        load_yaml(path)
    assert str(path) in str(info.value)


def test_binary_file_raises_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "weights.yaml"
    path.write_bytes(b"\xff\xfe\x00\x81binary")
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    assert str(path) in str(info.value)


def test_missing_file_raises_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="not found") as info:
        load_yaml(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml")), ids=str)
def test_every_shipped_recipe_loads_and_builds(path: Path) -> None:
    """configs/*.yaml, read as ``train --config`` reads them: known keys, right types, a model that builds."""
    from seqvision.cli.commands import resolve_config
    from seqvision.cli.main import build_parser
    from seqvision.nn.model import build_model

    cfg = resolve_config(build_parser().parse_args(["train", "--config", str(path)]))
    if cfg.task == "text_lines":
        assert build_model(cfg.model, 10) is not None
