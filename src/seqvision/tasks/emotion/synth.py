"""Synthetic emotion clips: a drawn face and a voice-like tone whose emotion lies in how they *change*.

Two factors make four emotions, one carried by each stream:

- the face: the mouth opens or closes over the clip (any single frame shows every mouth size in
  every class; only the order of frames says which way it went); the brows drift at random;
- the voice: a harmonic tone with syllable-like bursts whose pitch glides up or down (an octave) (again the
  same pitches in every class, only the direction differs).

So one stream alone can tell each emotion from only one other (chance 50 % between the remaining
pair), a model that averages its frames cannot tell direction at all, and the fused model sees both.
Each actor has a face colour and a voice pitch (odd actors lower, as RAVDESS's men); files follow
the RAVDESS naming convention, ``Actor_XX/01-01-EE-II-SS-RR-XX.mp4``, with the sound inside the video
or beside it (``02-...mp4`` video-only + ``03-...wav`` audio-only, as RAVDESS ships them).
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from seqvision.data.audio import write_wav
from seqvision.data.video_write import FORMATS, write_video
from seqvision.errors import ConfigError
from seqvision.io import atomic_write_text
from seqvision.tasks.emotion.ravdess import code_of

CLASSES: dict[str, tuple[bool, bool]] = {  # emotion -> (mouth opens, pitch rises)
    "happy": (True, True),
    "surprised": (True, False),
    "angry": (False, True),
    "sad": (False, False),
}


def glide(rising: bool, frames: int, rng: random.Random) -> np.ndarray:
    """``frames`` values in [0, 1] going up (or down) by at least 0.5, at a random pace."""
    low, high = rng.uniform(0.0, 0.35), rng.uniform(0.65, 1.0)
    t = np.linspace(0.0, 1.0, frames) ** rng.uniform(0.6, 1.6)  # the pace: early or late change
    path = low + (high - low) * t
    return path if rising else path[::-1]


def face(mouth: float, brow: float, size: int, skin: tuple[int, int, int], shift: tuple[float, float]) -> np.ndarray:
    """One ``(size, size, 3)`` frame: a face with the mouth ``mouth`` open and the brows ``brow`` raised (0-1)."""
    scale = size / 32
    img = Image.new("RGB", (size, size), (30, 34, 40))
    draw = ImageDraw.Draw(img)
    cx, cy = size / 2 + shift[0] * scale, size / 2 + shift[1] * scale
    draw.ellipse([cx - 11 * scale, cy - 13 * scale, cx + 11 * scale, cy + 13 * scale], fill=skin)
    for side in (-1, 1):
        ex = cx + side * 5 * scale
        draw.ellipse([ex - 1.6 * scale, cy - 5.5 * scale, ex + 1.6 * scale, cy - 2.5 * scale], fill=(20, 20, 20))
        by = cy - (7 + 3 * brow) * scale
        draw.line([ex - 3 * scale, by + side * 0.5 * scale, ex + 3 * scale, by - side * 0.5 * scale], (60, 40, 30), 2)
    half = (0.6 + 4.5 * mouth) * scale
    draw.ellipse([cx - 5 * scale, cy + 6 * scale - half, cx + 5 * scale, cy + 6 * scale + half], fill=(120, 20, 30))
    return np.asarray(img)


def voice(rising: bool, seconds: float, rate: int, base: float, rng: random.Random) -> np.ndarray:
    """A voice-like tone: 12 harmonics of a pitch gliding +-6 semitones around ``base``, in syllable bursts."""
    n = round(seconds * rate)
    contour = glide(rising, n, rng) * 12.0 - 6.0  # semitones
    f0 = base * 2.0 ** (contour / 12.0)
    phase = 2 * math.pi * np.cumsum(f0) / rate
    wave = sum(np.sin(k * phase) / math.sqrt(k) for k in range(1, 13)) / 3
    t = np.arange(n) / rate
    syllables = rng.uniform(3.0, 5.0)
    envelope = np.clip(np.sin(2 * math.pi * syllables * t + rng.uniform(0, 2 * math.pi)), 0.0, None) ** 0.5
    noise = np.random.default_rng(rng.randrange(2**31)).normal(0.0, 0.01, n)
    return (0.25 * envelope * wave + noise).astype(np.float32)


def write_emotion_clips(
    out: str | Path,
    clips: int = 8,
    actors: int = 4,
    first_actor: int = 1,
    frames: int = 16,
    size: int = 32,
    fps: float = 8.0,
    rate: int = 16000,
    audio: str = "inside",
    container: str = "mp4",
    seed: int = 0,
) -> Path:
    """Write ``clips`` clips per emotion, spread over ``actors`` actors; returns the ``clips.csv`` listing them."""
    if audio not in ("inside", "beside"):
        raise ConfigError(f"audio must be inside or beside, not {audio!r}")
    if container not in FORMATS:
        raise ConfigError(f"unknown container {container!r}; choose from {', '.join(FORMATS)}")
    if actors < 1 or clips < 1 or frames < 2 or size < 16 or size % 2:
        raise ConfigError("synth-emotion: clips >= 1, actors >= 1, frames >= 2 and an even size >= 16 are needed")
    if clips > 8 * actors:
        raise ConfigError(f"at most 8 clips per emotion and actor (RAVDESS names): {clips} clips need more actors")
    root = Path(out)
    rng = random.Random(seed)
    rows = ["path,label,speaker\n"]
    for actor in range(first_actor, first_actor + actors):
        folder = root / f"Actor_{actor:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        person = random.Random(seed * 1000 + actor)
        skin = (person.randrange(150, 235), person.randrange(110, 190), person.randrange(80, 160))
        base = person.uniform(100, 140) if actor % 2 else person.uniform(180, 240)
        for label, (opens, rises) in CLASSES.items():
            for k in range((clips - actor + first_actor + actors - 1) // actors):  # clips spread over actors
                codes = (code_of(label), 1 + k % 2, 1 + k // 2 % 2, 1 + k // 4 % 2, actor)
                stem = "-".join(f"{c:02d}" for c in codes)
                mouth, brow = glide(opens, frames, rng), glide(rng.random() < 0.5, frames, rng)
                shift = (rng.uniform(-2, 2), rng.uniform(-2, 2))
                pictures = [face(m, b, size, skin, shift) for m, b in zip(mouth, brow, strict=True)]
                sound = voice(rises, frames / fps, rate, base, rng)
                if audio == "inside":
                    name = f"Actor_{actor:02d}/01-01-{stem}.{container}"
                    write_video(root / name, pictures, fps, sound, rate)
                else:
                    name = f"Actor_{actor:02d}/02-01-{stem}.{container}"
                    write_video(root / name, pictures, fps)
                    write_wav(root / f"Actor_{actor:02d}/03-01-{stem}.wav", sound, rate)
                rows.append(f"{name},{label},actor{actor:02d}\n")
    csv = root / "clips.csv"
    atomic_write_text(csv, "".join(rows))
    settings: dict[str, object] = {
        "clips": clips,
        "actors": actors,
        "first_actor": first_actor,
        "frames": frames,
        "size": size,
    }
    settings |= {"fps": fps, "rate": rate, "audio": audio, "container": container, "seed": seed}
    atomic_write_text(root / "synth-emotion.json", json.dumps({**settings, "classes": list(CLASSES)}, indent=1))
    return csv
