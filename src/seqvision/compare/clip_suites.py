"""Data of the generated clip suites of ``seqvision compare`` that the task's own generator writes: gait, sound.

Each builder writes its data once into ``request.folder`` (``train/`` and ``val/``, never sharing a
walker or a scene) and stamps it (``data.json``), or passes through a folder with ``train/`` and
``val/`` sets given as ``--data``. The sample counts are totals of clips.
"""

from __future__ import annotations

import shutil

from seqvision.compare.suite_data import SYNTHETIC, DataRequest, done, mark_done, split_folders

GAIT_SEQUENCES = 4  # sequences per walker: half the gallery, half the probes of validation
GAIT_FRAMES = 40  # frames per sequence (a cell reads data.clip.frames of them)
SOUND_GROUPS = 4  # scenes per split: a background and a stick colour each


def gait_walkers(request: DataRequest) -> tuple[str, str]:
    """Generated walkers (``synth-gait``), told apart only by cadence, step and arm phase; or ``--data``'s folders.

    Validation walkers are other people (numbered after the training ones, drawn with another seed),
    so rank-1 is measured on subjects never seen in training.
    """
    from seqvision.tasks.gait.synth import write_walkers

    if request.source != SYNTHETIC:
        source = split_folders(request.source, "gait sets")
        return str(source / "train"), str(source / "val")
    train, val = request.folder / "train", request.folder / "val"
    subjects = [max(2, -(-n // GAIT_SEQUENCES)) for n in (request.train_samples, request.val_samples)]
    if not done(request):
        _clear(request)
        for folder, count, first, seed in ((train, subjects[0], 1, 0), (val, subjects[1], subjects[0] + 1, 1)):
            write_walkers(folder, count, sequences=GAIT_SEQUENCES, frames=GAIT_FRAMES, first_subject=first, seed=seed)
        mark_done(request)
    return str(train), str(val)


def sound_clips(request: DataRequest) -> tuple[str, str]:
    """Generated "stick hits a surface" videos with their sound (``synth-sound``); or ``--data``'s folders.

    The counts are spread over the 4 materials; validation clips come from other scenes, with another seed.
    """
    from seqvision.tasks.sound.synth import MATERIALS, write_sound_clips

    if request.source != SYNTHETIC:
        source = split_folders(request.source, "clip sets")
        return str(source / "train"), str(source / "val")
    paths = str(request.folder / "train" / "clips.csv"), str(request.folder / "val" / "clips.csv")
    if not done(request):
        _clear(request)
        sets = (("train", request.train_samples, 1, 0), ("val", request.val_samples, 1 + SOUND_GROUPS, 1))
        for split, clips, first, seed in sets:
            per_material = max(1, -(-clips // len(MATERIALS)))
            write_sound_clips(request.folder / split, per_material, groups=SOUND_GROUPS, first_group=first, seed=seed)
        mark_done(request)
    return paths


def _clear(request: DataRequest) -> None:
    """Remove what an earlier request with other counts wrote, so no stale clip is read with the new ones."""
    for split in ("train", "val"):
        shutil.rmtree(request.folder / split, ignore_errors=True)
