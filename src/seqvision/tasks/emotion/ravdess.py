"""The RAVDESS file-name convention: seven two-digit fields,
modality-channel-emotion-intensity-statement-repetition-actor.

``01-01-03-02-01-01-12.mp4``: audio-video, speech, happy, strong intensity, "Kids are talking by the
door", first repetition, actor 12 (even: female). The emotion is the label and the actor the speaker
every split keeps on one side. Names of another form are not RAVDESS names (``parse`` gives None); a
name of the form with impossible codes is a :class:`DataError` naming it.

>>> name = parse("01-01-03-02-01-01-12.mp4")
>>> name.label, name.speaker, name.intensity
('happy', 'actor12', 'strong')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from seqvision.errors import DataError

PATTERN = re.compile(r"^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$")
MODALITIES = {1: "audio-video", 2: "video-only", 3: "audio-only"}
CHANNELS = {1: "speech", 2: "song"}
EMOTIONS = {1: "neutral", 2: "calm", 3: "happy", 4: "sad", 5: "angry", 6: "fearful", 7: "disgust", 8: "surprised"}
INTENSITIES = {1: "normal", 2: "strong"}
STATEMENTS = {1: "Kids are talking by the door", 2: "Dogs are sitting by the door"}


@dataclass(frozen=True)
class RavdessName:
    modality: int
    channel: int
    emotion: int
    intensity_code: int
    statement: int
    repetition: int
    actor: int

    @property
    def label(self) -> str:
        return EMOTIONS[self.emotion]

    @property
    def speaker(self) -> str:
        return f"actor{self.actor:02d}"

    @property
    def intensity(self) -> str:
        return INTENSITIES[self.intensity_code]

    def stem(self, modality: int | None = None) -> str:
        """The file name without suffix, optionally of another modality (the same recording's audio-only file)."""
        codes = (modality or self.modality, self.channel, self.emotion, self.intensity_code)
        return "-".join(f"{c:02d}" for c in (*codes, self.statement, self.repetition, self.actor))


def parse(name: str | Path) -> RavdessName | None:
    """The fields of a RAVDESS file name (any suffix); None when the name is not of that form.

    Raises:
        DataError: the form is RAVDESS's but a code is impossible (emotion 09, a strong neutral ...).
    """
    match = PATTERN.match(Path(name).stem)
    if not match:
        return None
    fields = RavdessName(*(int(g) for g in match.groups()))
    problems = [
        f"modality {fields.modality:02d} is not 01-03" if fields.modality not in MODALITIES else "",
        f"vocal channel {fields.channel:02d} is not 01-02" if fields.channel not in CHANNELS else "",
        f"emotion {fields.emotion:02d} is not 01-08" if fields.emotion not in EMOTIONS else "",
        f"intensity {fields.intensity_code:02d} is not 01-02" if fields.intensity_code not in INTENSITIES else "",
        "neutral has no strong intensity" if fields.emotion == 1 and fields.intensity_code == 2 else "",
        f"statement {fields.statement:02d} is not 01-02" if fields.statement not in STATEMENTS else "",
        f"repetition {fields.repetition:02d} is not 01-02" if fields.repetition not in (1, 2) else "",
        "actor 00 does not exist" if fields.actor == 0 else "",
    ]
    found = [p for p in problems if p]
    if found:
        raise DataError(f"{name}: not a valid RAVDESS name ({'; '.join(found)})")
    return fields


def code_of(label: str) -> int:
    """The RAVDESS emotion code of a label (the generator names its files with them)."""
    codes = {v: k for k, v in EMOTIONS.items()}
    if label not in codes:
        raise DataError(f"{label!r} is not a RAVDESS emotion ({', '.join(EMOTIONS.values())})")
    return codes[label]
