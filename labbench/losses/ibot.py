"""iBOT's masked-patch self-distillation."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from labbench.losses.dino import teacher_distribution


def ibot_patch_loss(
    student_patch_logits: Tensor,
    teacher_patch_logits: Tensor,
    mask: Tensor,
    center: Tensor,
    student_temp: float = 0.1,
    teacher_temp: float = 0.04,
) -> Tensor:
    """iBOT patch loss (Zhou et al. 2022, eq. 2) in DINOv2's direction (Oquab et al. 2023).

    The student sees the masked image, the teacher the full one; at every masked patch the student
    predicts the teacher's centred, sharpened distribution: ``-Σ P_t log P_s``, mean over each
    image's masked patches, then mean over images (an image with no masked patch adds 0).
    Logits: B×N×K; ``mask``: B×N, True where the student's patch was masked; ``center``: the
    patch-token centre, kept apart from DINO's [CLS] centre and updated with ``update_center``.

    Examples:
        >>> logits = torch.zeros(1, 2, 4); mask = torch.tensor([[True, False]])
        >>> round(ibot_patch_loss(logits, logits, mask, center=torch.zeros(4)).item(), 4)  # log 4
        1.3863
    """
    teacher_probs = teacher_distribution(teacher_patch_logits, center, teacher_temp)
    student_log_probs = F.log_softmax(student_patch_logits / student_temp, dim=-1)
    cross_entropy = -(teacher_probs * student_log_probs).sum(dim=-1)
    weights = mask.to(cross_entropy.dtype)
    per_image = (cross_entropy * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
    return per_image.mean()
