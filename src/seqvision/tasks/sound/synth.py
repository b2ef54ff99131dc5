"""Synthetic "stick hits a surface" clips, written as real video files with an audio track (PyAV).

Visually Indicated Sounds (Owens et al. 2016) films a drumstick hitting and scratching things; here
a stick comes down on a surface whose material shows as colour and texture (wood grain, brushed
metal, glass streaks, cloth checks) and sets the sound: damped wooden modes, long metallic
partials, high glassy rings, a soft noise burst. The sound starts at the frame the stick first
touches the surface and rings on; the stick then *rests* on the surface for a few frames, and
those frames look like the contact frame, so one frame alone cannot tell when a sound starts (or
whether one is still ringing): timing the onsets needs the frames before. A harder hit (a faster
fall, visible across frames) is louder.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from seqvision.data.video_write import FORMATS, write_video
from seqvision.errors import ConfigError, DataError
from seqvision.io import atomic_write_text

# material -> (surface colour, partials in Hz, decay per second, noise share)
MATERIALS: dict[str, tuple[tuple[int, int, int], tuple[float, ...], float, float]] = {
    "wood": ((150, 95, 45), (220.0, 530.0, 910.0), 28.0, 0.25),
    "metal": ((165, 170, 180), (1250.0, 3150.0, 4700.0), 5.0, 0.02),
    "glass": ((150, 215, 225), (2600.0, 5300.0), 14.0, 0.05),
    "cloth": ((170, 40, 90), (), 45.0, 1.0),
}
SURFACE = 0.62  # the surface starts at this fraction of the frame's height
SCALE = 4  # drawn at 4x and downsampled: smooth edges
NOISE = 0.002  # room noise under everything: no clip is digitally silent


def plan_hits(frames: int, rng: random.Random) -> tuple[np.ndarray, list[tuple[int, float]]]:
    """The stick tip's height per frame (0 top .. 1 the surface) and the hits: ``(frame, speed)``."""
    tip, hits, k = np.zeros(frames), [], 0
    height = rng.uniform(0.1, 0.5)
    while k < frames:
        fall = rng.randint(2, 5)  # frames to come down: fewer is faster, so louder
        for j in range(1, fall + 1):
            if k < frames:
                tip[k], k = height + (1 - height) * j / fall, k + 1
        if k - 1 < frames and tip[k - 1] == 1.0:
            hits.append((k - 1, (1 - height) / fall))
        for _ in range(rng.randint(1, 4)):  # resting on the surface: silent frames that look like the hit
            if k < frames:
                tip[k], k = 1.0, k + 1
        height = rng.uniform(0.05, 0.5)
        for j in range(1, rng.randint(1, 3) + 1):  # lifting
            if k < frames:
                tip[k], k = 1 - (1 - height) * j / 3, k + 1
    return tip, hits


def render(tip: np.ndarray, material: str, size: int, scene: random.Random, rng: random.Random) -> list[np.ndarray]:
    """RGB frames ``(size, size, 3)`` uint8: the background, the textured surface, the stick at ``tip``."""
    colour = MATERIALS[material][0]
    s = size * SCALE
    top = round(s * SURFACE)
    base = Image.new("RGB", (s, s), tuple(scene.randrange(0, 70) for _ in range(3)))  # type: ignore[arg-type]
    d = ImageDraw.Draw(base)
    jitter = tuple(max(0, min(255, c + rng.randint(-15, 15))) for c in colour)
    d.rectangle((0, top, s, s), fill=jitter)  # type: ignore[arg-type]
    dark = tuple(c * 2 // 3 for c in jitter)
    light = tuple(min(255, c + 60) for c in jitter)
    if material == "wood":  # grain: horizontal wavy lines
        for y in range(top + 3, s, 6):
            d.line([(x, y + 2 * np.sin(x / 9 + y)) for x in range(0, s, 4)], fill=dark, width=2)  # type: ignore[arg-type]
    elif material == "metal":  # brushed: a bright diagonal band
        d.polygon([(s * 0.2, top), (s * 0.45, top), (s * 0.25, s), (0, s)], fill=light)  # type: ignore[arg-type]
    elif material == "glass":  # streaks
        for x in range(4, s, 16):
            d.line((x, top + 2, x + 8, s), fill=(245, 250, 255), width=2)
    else:  # cloth: checks
        for y in range(top, s, 8):
            for x in range((y // 8 % 2) * 8, s, 16):
                d.rectangle((x, y, x + 7, y + 7), fill=dark)  # type: ignore[arg-type]
    left = s * rng.uniform(0.3, 0.7)
    stick = tuple(scene.randrange(200, 256) for _ in range(3))
    out = []
    for t in tip:
        img = base.copy()
        tip_y = top * float(t)
        ImageDraw.Draw(img).line((left + s * 0.15, tip_y - s * 0.8, left, tip_y), fill=stick, width=max(3, s // 24))  # type: ignore[arg-type]
        out.append(np.asarray(img.resize((size, size), Image.Resampling.BOX)))
    return out


def sound(
    hits: list[tuple[int, float]], material: str, frames: int, fps: float, rate: int, rng: random.Random
) -> np.ndarray:
    """The clip's audio: each hit starts its material's damped partials (and noise) at ``frame / fps``."""
    _, partials, decay, noise = MATERIALS[material]
    n = round(frames / fps * rate)
    nprng = np.random.default_rng(rng.randrange(2**31))
    audio = NOISE * nprng.standard_normal(n)
    for frame, speed in hits:
        start = round(frame / fps * rate)
        t = np.arange(n - start) / rate
        amp = min(0.9, 0.25 + 0.8 * speed)
        tone = sum(
            np.sin(2 * np.pi * f * rng.uniform(0.97, 1.03) * t + rng.uniform(0, 6.3)) / (i + 1)
            for i, f in enumerate(partials)
        )
        burst = nprng.standard_normal(len(t))
        if material == "cloth":
            burst = np.convolve(burst, np.ones(8) / 8, mode="same")  # muffled
        audio[start:] += amp * np.exp(-decay * t) * ((1 - noise) * tone / max(1, len(partials)) + noise * burst)
    return np.clip(audio, -1, 1).astype(np.float32)


def write_sound_clips(
    out: str | Path,
    clips_per_material: int,
    *,
    frames: int = 24,
    size: int = 32,
    fps: float = 16.0,
    rate: int = 16000,
    groups: int = 4,
    first_group: int = 1,
    seed: int = 0,
    container: str = "mkv",
) -> Path:
    """Write ``out/MATERIAL/s_MATERIAL_gXX_cYY.EXT`` and ``out/clips.csv`` (path,group,material,onsets).

    ``onsets`` lists the hit times in seconds (``;``-separated), for reference; ``synth-sound.json``
    records the settings. mkv (x264 + 16-bit PCM) keeps the audio exact; mp4 uses AAC.

    >>> write_sound_clips("data/synth-sound", 40)      # doctest: +SKIP
    PosixPath('data/synth-sound/clips.csv')
    """
    if container not in ("mkv", "mp4", "avi"):
        raise ConfigError(f"unknown container {container!r}; choose from mkv, mp4, avi")
    if size < 16 or size % 2:
        raise ConfigError(f"--size must be even and at least 16 (video codecs need even sizes), got {size}")
    if frames < 4 or clips_per_material < 1 or groups < 1:
        raise ConfigError("--frames must be at least 4, --clips and --groups at least 1")
    assert container in FORMATS
    root = Path(out)
    rows = ["path,group,material,onsets"]
    try:
        for material in MATERIALS:
            (root / material).mkdir(parents=True, exist_ok=True)
            for c in range(clips_per_material):
                group, take = c % groups + first_group, c // groups + 1
                scene, rng = random.Random(f"{seed}-scene-{group}"), random.Random(f"{seed}-{material}-{c}")
                tip, hits = plan_hits(frames, rng)
                name = f"{material}/s_{material}_g{group:02d}_c{take:02d}.{container}"
                audio = sound(hits, material, frames, fps, rate, rng)
                write_video(root / name, render(tip, material, size, scene, rng), fps, audio, rate)
                onsets = ";".join(f"{k / fps:.4f}" for k, _ in hits)
                rows.append(f"{name},g{group:02d},{material},{onsets}")
    except OSError as exc:
        raise DataError(f"{exc.filename or root}: cannot write clips ({exc.strerror or exc})") from None
    stats = {"materials": list(MATERIALS), "clips_per_material": clips_per_material, "frames": frames, "size": size}
    stats |= {
        "fps": fps,
        "rate": rate,
        "groups": groups,
        "first_group": first_group,
        "seed": seed,
        "container": container,
    }
    atomic_write_text(root / "synth-sound.json", json.dumps(stats, indent=1) + "\n")
    atomic_write_text(root / "clips.csv", "\n".join(rows) + "\n")
    return root / "clips.csv"
