"""Collapse and quality statistics of embeddings, read by the training monitors."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def embedding_std(z: Tensor) -> Tensor:
    """Std over the batch of L2-normalised embeddings, mean over dims (SimSiam, Chen & He 2021, §4.1).

    About ``1/√d`` for healthy, spread embeddings; 0 when every input maps to the same point.

    Examples:
        >>> embedding_std(torch.ones(8, 4)).item()
        0.0
    """
    return F.normalize(z, dim=1).std(dim=0).mean()


def effective_rank(z: Tensor, eps: float = 1e-7) -> Tensor:
    """RankMe (Garrido et al. 2023): ``exp(-Σ p_k log p_k)``, ``p = σ / ‖σ‖₁ + ε``, σ the singular values.

    Between 1 (all embeddings on one line) and min(N, d) (every direction used equally).

    Examples:
        >>> round(effective_rank(torch.eye(4)).item(), 3)
        4.0
    """
    s = torch.linalg.svdvals(z.float())
    p = s / s.sum() + eps
    return torch.exp(-(p * p.log()).sum())


def alignment(z1: Tensor, z2: Tensor, alpha: float = 2) -> Tensor:
    """Alignment (Wang & Isola 2020, eq. 2): ``E ‖f(x) - f(y)‖^α`` over positive pairs on the unit sphere.

    0 when both views map to the same point; 4 (α = 2) when they are antipodal.

    Examples:
        >>> z = torch.tensor([[1.0, 0.0]])
        >>> alignment(z, z).item(), alignment(z, -z).item()
        (0.0, 4.0)
    """
    return (F.normalize(z1, dim=1) - F.normalize(z2, dim=1)).norm(dim=1).pow(alpha).mean()


def uniformity(z: Tensor, t: float = 2) -> Tensor:
    """Uniformity (Wang & Isola 2020, eq. 3): ``log E exp(-t ‖f(x) - f(y)‖²)`` over distinct pairs.

    0 when collapsed to one point; lower (about -2t in high dimension) when spread over the sphere.

    Examples:
        >>> uniformity(torch.tensor([[1.0, 0.0], [-1.0, 0.0]])).item()  # two antipodal points
        -8.0
    """
    z = F.normalize(z, dim=1)
    # Squared distances from the Gram matrix: unlike pdist, the gradient stays finite
    # where points coincide (exactly the collapsed case a monitor must survive).
    sq_dist = (2 - 2 * z @ z.T).clamp(min=0)
    i, j = torch.triu_indices(len(z), len(z), offset=1, device=z.device)
    return torch.logsumexp(-t * sq_dist[i, j], dim=0) - math.log(len(i))
