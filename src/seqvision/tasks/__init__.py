"""Tasks: text lines, video clips, captions, image classes, DNA/RNA. Importing registers them in ``TASKS``."""

from seqvision.tasks import captioning, dna, image_classes, text_lines, video  # noqa: F401
from seqvision.tasks.base import Prepared, Task, TrainingModule, get_task

__all__ = ["Prepared", "Task", "TrainingModule", "get_task"]
