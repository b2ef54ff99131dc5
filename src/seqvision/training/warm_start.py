"""Start a training run from a saved model's weights (``--init MODEL``): fine-tuning and transfer.

The new model is built from the run's own config; every tensor of the saved model is copied into
the tensor of the same name, which must have the same shape. Output layers whose rows are classes
(a CTC head over an alphabet, a classifier over labels) may differ in size: the caller passes
``rows``, the saved row each new row starts from (``None``: a fresh row, kept as initialised).

The input height may differ too (a 32-px model started at 48 px): the convolutions do not depend on
it, and the layers that read the encoder's ``C x H'`` features (the first recurrent layer, or the
head when there is none) get their input columns resampled from the saved ``H'`` rows to the new
ones (:func:`resample_feature_rows`).

With ``partial`` (``train.init_partial``) the architectures may differ: every tensor whose name and
shape match is copied, the others keep their fresh initialisation, and saved tensors the new model
lacks are left out; both lists are recorded. That is how a leaner model starts from a larger one:
e.g. one recurrent layer instead of two keeps the encoder, the first layer and the head.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seqvision.checkpoint import load_state
from seqvision.errors import ConfigError


@dataclass
class BaseModel:
    """The weights and metadata of the model a run starts from."""

    tensors: dict[str, torch.Tensor]
    metadata: dict[str, Any]
    path: Path
    copied: int = 0
    remapped: list[str] = field(default_factory=list)
    resampled: list[str] = field(default_factory=list)
    fresh: list[str] = field(default_factory=list)  # this model's tensors kept as initialised (partial init)
    unused: list[str] = field(default_factory=list)  # saved tensors this model has no place for (partial init)

    def record(self) -> dict[str, Any]:
        """What a run's metadata says of the start beyond its source: resampled, fresh and unused tensors."""
        info: dict[str, Any] = {"resampled": self.resampled} if self.resampled else {}
        if self.fresh or self.unused:
            info |= {"fresh": self.fresh, "unused": self.unused}
        return info

    def describe(self) -> str:
        """One summary line: ``init: PATH (N tensors)`` and what differed."""
        text = f"init: {self.path} ({self.copied} tensors)"
        if self.resampled:
            text += f"; input height changed: {', '.join(self.resampled)} resampled"
        if self.fresh or self.unused:
            text += f"; partial, {partial_note(self.fresh, self.unused)}"
        return text


def load_base(name_or_path: str, task: str) -> BaseModel:
    """Read ``name_or_path`` (bundled name, file or run folder); it must be a ``task`` model."""
    tensors, meta, path = load_state(name_or_path)
    if meta.get("task", "text_lines") != task:
        raise ConfigError(f"--init {name_or_path}: a {meta.get('task')} model; this run trains {task}")
    return BaseModel(tensors, meta, path)


def carried_init(out: Path, resume: bool) -> dict[str, Any] | None:
    """On ``--resume`` with a checkpoint, the ``init`` record the run saved: its weights are in the checkpoint.

    The base model is then neither read nor copied (it may be gone by now). ``None`` when the run
    starts fresh, has no checkpoint yet, or its model.json (written after its first validation) is missing.
    """
    if not resume or not (out / "checkpoints" / "last.ckpt").exists():
        return None
    try:
        saved = json.loads((out / "model.json").read_text(encoding="utf-8")).get("init")
    except (OSError, ValueError):
        return None
    return saved if isinstance(saved, dict) else None


def merge_classes(base: list[str], data: list[str], mode: str) -> tuple[list[str], list[int | None]]:
    """The run's classes and, per class, the base row it starts from (shifted by the caller for blanks).

    ``union``: the base classes, then the data's new ones; ``keep``: the base classes only (the data's
    others are dropped); ``new``: the data's classes, those the base knows start from its rows.
    """
    if mode == "keep":
        merged = list(base)
    elif mode == "union":
        known = set(base)
        merged = list(base) + [c for c in data if c not in known]
    elif mode == "new":
        merged = list(data)
    else:
        raise ConfigError(f"train.alphabet must be union, new or keep, not {mode!r}")
    where = {c: i for i, c in enumerate(base)}
    return merged, [where.get(c) for c in merged]


def resample_feature_rows(weight: torch.Tensor, channels: int, rows: int) -> torch.Tensor:
    """``weight`` (out, C*H_old, ...) over flattened ``(C, H')`` encoder features, resampled to ``rows`` rows.

    Linear interpolation between the saved rows, scaled by ``H_old / rows`` so that a feature map whose
    rows are alike gives the same pre-activation as before.
    """
    old = weight.shape[1] // channels
    grid = weight.reshape(weight.shape[0], channels, old, -1).permute(0, 1, 3, 2)  # (out, C, rest, H_old)
    flat = grid.reshape(-1, 1, old)
    if old > 1:
        resized = torch.nn.functional.interpolate(flat, size=rows, mode="linear", align_corners=True)
    else:
        resized = flat.expand(-1, -1, rows)
    resized = resized.reshape(*grid.shape[:3], rows).permute(0, 1, 3, 2) * (old / rows)
    return resized.reshape(weight.shape[0], channels * rows, *weight.shape[2:])


def _feature_layout(model: nn.Module, base: BaseModel) -> tuple[int, int] | None:
    """(C, H') of ``model``'s encoder output when ``base`` was trained at another input height, else ``None``."""
    encoder = getattr(model, "encoder", None)
    saved = base.metadata.get("architecture", {}).get("height")
    if encoder is None or not hasattr(encoder, "out_height") or saved in (None, getattr(encoder, "height", None)):
        return None
    return encoder.out_channels // encoder.out_height, encoder.out_height


def parts(names: list[str]) -> str:
    """Tensor names as the layers they belong to, once each, e.g. ``sequence.rnn layer 1, head.proj``."""
    layers = []
    for name in names:
        layer, _, tensor = name.rpartition(".")
        index = re.search(r"_l(\d+)", tensor)  # torch's LSTM/GRU name their tensors per layer: weight_ih_l1
        layers.append(f"{layer} layer {index.group(1)}" if index else layer)
    return ", ".join(dict.fromkeys(layers)) or "none"


def partial_note(fresh: list[str], unused: list[str]) -> str:
    """How a partial start is reported, from a :class:`BaseModel` or from a run's saved ``init`` record."""
    return f"{len(fresh)} tensors start fresh ({parts(fresh)}), {len(unused)} of the base's unused ({parts(unused)})"


def warm_start(
    model: nn.Module, base: BaseModel, rows: dict[str, list[int | None]] | None = None, partial: bool = False
) -> BaseModel:
    """Copy ``base``'s tensors into ``model``; ``rows[name]`` maps each new row of a class layer to a saved one.

    Raises :class:`ConfigError` naming the first part whose shape differs, so a user knows which
    model setting to change, unless ``partial``: then what differs stays fresh (see the module doc).
    """
    rows = rows or {}
    own = model.state_dict()
    missing = sorted(set(own) - set(base.tensors))
    extra = sorted(set(base.tensors) - set(own))
    if partial:
        base.fresh, base.unused = [n for n in own if n in missing], [n for n in base.tensors if n in extra]
    elif missing or extra:
        part = (missing or extra)[0]
        where = "this run's model has no" if extra else f"{base.path.name} has no"
        raise ConfigError(
            f"--init {base.path}: the architectures differ ({where} {part}); "
            "use the model settings the saved model was trained with"
        )
    layout = _feature_layout(model, base)
    with torch.no_grad():
        for name, target in own.items():
            if name in missing:
                continue
            source = base.tensors[name].to(target.dtype)
            if layout and source.shape != target.shape and _reads_features(source, target, *layout):
                source = resample_feature_rows(source, layout[0], layout[1])
                base.resampled.append(name)
            fits = source.shape[1:] == target.shape[1:] if name in rows else source.shape == target.shape
            if partial and not fits:  # another shape: the new layer starts fresh, the saved one goes unused
                base.fresh.append(name)
                base.unused.append(name)
                continue
            if name in rows:
                for new, old in enumerate(rows[name]):
                    if old is not None:
                        target[new].copy_(source[old])
                base.remapped.append(name)
            elif source.shape != target.shape:
                raise ConfigError(
                    f"--init {base.path}: {name} is {tuple(source.shape)} there and {tuple(target.shape)} here; "
                    "use the model settings the saved model was trained with"
                )
            else:
                target.copy_(source)
            base.copied += 1
    return base


def _reads_features(source: torch.Tensor, target: torch.Tensor, channels: int, rows: int) -> bool:
    """Whether ``target`` reads the encoder's flattened features and ``source`` is that layer at another height."""
    return (
        source.dim() >= 2
        and source.shape[0] == target.shape[0]
        and source.shape[2:] == target.shape[2:]
        and target.shape[1] == channels * rows
        and source.shape[1] % channels == 0
    )
