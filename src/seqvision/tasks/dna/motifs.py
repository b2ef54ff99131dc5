"""First-layer filters of a DNA/RNA model as position weight matrices, written in MEME's minimal motif format.

PWMs are activation-based, as in DanQ and Basset (Kelley et al. 2016): every window of the given
sequences on which a filter's activation exceeds half of that filter's maximum over all of them
is collected, and the base frequencies at each position of those windows form the filter's
probability matrix (``nsites`` = the number of windows). Unlike a softmax of the raw weights,
this needs no arbitrary temperature and reflects what the filter responds to in real data (a
weight on a base that never occurs in an activating window carries no evidence). Filters that
never activate are left out. N counts 0.25 towards each base; padding never counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from seqvision.errors import ConfigError
from seqvision.nn.encoders.onehot import MotifEncoder
from seqvision.nn.masking import length_mask
from seqvision.nn.model import SeqModel
from seqvision.tasks.dna.batches import collate_sequences, one_hot
from seqvision.tasks.dna.bio import SeqRecord


@dataclass
class Motif:
    name: str
    probabilities: np.ndarray  # (w, 4): rows sum to 1, columns A C G T/U
    sites: int


def _batches(records: list[SeqRecord], batch_size: int):
    for start in range(0, len(records), batch_size):
        chunk = records[start : start + batch_size]
        yield collate_sequences([(one_hot(r.sequence), np.zeros(0, np.float32)) for r in chunk])


@torch.no_grad()
def filter_motifs(
    model: SeqModel, records: list[SeqRecord], threshold: float = 0.5, batch_size: int = 128
) -> tuple[list[Motif], np.ndarray]:
    """Activation-based PWMs of the model's motif filters over ``records``, and the background base frequencies."""
    encoder = model.encoder
    if not isinstance(encoder, MotifEncoder):
        raise ConfigError("motifs need a model with the onehot-cnn1d encoder (trained with --task dna)")
    conv = encoder.motifs
    width, pad = conv.kernel[1], conv.padding[1]

    def activations(batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        x = batch["images"]  # (B, 4, 1, L), padding already zero
        act = conv(x)[:, :, 0, :]  # (B, 4, 1, L) -> (B, F, L')
        lengths = conv.out_length(batch["widths"])
        return act * length_mask(lengths, act.shape[-1])[:, None, :], x[:, :, 0, :]

    peak = torch.zeros(conv.conv.out_channels)
    background = np.zeros(4)
    for batch in _batches(records, batch_size):
        act, x = activations(batch)
        peak = torch.maximum(peak, act.amax(dim=(0, 2)))
        background += x.sum(dim=(0, 2)).numpy()
    counts = torch.zeros(conv.conv.out_channels, width, 4, dtype=torch.float64)
    sites = torch.zeros(conv.conv.out_channels, dtype=torch.int64)
    for batch in _batches(records, batch_size):
        act, x = activations(batch)
        hits = (act > threshold * peak[None, :, None]) & (peak[None, :, None] > 0)  # (B, F, L')
        # (B, 4, L) -> (B, 4, L', w): the input window each output position of the convolution saw
        windows = F.pad(x, (pad, pad)).unfold(2, width, 1)[:, :, : act.shape[-1]]
        counts += torch.einsum("bfl,bclw->fwc", hits.double(), windows.double())
        sites += hits.sum(dim=(0, 2))
    motifs = []
    for f in range(len(sites)):
        if sites[f] == 0:
            continue
        rows = counts[f].numpy()
        totals = rows.sum(1, keepdims=True)  # windows at a sequence edge hang over the padding: fewer counts
        probabilities = np.where(totals > 0, rows / np.maximum(totals, 1e-12), 0.25)
        motifs.append(Motif(f"filter{f + 1}", probabilities, int(sites[f])))
    return motifs, background / max(background.sum(), 1e-12)


def meme_text(motifs: list[Motif], background: np.ndarray, rna: bool = False) -> str:
    """MEME minimal motif format (version 4): DNA with both strands, or RNA (ACGU, + strand only)."""
    alphabet = "ACGU" if rna else "ACGT"
    lines = ["MEME version 4", "", f"ALPHABET= {alphabet}", ""]
    if not rna:
        lines += ["strands: + -", ""]
    background = np.asarray(background, dtype=np.float64)
    background = background / background.sum() if background.sum() > 0 else np.full(4, 0.25)
    frequencies = " ".join(f"{b} {p:.4f}" for b, p in zip(alphabet, background, strict=True))
    lines += ["Background letter frequencies", frequencies, ""]
    for motif in motifs:
        w = len(motif.probabilities)
        lines.append(f"MOTIF {motif.name}")
        lines.append(f"letter-probability matrix: alength= 4 w= {w} nsites= {motif.sites} E= 0")
        lines += [" ".join(f"{p:.6f}" for p in row) for row in motif.probabilities]
        lines.append("")
    return "\n".join(lines) + "\n"
