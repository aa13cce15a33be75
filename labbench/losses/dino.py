"""DINO: self-distillation between a centred, sharpened teacher and a student over multi-crop views."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def teacher_distribution(teacher_out: Tensor, center: Tensor, teacher_temp: float) -> Tensor:
    """DINO's teacher targets (Caron et al. 2021, §3.1): ``softmax((t - c) / τ_t)``, no gradient.

    Centring stops one dimension from dominating; the low temperature sharpens. Together they
    keep the teacher away from both collapses (one-hot and uniform).

    Examples:
        >>> t = torch.tensor([[5.0, 0.0, 0.0]])
        >>> teacher_distribution(t, center=t, teacher_temp=0.04)
        tensor([[0.3333, 0.3333, 0.3333]])
    """
    return F.softmax((teacher_out.detach() - center) / teacher_temp, dim=-1)


def dino_loss(
    student_out: Sequence[Tensor],
    teacher_out: Sequence[Tensor],
    center: Tensor,
    student_temp: float = 0.1,
    teacher_temp: float = 0.04,
) -> Tensor:
    """DINO loss (Caron et al. 2021, eq. 3 and ``DINOLoss`` in main_dino.py).

    ``H(P_t, P_s) = -Σ P_t log P_s`` between the teacher's view ``i`` (the global crops only) and
    the student's view ``j`` for every pair ``i ≠ j``, mean over the batch, then mean over pairs.
    ``student_out`` lists all views (B×K each) with the global crops first, in the teacher's order.

    Examples:
        >>> s = [torch.zeros(2, 4)] * 3; t = [torch.zeros(2, 4)] * 2
        >>> round(dino_loss(s, t, center=torch.zeros(4)).item(), 4)  # log 4
        1.3863
    """
    teacher_probs = [teacher_distribution(t, center, teacher_temp) for t in teacher_out]
    student_log_probs = [F.log_softmax(s / student_temp, dim=-1) for s in student_out]
    terms = [
        -(t * s).sum(dim=-1).mean()
        for i, t in enumerate(teacher_probs)
        for j, s in enumerate(student_log_probs)
        if i != j
    ]
    if not terms:
        raise ValueError("dino_loss needs at least two views in total: a view is never compared with itself")
    return torch.stack(terms).mean()


@torch.no_grad()
def update_center(center: Tensor, teacher_out: Tensor | Sequence[Tensor], momentum: float = 0.9) -> Tensor:
    """DINO's centre update (Caron et al. 2021, eq. 4): ``c ← m·c + (1 - m)·mean(teacher outputs)``.

    Pure: returns the new centre (same shape as ``center``); the mean runs over every view and
    batch row of ``teacher_out`` (…×K). Under DDP the caller averages the result over ranks
    (``labbench.distributed.all_reduce_mean``), which equals DINO's all-reduced batch centre.

    Examples:
        >>> update_center(torch.zeros(2), [torch.ones(3, 2)], momentum=0.9)
        tensor([0.1000, 0.1000])
    """
    views = [teacher_out] if isinstance(teacher_out, Tensor) else teacher_out
    batch_center = torch.cat([v.reshape(-1, v.shape[-1]) for v in views]).mean(dim=0)
    return center * momentum + batch_center * (1 - momentum)
