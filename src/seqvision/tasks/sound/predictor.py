"""Inference for sound models: the pictures of a (silent) video -> sound features -> a waveform.

Two ways to a waveform, as in Owens et al.: Griffin-Lim on the predicted features (mel -> linear
by least squares), or *example retrieval*: the training clip whose features are nearest (mean L1
over the frames both cover), from the bank saved beside the model. Backends torch and onnx.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from seqvision.data.clips import ClipInfo, decode, pad_clips
from seqvision.errors import CheckpointError, SeqvisionError
from seqvision.nn.model import SeqModel
from seqvision.tasks.predictor import ClipNetwork, load_network, prefetch_batches
from seqvision.tasks.sound.clips import SoundSample
from seqvision.tasks.sound.dataset import probe_video
from seqvision.tasks.sound.features import Features
from seqvision.tasks.sound.metrics import onsets


@dataclass
class SoundPrediction:
    """Predicted log-mel ``features`` ``(frames * steps, bands)`` of one clip at ``fps`` video frames per second."""

    path: Path
    features: np.ndarray
    fps: float
    frames: int


@dataclass
class Bank:
    """Training sounds for retrieval: padded features ``(N, L, M)`` and waveforms ``(N, S)`` with their lengths."""

    features: np.ndarray
    feature_lengths: np.ndarray
    waves: np.ndarray
    wave_lengths: np.ndarray
    sources: list[str]

    @classmethod
    def load(cls, path: Path) -> Bank:
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        try:
            t = load_file(str(path))
            from safetensors import safe_open

            with safe_open(str(path), "np") as f:
                sources = json.loads((f.metadata() or {})["sources"])
            return cls(t["features"], t["feature_lengths"], t["waves"], t["wave_lengths"], list(sources))
        except (OSError, KeyError, ValueError, SafetensorError) as exc:
            raise CheckpointError(f"{path}: the sound bank is corrupt ({str(exc).splitlines()[0][:120]})") from None

    def nearest(self, features: np.ndarray) -> tuple[int, float]:
        """Index and mean L1 distance of the training sound nearest to ``features`` ``(L, M)``."""
        best, dist = 0, float("inf")
        for i, n in enumerate(self.feature_lengths.tolist()):
            m = min(n, len(features))
            d = float(np.abs(self.features[i, :m] - features[:m]).mean()) if m else float("inf")
            if m * 2 < len(features):  # covers less than half of the clip: only a fallback
                d += 1e6
            if d < dist:
                best, dist = i, d
        return best, dist


@dataclass
class SoundPredictor(ClipNetwork):
    """A sound model ready to hear silent video; ``run``: ``(B, T, 3, S, S)`` clips -> ``(B, T, steps * bands)``
    features.

    >>> sp = SoundPredictor.load("runs/sound")                        # doctest: +SKIP
    >>> rec = sp.predict([Path("clip.mp4")])[0]                       # doctest: +SKIP
    >>> sp.griffin_lim(rec).shape                                     # doctest: +SKIP
    """

    task: ClassVar[str] = "sound"
    model: SeqModel | None
    metadata: dict[str, Any]
    features: Features
    path: Path | None = None
    session: Any = None
    bank: Bank | None = None

    @property
    def mean(self) -> np.ndarray:
        return np.asarray(self.metadata["sound"]["mean"], dtype=np.float32)

    @classmethod
    def load(cls, name_or_path: str | Path, backend: str | None = "torch", threads: int = 0) -> SoundPredictor:
        """A ``.safetensors`` file, run folder or exported ``.onnx`` file of a sound model (and its bank, if beside)."""
        from seqvision.export.onnx import clip_to_onnx

        def outputs(meta: dict[str, Any]) -> int:
            return int(meta["sound"]["steps"]) * int(meta["sound"]["bands"])

        model, meta, path, session = load_network(
            name_or_path,
            backend,
            threads,
            classes=outputs,
            export=lambda m, _: clip_to_onnx(m, output="features"),
            task="sound",
        )
        try:
            s = meta["sound"]
            features = Features(int(s["rate"]), int(s["bands"]), int(s["steps"]), int(s["n_fft"]))
            predictor = cls(model, meta, features, path, session)
            if predictor.size < 1 or len(predictor.mean) != features.bands:
                raise ValueError(f"input {meta['input']}, {len(s['mean'])} mean bands")
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path}: model metadata is corrupt ({str(exc).splitlines()[0][:120]})") from None
        bank = path.parent / str(meta["sound"].get("bank", ""))
        if bank.is_file() and bank.suffix == ".safetensors":
            predictor.bank = Bank.load(bank)
        return predictor

    def prepare(self, path: Path) -> tuple[np.ndarray, ClipInfo]:
        """Every frame of the clip as the model was trained on them ``(T, 3, S, S)``; its audio is never read."""
        info = probe_video(SoundSample(path, str(path), str(path)))
        return decode(path, list(range(info.frames)), self.size), info

    def _records(self, batch: list[tuple[Path, np.ndarray, ClipInfo]]) -> list[SoundPrediction]:
        out = self.run(*pad_clips([a for _, a, _ in batch]))
        bands = self.features.bands
        return [
            SoundPrediction(p, out[i, : len(a)].reshape(-1, bands), info.fps, len(a))  # (T, steps*M) -> (T*steps, M)
            for i, (p, a, info) in enumerate(batch)
        ]

    def predict(self, paths: list[Path], batch_size: int = 4) -> list[SoundPrediction]:
        """Predict the sound of each clip; raises on the first unreadable one (see :meth:`predict_many`)."""
        items = [(Path(p), *self.prepare(Path(p))) for p in paths]
        out: list[SoundPrediction] = []
        for start in range(0, len(items), batch_size):
            out += self._records(items[start : start + batch_size])
        return out

    def predict_many(
        self, paths: list[Path], batch_size: int = 4, workers: int = 2
    ) -> Iterator[tuple[int, SoundPrediction | SeqvisionError]]:
        """Yield ``(i, prediction)`` or ``(i, error)`` per clip; decoding runs on threads ahead of the model."""

        def infer(batch: list[tuple[int, tuple[np.ndarray, ClipInfo]]]) -> list[SoundPrediction]:
            return self._records([(paths[j], a, info) for j, (a, info) in batch])

        return prefetch_batches(paths, self.prepare, infer, batch_size, workers, "seqvision-sound")

    def griffin_lim(self, record: SoundPrediction, iterations: int = 32) -> np.ndarray:
        """The predicted sound as a waveform at ``features.rate``, by Griffin-Lim."""
        return self.features.waveform(record.features, record.fps, iterations)

    def retrieve(self, record: SoundPrediction) -> tuple[np.ndarray, str, float] | None:
        """The nearest training sound (samples cut or padded to the clip's length), its source and distance."""
        if self.bank is None:
            return None
        i, dist = self.bank.nearest(record.features)
        length = round(record.frames / record.fps * self.features.rate)
        wave = self.bank.waves[i, : min(int(self.bank.wave_lengths[i]), length)]
        return np.pad(wave, (0, length - len(wave))), self.bank.sources[i], dist

    def to_json(self, record: SoundPrediction) -> dict[str, Any]:
        """Duration, detected onsets (s), loudest band per sound frame summary, nearest training sound."""
        rate = record.fps * self.features.steps
        out: dict[str, Any] = {
            "frames": record.frames,
            "seconds": round(record.frames / record.fps, 4),
            "onsets": [round(float(t), 3) for t in onsets(record.features, rate)],
            "level": [round(float(v), 3) for v in np.log(np.exp(record.features.astype(np.float64)).sum(1))],
        }
        if self.bank is not None:
            i, dist = self.bank.nearest(record.features)
            out["nearest"] = {"source": self.bank.sources[i], "distance": round(dist, 4)}
        return out
