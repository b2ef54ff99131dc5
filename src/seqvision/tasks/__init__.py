"""Tasks: text lines, video clips, captions, image classes, forecasting, DNA/RNA.

Importing registers them in ``seqvision.registry.TASKS``.
"""

from seqvision.tasks import captioning, dna, forecast, image_classes, text_lines, video  # noqa: F401
from seqvision.tasks.base import Prepared, Task, TrainingModule, get_task

__all__ = ["Prepared", "Task", "TrainingModule", "get_task"]
