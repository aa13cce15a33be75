"""BYOL's and SimSiam's regression of a prediction onto a stop-gradient target."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def negative_cosine(p: Tensor, z: Tensor) -> Tensor:
    """SimSiam's ``D(p, z) = -cos(p, stopgrad(z))``, mean over the batch (Chen & He 2021).

    Lies in [-1, 1]; equals lightly's ``NegativeCosineSimilarity``. BYOL's per-pair form is
    ``‖p̄ - z̄‖² = 2 - 2·cos(p, z) = 2 + 2·negative_cosine(p, z)`` (see :func:`byol_loss`).
    No gradient flows into ``z``, the target.

    Examples:
        >>> p = torch.tensor([[1.0, 0.0]]); z = torch.tensor([[3.0, 0.0]])
        >>> negative_cosine(p, z).item()
        -1.0
    """
    return -F.cosine_similarity(p, z.detach(), dim=-1).mean()


def byol_loss(p1: Tensor, p2: Tensor, z1: Tensor, z2: Tensor) -> Tensor:
    """BYOL's symmetrised loss (Grill et al. 2020, eq. 2 and L_total = L + L̃).

    ``(2 - 2·cos(p1, z2)) + (2 - 2·cos(p2, z1))``, mean over the batch: online predictions of one
    view regress the target projections of the other. Lies in [0, 8];
    ``= 4 + 2·(negative_cosine(p1, z2) + negative_cosine(p2, z1))``.

    Examples:
        >>> p = torch.tensor([[1.0, 0.0]])
        >>> byol_loss(p, p, p, p).item(), byol_loss(p, p, -p, -p).item()
        (0.0, 8.0)
    """
    return 4 + 2 * (negative_cosine(p1, z2) + negative_cosine(p2, z1))
