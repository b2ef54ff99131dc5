"""Text-line recognition task: what ``seqvision`` registers (verbs, metrics) and how a run is prepared.

Importing this module is light (no torch, no Lightning): ``--help`` and ``read --backend onnx`` register the
task without them. The Lightning module (CTC loss, CER/WER) is in :mod:`seqvision.tasks.lines.module`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqvision.data.alphabet import Alphabet
from seqvision.io import atomic_write_text
from seqvision.registry import TASKS
from seqvision.tasks.base import Prepared, Task, model_line, saved_metadata

if TYPE_CHECKING:
    from seqvision.config import ExperimentConfig
    from seqvision.nn.model import SeqModel
    from seqvision.tasks.predictor import Predictor

__all__ = ["TextLines", "model_metadata"]


def model_metadata(cfg: ExperimentConfig, alphabet: Alphabet, params: int) -> dict[str, Any]:
    from seqvision.data.images import NORMALISATION

    return saved_metadata(
        "text_lines",
        cfg,
        params,
        alphabet=alphabet.chars,
        input={"height": cfg.model.height, "channels": cfg.model.in_channels, "normalisation": NORMALISATION},
    )


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

    def read_pages(self, args: argparse.Namespace, model: str | None, pages: list[Path], layout: Any) -> int:
        from seqvision.tasks.lines.page_images import read_page_images

        return read_page_images(args, model, pages, layout)

    def page_reader(self, recognizers: dict[str, Any], layout: Any, batch_size: int = 16) -> Any:
        from seqvision.tasks.lines.page_images import PageReader

        return PageReader(recognizers, layout, batch_size)

    def cli_page_reader(self, args: argparse.Namespace, model: str | None, layout: Any) -> Any:
        from seqvision.tasks.lines.page_images import PageReader

        return PageReader.from_args(args, model, layout)

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
        from seqvision.tasks.lines.module import TextLineTask
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
            if "height" in started:
                moved = started["height"]
                summary += (
                    f"\ninit: input height {moved['from']} -> {moved['to']} px: "
                    f"{', '.join(moved['resampled'])} resampled to the new feature rows"
                )
            if "fresh" in started:
                from seqvision.training.warm_start import partial_note

                summary += f"\ninit: partial, {partial_note(started['fresh'], started['unused'])}"
        teacher = None
        if cfg.train.teacher:
            from seqvision.tasks.lines.distill import Teacher

            teacher = Teacher.load(cfg.train.teacher)
            teacher.check(model, alphabet, cfg.model.height)
            metadata["teacher"] = {"from": teacher.name, "weight": cfg.train.distill}
            summary += f"\nteacher: {teacher.name} (frame-wise distillation, weight {cfg.train.distill:g}"
            if cfg.train.distill_features > 0:
                teacher.check_features(model)
                metadata["teacher"]["features"] = cfg.train.distill_features
                summary += f", encoder features weight {cfg.train.distill_features:g}"
            summary += ")"
        steps = cfg.train.epochs * len(loaders.train)
        module = TextLineTask(model, alphabet, cfg.train, total_steps=steps, teacher=teacher)
        counts = {"train_lines": loaders.train_lines, "val_lines": loaders.val_lines}
        return Prepared(model, module, loaders.train, loaders.val, metadata, counts, summary)

    def init_model(
        self, cfg: ExperimentConfig, alphabet: Alphabet, resumed: bool, out: Path
    ) -> tuple[SeqModel, Alphabet, dict[str, Any]]:
        """The model to train, from ``train.init``'s weights when set; its alphabet merged by ``train.alphabet``.

        A resumed run keeps its saved alphabet, and with a checkpoint (which holds the weights) also its
        saved ``init`` record, without reading the base model again.
        """
        from seqvision.nn.model import build_model

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
        head = {"head.proj.weight": head_rows, "head.proj.bias": head_rows}
        warm_start(model, base, head, partial=cfg.train.init_partial)
        new = sum(r is None for r in rows)
        dropped = len(set(alphabet.chars) - set(chars))
        info = {"from": str(base.path), "tensors": base.copied, "alphabet": cfg.train.alphabet}
        info |= {"characters": len(chars), "from_base": len(chars) - new, "new": new, "dropped": dropped}
        if base.resampled:
            saved = base.metadata["architecture"]["height"]
            info["height"] = {"from": saved, "to": cfg.model.height, "resampled": base.resampled}
        if base.fresh or base.unused:
            info |= {"fresh": base.fresh, "unused": base.unused}
        return model, Alphabet(chars), info

    def describe(self, metrics: dict[str, float]) -> str:
        return f"val CER {metrics.get('val_cer', float('nan')):.4f}, WER {metrics.get('val_wer', float('nan')):.4f}"
