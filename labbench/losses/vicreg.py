"""VICReg: invariance, variance and covariance terms."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def _variance(z: Tensor, eps: float) -> Tensor:
    # A hinge on the std (not the variance) keeps the gradient alive near collapse.
    return F.relu(1 - torch.sqrt(z.var(dim=0) + eps)).mean()


def _covariance(z: Tensor) -> Tensor:
    n, d = z.shape
    z = z - z.mean(dim=0)
    cov = z.T @ z / (n - 1)
    off_diagonal = ~torch.eye(d, dtype=torch.bool, device=z.device)
    return cov[off_diagonal].pow(2).sum() / d


def vicreg_terms(z1: Tensor, z2: Tensor, eps: float = 1e-4) -> dict[str, Tensor]:
    """The three unweighted VICReg terms (Bardes et al. 2022, eqs. 1–5), for plots.

    ``invariance`` = MSE(z1, z2); ``variance`` = mean over dims of ``max(0, 1 - sqrt(Var + eps))``,
    averaged over the two branches; ``covariance`` = sum of squared off-diagonal covariances / d,
    summed over the two branches. ``z1``, ``z2``: N×d with N > 1.

    Examples:
        >>> z = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
        >>> {name: round(t.item(), 3) for name, t in vicreg_terms(z, z).items()}
        {'invariance': 0.0, 'variance': 0.495, 'covariance': 0.0}
    """
    return {
        "invariance": F.mse_loss(z1, z2),
        "variance": (_variance(z1, eps) + _variance(z2, eps)) / 2,
        "covariance": _covariance(z1) + _covariance(z2),
    }


def vicreg(
    z1: Tensor,
    z2: Tensor,
    sim_weight: float = 25.0,
    var_weight: float = 25.0,
    cov_weight: float = 1.0,
    eps: float = 1e-4,
) -> Tensor:
    """VICReg loss (Bardes et al. 2022): ``λ·invariance + μ·variance + ν·covariance``.

    Paper defaults λ = μ = 25, ν = 1; the terms are those of :func:`vicreg_terms`.

    Examples:
        >>> z = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
        >>> round(vicreg(z, z).item(), 3)
        12.375
    """
    terms = vicreg_terms(z1, z2, eps)
    return sim_weight * terms["invariance"] + var_weight * terms["variance"] + cov_weight * terms["covariance"]
