"""Synthetic clips that only a sequence model can tell apart, written as real video files through PyAV.

Six *order-only* classes come in pairs whose clips are the same frames in reverse order (an object
moving right / left, growing / shrinking, a clock hand turning clockwise / anticlockwise), so any
model that averages per-frame features sees identical inputs for both members of a pair; two
*appearance* classes (a drifting ring, a drifting cross) are a control separable from one frame.
Every group (``_gXX_`` in the file name, as in UCF101) shares a scene: background and object colour.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from seqvision.data.video_write import FORMATS, write_frames, write_video
from seqvision.errors import ConfigError, DataError
from seqvision.io import atomic_write_text

# class -> (motion, played backwards)
CLASSES: dict[str, tuple[str, bool]] = {
    "move-right": ("slide", False),
    "move-left": ("slide", True),
    "grow": ("scale", False),
    "shrink": ("scale", True),
    "rotate-cw": ("spin", False),
    "rotate-ccw": ("spin", True),
    "ring": ("ring", False),
    "cross": ("cross", False),
}
ORDER_ONLY = ("move-right", "move-left", "grow", "shrink", "rotate-cw", "rotate-ccw")
APPEARANCE = ("ring", "cross")
CONTAINERS = [*FORMATS, "frames"]  # video file suffixes (seqvision.data.video_write); frames: PNG folders
SCALE = 4  # drawn at 4x and downsampled: smooth edges and sub-pixel motion


def render_clip(label: str, frames: int, size: int, scene: random.Random, rng: random.Random) -> list[np.ndarray]:
    """``frames`` RGB frames ``(size, size, 3)`` uint8 of one clip of class ``label``."""
    motion, backwards = CLASSES[label]
    background = tuple(scene.randrange(0, 90) for _ in range(3))
    colour = tuple(scene.randrange(150, 256) for _ in range(3))
    s = size * SCALE
    draw_at = _motion(motion, s, rng, frames)
    out = []
    for k in range(frames):
        img = Image.new("RGB", (s, s), background)  # type: ignore[arg-type]
        draw_at(ImageDraw.Draw(img), k / max(frames - 1, 1), colour)
        out.append(np.asarray(img.resize((size, size), Image.Resampling.BOX)))
    return out[::-1] if backwards else out


def _motion(
    motion: str, s: int, rng: random.Random, frames: int
) -> Callable[[ImageDraw.ImageDraw, float, tuple], None]:
    """A function drawing the object at time ``t`` in [0, 1]; the clip's random parameters are fixed here."""
    if motion == "slide":
        side, y = s * rng.uniform(0.2, 0.3), s * rng.uniform(0.3, 0.7)
        x0, x1 = s * rng.uniform(0.15, 0.3), s * rng.uniform(0.7, 0.85)
        return lambda d, t, c: _square(d, x0 + t * (x1 - x0), y, side, c)
    if motion == "scale":
        cx, cy = s * rng.uniform(0.4, 0.6), s * rng.uniform(0.4, 0.6)
        r0, r1 = s * rng.uniform(0.06, 0.12), s * rng.uniform(0.32, 0.4)
        return lambda d, t, c: d.ellipse((cx - (r := r0 + t * (r1 - r0)), cy - r, cx + r, cy + r), fill=c)
    if motion == "spin":
        a0, sweep, length = rng.uniform(0, 2 * math.pi), rng.uniform(1.2, 1.6) * math.pi, s * rng.uniform(0.35, 0.45)
        return lambda d, t, c: _hand(d, s / 2, a0 + t * sweep, length, c)
    # ring, cross: a random walk around the middle, the same in either direction of time
    steps = [(rng.gauss(0, s * 0.02), rng.gauss(0, s * 0.02)) for _ in range(frames)]
    path = np.cumsum(np.array(steps), axis=0) + s * np.array([rng.uniform(0.4, 0.6), rng.uniform(0.4, 0.6)])
    r = s * rng.uniform(0.15, 0.22)

    def walk(d: ImageDraw.ImageDraw, t: float, c: tuple) -> None:
        x, y = path[min(frames - 1, round(t * (frames - 1)))]
        if motion == "ring":
            d.ellipse((x - r, y - r, x + r, y + r), outline=c, width=max(1, round(r * 0.3)))
        else:
            w = r * 0.3
            d.rectangle((x - r, y - w, x + r, y + w), fill=c)
            d.rectangle((x - w, y - r, x + w, y + r), fill=c)

    return walk


def _square(d: ImageDraw.ImageDraw, x: float, y: float, side: float, c: tuple) -> None:
    d.rectangle((x - side / 2, y - side / 2, x + side / 2, y + side / 2), fill=c)


def _hand(d: ImageDraw.ImageDraw, centre: float, angle: float, length: float, c: tuple) -> None:
    """A clock hand from the centre (clockwise = increasing angle in image coordinates)."""
    tip = (centre + length * math.cos(angle), centre + length * math.sin(angle))
    d.line((centre, centre, *tip), fill=c, width=max(2, round(length * 0.18)))
    d.ellipse((centre - length * 0.12, centre - length * 0.12, centre + length * 0.12, centre + length * 0.12), fill=c)


def write_clips(
    out: str | Path,
    clips_per_class: int,
    *,
    frames: int = 16,
    size: int = 32,
    fps: float = 10.0,
    groups: int = 5,
    first_group: int = 1,
    seed: int = 0,
    container: str = "mp4",
    classes: tuple[str, ...] = tuple(CLASSES),
) -> Path:
    """Write ``out/CLASS/v_CLASS_gXX_cYY.EXT`` clips, ``out/clips.csv`` (path,label,group) and ``synth-video.json``.

    Groups (scenes: background, colours, sizes) are numbered from ``first_group``; give a second set
    other numbers (and another seed) to validate on unseen scenes without a leak between the sets.

    >>> write_clips("data/synth-video", 40, frames=16, size=32)      # doctest: +SKIP
    PosixPath('data/synth-video/clips.csv')
    """
    unknown = [c for c in classes if c not in CLASSES]
    if unknown:
        raise ConfigError(f"unknown synthetic class {unknown[0]!r}; choose from {', '.join(CLASSES)}")
    if container not in CONTAINERS:
        raise ConfigError(f"unknown container {container!r}; choose from {', '.join(CONTAINERS)}")
    if size < 16 or size % 2:
        raise ConfigError(f"--size must be even and at least 16 (video codecs need even sizes), got {size}")
    if frames < 2 or clips_per_class < 1 or groups < 1:
        raise ConfigError("--frames must be at least 2, --clips and --groups at least 1")
    root = Path(out)
    rows = ["path,label,group"]
    try:
        for label in classes:
            (root / label).mkdir(parents=True, exist_ok=True)
            for c in range(clips_per_class):
                group, take = c % groups + first_group, c // groups + 1
                scene, rng = random.Random(f"{seed}-scene-{group}"), random.Random(f"{seed}-{label}-{c}")
                name = f"{label}/v_{label}_g{group:02d}_c{take:02d}"
                clip = render_clip(label, frames, size, scene, rng)
                if container == "frames":
                    write_frames(root / name, clip)
                else:
                    name += f".{container}"
                    write_video(root / name, clip, fps)
                rows.append(f"{name},{label},g{group:02d}")
    except OSError as exc:
        raise DataError(f"{exc.filename or root}: cannot write clips ({exc.strerror or exc})") from None
    stats = {
        "classes": list(classes),
        "order_only": [c for c in classes if c in ORDER_ONLY],
        "appearance": [c for c in classes if c in APPEARANCE],
        "clips_per_class": clips_per_class,
        "frames": frames,
        "size": size,
        "fps": fps,
        "groups": groups,
        "first_group": first_group,
        "seed": seed,
        "container": container,
    }
    atomic_write_text(root / "synth-video.json", json.dumps(stats, indent=1) + "\n")
    atomic_write_text(root / "clips.csv", "\n".join(rows) + "\n")
    return root / "clips.csv"
