"""Text-line recognition task: CTC loss, greedy decoding, CER/WER; the Lightning side of a CRNN."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from seqvision.config import ExperimentConfig, TrainConfig, to_dict
from seqvision.data.alphabet import Alphabet
from seqvision.data.images import NORMALISATION
from seqvision.io import atomic_write_text
from seqvision.nn.model import SeqModel, build_model
from seqvision.registry import TASKS
from seqvision.tasks.base import Prepared, Task, TrainingModule, model_line, training_seconds
from seqvision.tasks.lines.decoding.ctc import greedy_decode
from seqvision.tasks.lines.metrics import ErrorRates
from seqvision.tasks.predictor import Predictor
from seqvision.training.distributed import sum_across_ranks

__all__ = ["TextLineTask", "TextLines", "model_metadata", "training_seconds"]


class TextLineTask(TrainingModule):
    """Wraps a :class:`SeqModel` with a CTC head; the model stays a plain ``nn.Module``."""

    def __init__(self, model: SeqModel, alphabet: Alphabet, train_cfg: TrainConfig, total_steps: int):
        super().__init__(model, train_cfg, total_steps)
        self.alphabet = alphabet
        pairs = alphabet.case_pairs()
        self.lower, self.upper = ([p[k] for p in pairs] for k in (0, 1))  # class indices, for caseless lines
        self.rates = ErrorRates()
        self.val_losses: list[float] = []

    def ctc_loss(self, batch: dict) -> tuple[Tensor, Tensor, Tensor]:
        log_probs, lengths = self.model(batch["images"], batch["widths"])  # (B, T, K)
        log_probs = log_probs.float()  # CTC in fp32 also under bf16 autocast
        caseless = batch.get("caseless")
        scored = log_probs
        if caseless is not None and bool(caseless.any()) and self.upper:
            scored = torch.where(caseless[:, None, None], fold_case(log_probs, self.lower, self.upper), log_probs)
        loss = F.ctc_loss(
            scored.transpose(0, 1),  # (T, B, K) as CTC wants
            batch["targets"],
            lengths,
            batch["target_lengths"],
            blank=Alphabet.BLANK,
            reduction="mean",
            zero_infinity=True,
        )
        return loss, log_probs, lengths

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        self._schedule()
        loss, _, _ = self.ctc_loss(batch)
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(batch["texts"]))
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        loss, log_probs, lengths = self.ctc_loss(batch)
        self.val_losses.append(float(loss))
        lp = log_probs.float().cpu().numpy()
        caseless = batch.get("caseless", [False] * len(batch["texts"]))
        for i, reference in enumerate(batch["texts"]):
            text = greedy_decode(lp[i], int(lengths[i]), self.alphabet).text
            if caseless[i]:
                text, reference = self.alphabet.fold_case(text), self.alphabet.fold_case(reference)
            self.rates.update(text, reference)

    def on_validation_epoch_end(self) -> None:
        # edit and length counts summed over data-parallel ranks first: the CER of the whole val set on every rank
        r = self.rates
        counts = [r.char_edits, r.chars, r.word_edits, r.words, r.lines, sum(self.val_losses), len(self.val_losses)]
        *totals, loss_sum, batches = sum_across_ranks(self, counts)
        rates = ErrorRates(*(int(t) for t in totals))
        if rates.lines:
            self.log("val_cer", rates.cer, prog_bar=True)
            self.log("val_wer", rates.wer, prog_bar=True)
            self.log("val_loss", loss_sum / max(batches, 1))
        self.rates, self.val_losses = ErrorRates(), []


def fold_case(log_probs: Tensor, lower: list[int], upper: list[int]) -> Tensor:
    """Log-probabilities where each upper-case class also holds its lower-case partner's mass.

    CTC against a case-folded target then counts a frame that reads ``a`` or ``A`` alike, so lines
    whose labels lost their case (``caseless:`` inputs) teach shapes without teaching capitals. The
    lower-case columns are left as they are: no path of an upper-case target passes through them.
    """
    folded = log_probs.clone()
    folded[..., upper] = torch.logaddexp(log_probs[..., upper], log_probs[..., lower])
    return folded


def model_metadata(cfg: ExperimentConfig, alphabet: Alphabet, params: int) -> dict[str, Any]:
    return {
        "task": "text_lines",
        "architecture": to_dict(cfg.model),
        "config": to_dict(cfg),
        "alphabet": alphabet.chars,
        "input": {"height": cfg.model.height, "channels": cfg.model.in_channels, "normalisation": NORMALISATION},
        "parameters": params,
    }


@TASKS.register("text_lines")
class TextLines(Task):
    """Text lines -> characters (CTC): line images with transcriptions, CER/WER."""

    name = "text_lines"
    title = "text-line"
    reads_pages = True  # `read --page XML`: a page holds text lines

    def add_parsers(self, sub: Any, after: str) -> None:
        from seqvision.tasks.lines.parsers import add_parsers

        add_parsers(sub, after)

    @property
    def predictor(self) -> type[Predictor]:
        from seqvision.tasks.lines.predictor import Recognizer

        return Recognizer

    def read(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int:
        from seqvision.tasks.lines.reading import read

        return read(args, model, inputs)

    def evaluate(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int:
        from seqvision.tasks.lines.cli import evaluate

        return evaluate(args, model, inputs)

    def export(self, args: argparse.Namespace, model: str, out: Path) -> int:
        from seqvision.export.onnx import OPSET, ExportError, save_export, to_onnx
        from seqvision.tasks.lines.predictor import Recognizer

        start = time.perf_counter()
        rec = Recognizer.load(model)
        if rec.model is None:
            raise ExportError(f"{model}: already an ONNX model")
        metadata = {**rec.metadata, "onnx": {"opset": OPSET, "int8": args.int8, "inputs": ["images", "widths"]}}
        return save_export(to_onnx(rec.model, rec.height, metadata), out, metadata, args.int8, start)

    default_preset = "crnn-small"
    monitor, mode = "val_cer", "min"
    metric_names = ("val_cer", "val_wer")
    model_head = "ctc"

    def prepare(self, cfg: ExperimentConfig, out: Path, resume: bool, log: Path | None) -> Prepared:
        from seqvision.data.loaders import make_loaders, read_split
        from seqvision.tasks.lines.shard_stream import shard_loaders
        from seqvision.tasks.lines.shards import ShardIndex, is_shards

        self.check_model(cfg)
        alphabet_file = out / "alphabet.json"
        saved = json.loads(alphabet_file.read_text(encoding="utf-8")) if resume and alphabet_file.exists() else None
        if isinstance(cfg.data.train, str) and is_shards(cfg.data.train):  # streamed: alphabet from the shard index
            alphabet = Alphabet(saved if saved is not None else ShardIndex.load(cfg.data.train).characters)
            model, alphabet, started = self.init_model(cfg, alphabet, saved is not None, out)
            loaders = shard_loaders(cfg.data, alphabet, model, cfg.model.height, cfg.train.seed)
        else:
            train_samples, val_samples = read_split(cfg.data, cfg.train.seed, log)
            alphabet = Alphabet(saved) if saved is not None else Alphabet.from_texts(s.text for s in train_samples)
            model, alphabet, started = self.init_model(cfg, alphabet, saved is not None, out)
            loaders = make_loaders(
                train_samples, val_samples, alphabet, model, cfg.model.height, cfg.data, cfg.train.seed, log
            )
        atomic_write_text(alphabet_file, json.dumps(alphabet.chars, ensure_ascii=False))
        params = sum(p.numel() for p in model.parameters())
        summary = (
            f"{model_line(cfg, params)}, {len(alphabet) - 1} characters, "
            f"{loaders.train_lines} train / {loaders.val_lines} val lines -> {out}"
        )
        metadata = model_metadata(cfg, alphabet, params)
        if started:
            metadata["init"] = started
            summary += (
                f"\ninit: {started['from']} ({started['tensors']} tensors); alphabet {started['alphabet']}: "
                f"{started['characters']} characters, {started['from_base']} from the base, {started['new']} new, "
                f"{started['dropped']} of the data's dropped"
            )
        module = TextLineTask(model, alphabet, cfg.train, total_steps=cfg.train.epochs * len(loaders.train))
        counts = {"train_lines": loaders.train_lines, "val_lines": loaders.val_lines}
        return Prepared(model, module, loaders.train, loaders.val, metadata, counts, summary)

    def init_model(
        self, cfg: ExperimentConfig, alphabet: Alphabet, resumed: bool, out: Path
    ) -> tuple[SeqModel, Alphabet, dict[str, Any]]:
        """The model to train, from ``train.init``'s weights when set; its alphabet merged by ``train.alphabet``.

        A resumed run keeps its saved alphabet, and with a checkpoint (which holds the weights) also its
        saved ``init`` record, without reading the base model again.
        """
        if not cfg.train.init:
            return build_model(cfg.model, len(alphabet)), alphabet, {}
        from seqvision.training.warm_start import carried_init, load_base, merge_classes, warm_start

        carried = carried_init(out, resumed)
        if carried:
            return build_model(cfg.model, len(alphabet)), alphabet, carried

        base = load_base(cfg.train.init, self.name)
        base_chars = list(base.metadata.get("alphabet", []))
        if resumed:
            chars, rows = alphabet.chars, merge_classes(base_chars, alphabet.chars, "new")[1]
        else:
            chars, rows = merge_classes(base_chars, alphabet.chars, cfg.train.alphabet)
        model = build_model(cfg.model, len(chars) + 1)
        head_rows = [Alphabet.BLANK, *(None if r is None else r + 1 for r in rows)]  # row 0 is the blank
        warm_start(model, base, {"head.proj.weight": head_rows, "head.proj.bias": head_rows})
        new = sum(r is None for r in rows)
        dropped = len(set(alphabet.chars) - set(chars))
        info = {"from": str(base.path), "tensors": base.copied, "alphabet": cfg.train.alphabet}
        info |= {"characters": len(chars), "from_base": len(chars) - new, "new": new, "dropped": dropped}
        return model, Alphabet(chars), info

    def describe(self, metrics: dict[str, float]) -> str:
        return f"val CER {metrics.get('val_cer', float('nan')):.4f}, WER {metrics.get('val_wer', float('nan')):.4f}"
