"""Distilling a text-line model (``train.teacher``): a trained model's frame posteriors as a second target.

A leaner student learns from the CTC loss on the transcriptions and, beside it, from the KL
divergence between the teacher's per-frame distribution over the alphabet and its own (Hinton et
al. 2015; frame-wise distillation of CTC models, Takashima et al. 2018). That is how a fast model
is trained to read like a slower, more accurate one in fewer steps than from the labels alone.

Both must read the same frames: the same input height and time stride (the teacher sees the
student's batch as it is, augmentation included). The student's characters must all be the
teacher's; the teacher's distribution is taken over the student's classes and renormalised.

``train.distill_features`` adds a hint loss (FitNets, Romero et al. 2015): the student's encoder
output is pulled towards the teacher's, frame by frame, which needs the same feature width. A
student that takes over the teacher's sequence model and head (``init`` the teacher with
``init_partial``) then only has to learn an encoder that feeds them, a dense regression target that
converges in far fewer steps than CTC from the transcriptions alone.
"""

from __future__ import annotations

import torch
from torch import Tensor

from seqvision.data.alphabet import Alphabet
from seqvision.errors import ConfigError
from seqvision.nn.model import SeqModel


class Teacher:
    """A frozen model in eval mode whose log-probabilities are mapped onto the student's alphabet.

    Not an ``nn.Module`` attribute of the training module on purpose: its weights stay out of the
    run's checkpoints and the optimiser.
    """

    def __init__(self, model: SeqModel, alphabet: Alphabet, height: int, name: str):
        self.model, self.alphabet = model.eval().requires_grad_(False), alphabet
        self.height, self.name = height, name
        self.columns: Tensor | None = None

    @classmethod
    def load(cls, name_or_path: str) -> Teacher:
        from seqvision.tasks.lines.predictor import Recognizer

        recognizer = Recognizer.load(name_or_path, "torch")
        assert recognizer.model is not None  # torch backend
        return cls(recognizer.model, recognizer.alphabet, recognizer.height, str(recognizer.path))

    def check(self, student: SeqModel, alphabet: Alphabet, height: int) -> None:
        """The student must read the teacher's frames and characters; a :class:`ConfigError` says what differs."""
        if self.height != height:
            raise ConfigError(
                f"train.teacher {self.name}: reads {self.height}-px lines, this run {height} px; "
                f"use model.height={self.height}"
            )
        strides = (self.model.encoder.time_stride, student.encoder.time_stride)
        if strides[0] != strides[1]:
            raise ConfigError(
                f"train.teacher {self.name}: time stride {strides[0]}, the student's {strides[1]}: "
                "frame-wise distillation needs the same frames"
            )
        index = self.alphabet.index  # character -> the teacher's class (the blank is class 0 in both)
        missing = [c for c in alphabet.chars if c not in index]
        if missing:
            shown = " ".join(repr(c) for c in missing[:8])
            raise ConfigError(
                f"train.teacher {self.name}: lacks {len(missing)} of this run's characters ({shown}); "
                "train on its alphabet (--init it with --alphabet keep, or drop those lines)"
            )
        self.columns = torch.tensor([Alphabet.BLANK, *(index[c] for c in alphabet.chars)])

    def check_features(self, student: SeqModel) -> None:
        """``train.distill_features`` needs encoder outputs of one width; a :class:`ConfigError` says which differ.

        The widths are the encoders' declared ``out_channels`` (at the one height :meth:`check` requires).
        """
        widths = (self.model.encoder.out_channels, student.encoder.out_channels)
        if widths[0] != widths[1]:
            raise ConfigError(
                f"train.distill_features: the teacher {self.name}'s encoder gives {widths[0]} features per "
                f"frame, this run's {widths[1]}; choose the encoder's channels so that they match"
            )

    @torch.no_grad()
    def log_probs(self, images: Tensor, widths: Tensor) -> tuple[Tensor, Tensor]:
        """The teacher's ``(B, T, K)`` log-probabilities over the student's K classes (renormalised), and frames."""
        log_probs, lengths, _ = self.outputs(images, widths)
        return log_probs, lengths

    @torch.no_grad()
    def outputs(self, images: Tensor, widths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """:meth:`log_probs` and the teacher's ``(B, T, C)`` encoder features, from one forward pass."""
        assert self.columns is not None, "Teacher.check first"
        if next(self.model.parameters()).device != images.device:
            self.model.to(images.device)
        log_probs, lengths, feats = self.model.forward_features(images, widths)
        picked = log_probs.float()[..., self.columns.to(images.device)]
        return picked - torch.logsumexp(picked, dim=-1, keepdim=True), lengths, feats


def distill_loss(
    student: Tensor, student_lengths: Tensor, teacher: Tensor, teacher_lengths: Tensor, chars: Tensor
) -> Tensor:
    """KL(teacher || student) summed over the frames both have, divided by the batch's target characters.

    Per character, like the CTC loss with ``reduction="mean"``, so a weight of 1 puts the two on one scale.
    """
    steps = min(student.shape[1], teacher.shape[1])
    lengths = torch.minimum(student_lengths, teacher_lengths).clamp(max=steps)
    s, t = student[:, :steps].float(), teacher[:, :steps]
    per_frame = (t.exp() * (t - s)).sum(-1)  # (B, T)
    valid = torch.arange(steps, device=s.device)[None, :] < lengths[:, None].to(s.device)
    return (per_frame * valid).sum() / chars.sum().clamp(min=1)


def feature_loss(student: Tensor, teacher: Tensor, lengths: Tensor) -> Tensor:
    """Squared distance between the two ``(B, T, C)`` encoder outputs over the valid frames, relative to
    the teacher's squared norm there: 0 is a perfect match, 1 is as far as predicting zeros, whatever
    the features' scale."""
    steps = min(student.shape[1], teacher.shape[1])
    valid = torch.arange(steps, device=student.device)[None, :] < lengths[:, None].to(student.device)
    s, t = student[:, :steps].float(), teacher[:, :steps].float()  # fp32 also under bf16 autocast
    mask = valid[..., None].float()
    return (((s - t) ** 2) * mask).sum() / ((t**2) * mask).sum().clamp(min=1e-6)


__all__ = ["Teacher", "distill_loss", "feature_loss"]
