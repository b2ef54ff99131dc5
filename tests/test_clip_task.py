"""The clip tasks' shared skeleton (``tasks/clip_task.py``): every clip task answers its verbs from the ``cli.py``
beside it, and the class list of a run is the saved one on --resume, with unseen val classes reported and dropped."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from seqvision.errors import DataError
from seqvision.tasks import all_tasks
from seqvision.tasks.clip_task import LABELS, ClipTask, class_labels, save_labels

CLIP_TASKS = [t for t in all_tasks() if isinstance(t, ClipTask)]


def test_the_clip_tasks_are_clip_tasks() -> None:
    assert sorted(t.name for t in CLIP_TASKS) == ["emotion", "gait", "sound", "video"]


@pytest.mark.parametrize("task", CLIP_TASKS, ids=lambda t: t.name)
def test_verbs_are_the_cli_beside_the_task(task: ClipTask) -> None:
    folder = type(task).__module__.rpartition(".")[0]
    assert task.verbs.__name__ == f"{folder}.cli"  # type: ignore[attr-defined]
    for verb in ("read", "evaluate", "add_parsers"):
        assert getattr(task.verbs, verb).__module__ == f"{folder}.cli"
    assert task.model_input == "clip"


def clips(*labels: str) -> list[SimpleNamespace]:
    """Probed clips as :func:`class_labels` sees them: each with its listed sample."""
    return [SimpleNamespace(sample=SimpleNamespace(source=f"c{i}.mp4", label=label)) for i, label in enumerate(labels)]


def test_class_labels_come_from_training_and_unseen_val_classes_are_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels, val = class_labels(clips("b", "a", "b"), clips("a", "c"), tmp_path, False, None)
    assert labels == ["a", "b"]
    assert [c.sample.label for c in val] == ["a"]
    assert "c1.mp4: label 'c' not in training" in capsys.readouterr().err


def test_resume_reads_the_saved_labels(tmp_path: Path) -> None:
    save_labels(tmp_path, ["z", "a"])
    assert json.loads((tmp_path / LABELS).read_text(encoding="utf-8")) == ["z", "a"]
    labels, val = class_labels(clips("a"), clips("z", "a"), tmp_path, True, None)
    assert labels == ["z", "a"] and len(val) == 2
    assert class_labels(clips("a"), clips("z", "a"), tmp_path, False, None)[0] == ["a"]  # not resuming: training


def test_no_val_clip_left_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no usable validation clip"):
        class_labels(clips("a"), clips("b"), tmp_path, False, None)
