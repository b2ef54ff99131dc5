"""Data of the generated clip suites of ``seqvision compare`` that the task's own generator writes: gait, sound.

Each builder writes its data once into ``request.folder`` (``train/`` and ``val/``, never sharing a
walker or a scene) and stamps it (``data.json``), or passes through a folder with ``train/`` and
``val/`` sets given as ``--data``. The sample counts are totals of clips.
"""

from __future__ import annotations

import shutil

from seqvision.compare.suite_data import SYNTHETIC, DataRequest, done, mark_done, split_folders


def gait_walkers(request: DataRequest) -> tuple[str, str]:
    """Generated walkers (``synth-gait``), told apart only by cadence, step and arm phase; or ``--data``'s folders.

    Validation walkers are other people (numbered after the training ones, drawn with another seed),
    so rank-1 is measured on subjects never seen in training.
    """
    return _generated(request, "gait", "gait sets", "")


def sound_clips(request: DataRequest) -> tuple[str, str]:
    """Generated "stick hits a surface" videos with their sound (``synth-sound``); or ``--data``'s folders.

    The counts are spread over the 4 materials; validation clips come from other scenes, with another seed.
    """
    return _generated(request, "sound", "clip sets", "clips.csv")


def _generated(request: DataRequest, task: str, what: str, listing: str) -> tuple[str, str]:
    """The task's own generated data (written once, stamped), or the ``train/`` and ``val/`` of ``--data``.

    ``listing``: the file inside each split folder that the task reads (empty: the folder itself).
    """
    from seqvision.tasks.base import get_task

    if request.source != SYNTHETIC:
        source = split_folders(request.source, what)
        return str(source / "train"), str(source / "val")
    if done(request):
        train, val = (request.folder / split / listing for split in ("train", "val"))
        return str(train), str(val)
    _clear(request)
    paths = get_task(task).write_compare_data(request.folder, request.train_samples, request.val_samples)
    mark_done(request)
    return paths


def _clear(request: DataRequest) -> None:
    """Remove what an earlier request with other counts wrote, so no stale clip is read with the new ones."""
    for split in ("train", "val"):
        shutil.rmtree(request.folder / split, ignore_errors=True)
