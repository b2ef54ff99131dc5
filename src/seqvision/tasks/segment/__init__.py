"""Page segmentation: find the text lines of a page (baselines, polygons, reading order) to read them.

:mod:`~seqvision.tasks.segment.model` holds the network (U-Net + row BiLSTM -> baseline and line maps),
:mod:`~seqvision.tasks.segment.vectorise` turns maps into lines, :mod:`~seqvision.tasks.segment.metrics`
scores them (cBAD-style baseline F1, polygon IoU F1), :mod:`~seqvision.tasks.segment.ground_truth` reads
PAGE/ALTO layouts and :mod:`~seqvision.tasks.segment.page_out` writes them; the task is in ``task.py``.
"""
