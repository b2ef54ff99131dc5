"""Tasks: text lines, pages, video clips, emotion, gait, sounds for silent video, captions, image classes,
forecasting, DNA/RNA.

Importing this package registers every task in ``seqvision.registry.TASKS``. A task folder never
imports another; shared machinery (training, export, serving, the CLI) reaches a task through the
registry and the :class:`~seqvision.tasks.base.Task` / :class:`~seqvision.tasks.predictor.Predictor` protocols.
Registering is light: each ``task.py`` imports torch, Lightning and its data code inside the methods that
need them (its Lightning module lives in ``module.py``), so ``seqvision --help`` and ``read --backend onnx``
import none of them.
"""

from seqvision.tasks.base import Prepared, Task, all_tasks, get_task
from seqvision.tasks.captioning import task as _captioning  # noqa: F401  (each import registers its task)
from seqvision.tasks.dna import task as _dna  # noqa: F401
from seqvision.tasks.emotion import task as _emotion  # noqa: F401
from seqvision.tasks.forecast import task as _forecast  # noqa: F401
from seqvision.tasks.gait import task as _gait  # noqa: F401
from seqvision.tasks.image_classes import task as _image_classes  # noqa: F401
from seqvision.tasks.lines import task as _lines  # noqa: F401
from seqvision.tasks.segment import task as _segment  # noqa: F401
from seqvision.tasks.sound import task as _sound  # noqa: F401
from seqvision.tasks.video import task as _video  # noqa: F401

__all__ = ["Prepared", "Task", "all_tasks", "get_task"]
