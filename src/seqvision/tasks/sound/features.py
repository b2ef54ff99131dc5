"""Sound features on the video's clock, and back to a waveform: log-mel frames, mel -> linear, Griffin-Lim, .wav.

Each video frame ``k`` (at ``k / fps``) gets ``steps`` sound frames centred at
``(k + (j + 0.5) / steps) / fps``: a Hann-windowed ``n_fft`` STFT frame, its magnitude on ``bands``
mel bands (Slaney-style triangles), ``log(1e-3 + m)``. The way back inverts the mel filterbank by
least squares (non-negative), then runs Griffin-Lim with a hop of one sound frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqvision.config import SoundConfig
from seqvision.data.audio import Soundtrack, write_wav
from seqvision.data.melspec import FLOOR, log_mel_at, mel_filterbank


@dataclass(frozen=True)
class Features:
    """How sound becomes the model's targets; saved in the model's metadata under ``sound``."""

    rate: int
    bands: int
    steps: int
    n_fft: int

    @classmethod
    def of(cls, cfg: SoundConfig) -> Features:
        return cls(cfg.rate, cfg.bands, cfg.steps, cfg.n_fft)

    def to_dict(self) -> dict[str, int]:
        return {"rate": self.rate, "bands": self.bands, "steps": self.steps, "n_fft": self.n_fft}

    def hop(self, fps: float) -> int:
        """Samples between sound frames (rounded): the Griffin-Lim hop."""
        return max(1, round(self.rate / (fps * self.steps)))

    def filterbank(self) -> np.ndarray:
        """``(bands, n_fft // 2 + 1)`` triangular mel filters between 40 Hz and the Nyquist frequency."""
        return mel_filterbank(self.rate, self.n_fft, self.bands)

    def of_track(self, track: Soundtrack, frames: int, fps: float) -> np.ndarray:
        """``(frames * steps, bands)`` log-mel features of ``track`` for video frames ``0 .. frames - 1``."""
        times = (np.arange(frames * self.steps) + 0.5) / (fps * self.steps)  # sound frame centres, video clock
        centres = np.round((times - track.offset) * self.rate).astype(np.int64)
        return self.log_mel(track.samples, centres)

    def log_mel(self, samples: np.ndarray, centres: np.ndarray) -> np.ndarray:
        """Log-mel frames of windows centred at sample ``centres`` (zeros outside the samples)."""
        return log_mel_at(samples, centres, self.n_fft, self.filterbank())

    def waveform(self, log_mel: np.ndarray, fps: float, iterations: int = 32, seed: int = 0) -> np.ndarray:
        """Griffin-Lim: ``(N, bands)`` log-mel -> mono samples at ``rate``, ``N`` hops long."""
        mel = np.maximum(np.exp(log_mel.astype(np.float64)) - FLOOR, 0.0)
        fb = self.filterbank()
        linear = np.maximum(mel @ np.linalg.pinv(fb).T, 0.0)  # (N, M) @ (M, F) -> (N, F)
        hop = self.hop(fps)
        wave = griffin_lim(linear, self.n_fft, hop, iterations, seed)  # frame j centred at j * hop
        return np.pad(wave, (hop // 2, 0))[: len(wave)]  # ... moved to (j + 0.5) * hop, where it was measured


def _stft(x: np.ndarray, n_fft: int, hop: int, frames: int) -> np.ndarray:
    window = np.hanning(n_fft)
    padded = np.pad(x, (n_fft // 2, n_fft))
    idx = np.arange(frames)[:, None] * hop + np.arange(n_fft)[None, :]
    return np.fft.rfft(padded[idx] * window, axis=1)  # (N, F) complex


def _istft(spec: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    window = np.hanning(n_fft)
    frames = np.fft.irfft(spec, n=n_fft, axis=1) * window  # (N, n_fft)
    length = len(spec) * hop + n_fft
    out, norm = np.zeros(length), np.zeros(length)
    for i, frame in enumerate(frames):  # overlap-add, normalised by the summed squared windows
        out[i * hop : i * hop + n_fft] += frame
        norm[i * hop : i * hop + n_fft] += window**2
    out /= np.maximum(norm, 1e-8)
    return out[n_fft // 2 : n_fft // 2 + len(spec) * hop]


def griffin_lim(magnitude: np.ndarray, n_fft: int, hop: int, iterations: int = 32, seed: int = 0) -> np.ndarray:
    """A waveform whose STFT magnitude approaches ``magnitude`` ``(N, n_fft // 2 + 1)`` (Griffin & Lim 1984)."""
    rng = np.random.default_rng(seed)
    phase = np.exp(2j * np.pi * rng.random(magnitude.shape))
    x = _istft(magnitude * phase, n_fft, hop)
    for _ in range(iterations):
        spec = _stft(x, n_fft, hop, len(magnitude))
        x = _istft(magnitude * np.exp(1j * np.angle(spec)), n_fft, hop)
    return x.astype(np.float32)


__all__ = ["FLOOR", "Features", "griffin_lim", "mel_filterbank", "write_wav"]  # the last two are shared ones
