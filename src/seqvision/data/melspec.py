"""Log-mel spectrograms with numpy: Slaney-style mel filters, Hann-windowed frames at chosen centres or a fixed hop.

Shared by the tasks that hear (sound features per video frame, the audio stream of emotion).

>>> import numpy as np
>>> log_mel(np.zeros(1600, np.float32), 16000, n_fft=512, hop=160, bands=8).shape
(11, 8)
"""

from __future__ import annotations

import numpy as np

FLOOR = 1e-3  # added before the log: silence is log(1e-3) = -6.9


def mel_filterbank(rate: int, n_fft: int, bands: int, low: float = 40.0) -> np.ndarray:
    """``(bands, n_fft // 2 + 1)`` triangles evenly spaced on the mel scale, each normalised to unit area."""
    mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # noqa: E731
    hz = lambda m: 700.0 * (10.0 ** (m / 2595.0) - 1.0)  # noqa: E731
    edges = hz(np.linspace(mel(low), mel(rate / 2), bands + 2))
    freqs = np.linspace(0, rate / 2, n_fft // 2 + 1)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    tri = np.maximum(0.0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))
    return tri * (2.0 / (hi - lo))


def log_mel_at(samples: np.ndarray, centres: np.ndarray, n_fft: int, filterbank: np.ndarray) -> np.ndarray:
    """``(N, bands)`` log-mel frames of windows centred at sample ``centres`` (zeros outside the samples)."""
    half = n_fft // 2
    padded = np.pad(samples.astype(np.float32), (half, half))
    starts = np.clip(centres, 0, len(samples))  # a window centred at sample c is padded[c : c + n_fft]
    idx = starts[:, None] + np.arange(n_fft)[None, :]  # (N, n_fft)
    spec = np.abs(np.fft.rfft(padded[idx] * np.hanning(n_fft), axis=1))  # (N, n_fft) -> (N, F)
    return np.log(FLOOR + spec @ filterbank.T).astype(np.float32)  # (N, F) @ (F, M) -> (N, M)


def log_mel(samples: np.ndarray, rate: int, n_fft: int, hop: int, bands: int) -> np.ndarray:
    """``(1 + len(samples) // hop, bands)`` log-mel frames, one every ``hop`` samples from sample 0."""
    centres = np.arange(0, len(samples) + 1, hop, dtype=np.int64)
    return log_mel_at(samples, centres, n_fft, mel_filterbank(rate, n_fft, bands))
