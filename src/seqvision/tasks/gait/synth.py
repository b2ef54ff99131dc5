"""Synthetic walkers whose identity lies in their stride and rhythm, never in their shape.

Every walker is the same stick-figure silhouette (limb lengths and widths fixed), walking on the
spot like a treadmill, seen from the side (view 090). A *subject* is three numbers: cadence (frames
per gait cycle), step length (the hip swing's amplitude) and arm-swing phase (the arms' lag behind
the legs). Each sequence starts at a random point of the cycle, with a little jitter of cadence and
stride, a shifted position and noisy silhouette edges (a thresholded, noisy mask, as background
subtraction gives). Sequences of condition ``bg`` carry a bag, ``cl`` a coat; both change the shape,
not the walk. Written in the CASIA-B layout: ``OUT/SUBJECT/CONDITION-SEQ/090/000.png``.

Averaging a clip's frames (the GEI baseline) keeps the step length and loses the cadence; the arm
phase survives only in the joint pose of single frames.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from seqvision.data.video_write import write_frames
from seqvision.errors import ConfigError, DataError
from seqvision.io import atomic_write_text

SCALE = 4  # drawn at 4x, then downsampled: sub-pixel limb motion
CONDITIONS = ("nm", "bg", "cl")  # normal, with a bag, in a coat (CASIA-B's three)
# body, as fractions of the canvas: hip height, thigh/shin/upper arm/forearm length, limb and torso width
HIP, THIGH, SHIN, UPPER, FORE, LIMB, TORSO = 0.52, 0.21, 0.21, 0.15, 0.14, 0.055, 0.09


@dataclass(frozen=True)
class Walker:
    """What identifies a subject: frames per gait cycle, hip swing amplitude (rad), arm phase lag (rad)."""

    cadence: float
    step: float
    arm_phase: float

    @classmethod
    def draw(cls, rng: random.Random) -> Walker:
        return cls(rng.uniform(8.0, 16.0), rng.uniform(0.22, 0.5), rng.uniform(0.0, math.pi))


def render_walk(walker: Walker, frames: int, size: int, rng: random.Random, condition: str = "nm") -> list[np.ndarray]:
    """``frames`` silhouettes ``(size, size)`` uint8 (0 or 255) of one sequence of ``walker``."""
    period = walker.cadence * rng.uniform(0.97, 1.03)
    step = walker.step * rng.uniform(0.93, 1.07)
    start = rng.uniform(0.0, 2 * math.pi)
    s = size * SCALE
    dx, dy = rng.uniform(-0.03, 0.03) * s, rng.uniform(-0.02, 0.02) * s
    noise = np.random.default_rng(rng.randrange(2**32))
    out = []
    for k in range(frames):
        img = Image.new("L", (s, s), 0)
        phase = start + 2 * math.pi * k / period
        _pose(ImageDraw.Draw(img), phase, step, walker.arm_phase, s, dx, dy, condition)
        grey = np.asarray(img.resize((size, size), Image.Resampling.BOX), dtype=np.float32)
        mask = grey + noise.normal(0.0, 45.0, grey.shape) > 128  # ragged edges, a few specks
        out.append(mask.astype(np.uint8) * 255)
    return out


def _pose(
    d: ImageDraw.ImageDraw, phase: float, step: float, arm: float, s: int, dx: float, dy: float, condition: str
) -> None:
    """The figure at one point of the cycle: two legs half a cycle apart, each arm ``arm`` behind its leg."""
    bob = 0.012 * math.cos(2 * phase)  # the body is highest in mid-stance, twice a cycle
    hip = (s * 0.5 + dx, s * (HIP + bob) + dy)
    shoulder = (hip[0], hip[1] - s * 0.27)
    limb, torso = round(s * LIMB), round(s * (TORSO * (1.5 if condition == "cl" else 1.0)))
    d.line((*shoulder, *hip), fill=255, width=torso)
    r = s * 0.065
    d.ellipse((shoulder[0] - r, shoulder[1] - 2.3 * r, shoulder[0] + r, shoulder[1] - 0.3 * r), fill=255)
    for leg in (0.0, math.pi):
        swing = math.sin(phase + leg)
        thigh = step * swing
        shin = thigh - 0.55 * max(0.0, math.sin(phase + leg + math.pi / 2))  # the knee bends in the swing
        knee = _end(hip, thigh, s * THIGH)
        d.line((*hip, *knee), fill=255, width=limb)
        d.line((*knee, *_end(knee, shin, s * SHIN)), fill=255, width=limb)
        upper = 0.45 * math.sin(phase + leg + math.pi + arm)  # arm phase 0: the arm swings against its leg
        elbow = _end(shoulder, upper, s * UPPER)
        d.line((*shoulder, *elbow), fill=255, width=limb)
        d.line((*elbow, *_end(elbow, upper + 0.35, s * FORE)), fill=255, width=limb)
    if condition == "bg":  # a bag on the far shoulder, hanging at the hip
        d.rectangle((hip[0] - 0.13 * s, hip[1] - 0.08 * s, hip[0] - 0.03 * s, hip[1] + 0.04 * s), fill=255)
    if condition == "cl":  # a coat to mid-thigh
        d.polygon([shoulder, (hip[0] - 0.09 * s, hip[1] + 0.1 * s), (hip[0] + 0.09 * s, hip[1] + 0.1 * s)], fill=255)


def _end(start: tuple[float, float], angle: float, length: float) -> tuple[float, float]:
    """The far end of a limb hanging from ``start`` at ``angle`` from straight down (positive: forward)."""
    return start[0] + length * math.sin(angle), start[1] + length * math.cos(angle)


def write_walkers(
    out: str | Path,
    subjects: int,
    *,
    sequences: int = 4,
    frames: int = 40,
    size: int = 32,
    first_subject: int = 1,
    seed: int = 0,
    conditions: tuple[str, ...] = ("nm",),
) -> Path:
    """Write ``OUT/SUBJECT/COND-SEQ/090/*.png`` for ``subjects`` walkers and ``synth-gait.json`` (their walks).

    Subjects are numbered from ``first_subject``: a test set with other numbers (and seed) holds other people.

    >>> write_walkers("data/synth-gait", 40, sequences=4)      # doctest: +SKIP
    PosixPath('data/synth-gait')
    """
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        raise ConfigError(f"unknown condition {unknown[0]!r}; choose from {', '.join(CONDITIONS)}")
    if subjects < 1 or sequences < 1 or frames < 2 or size < 16:
        raise ConfigError("--subjects and --sequences must be at least 1, --frames 2 and --size 16")
    root = Path(out)
    walks = {}
    try:
        for n in range(first_subject, first_subject + subjects):
            subject = f"{n:03d}"
            walker = Walker.draw(random.Random(f"{seed}-walker-{subject}"))
            walks[subject] = {"cadence": walker.cadence, "step": walker.step, "arm_phase": walker.arm_phase}
            for condition in conditions:
                for take in range(1, sequences + 1):
                    rng = random.Random(f"{seed}-{subject}-{condition}-{take}")
                    clip = render_walk(walker, frames, size, rng, condition)
                    write_frames(root / subject / f"{condition}-{take:02d}" / "090", clip)
    except OSError as exc:
        raise DataError(f"{exc.filename or root}: cannot write walkers ({exc.strerror or exc})") from None
    stats = {"subjects": walks, "sequences": sequences, "frames": frames, "size": size, "seed": seed}
    atomic_write_text(root / "synth-gait.json", json.dumps({**stats, "conditions": list(conditions)}, indent=1) + "\n")
    return root
