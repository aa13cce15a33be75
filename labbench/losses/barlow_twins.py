"""Barlow Twins: push the cross-correlation matrix of two views towards the identity."""

from __future__ import annotations

import torch
from torch import Tensor

# BatchNorm1d's eps: the paper standardises with a non-affine batch norm layer.
_BN_EPS = 1e-5


def _standardize(z: Tensor) -> Tensor:
    return (z - z.mean(dim=0)) / torch.sqrt(z.var(dim=0, unbiased=False) + _BN_EPS)


def barlow_twins(z1: Tensor, z2: Tensor, lambda_offdiag: float = 5e-3) -> Tensor:
    """Barlow Twins loss (Zbontar et al. 2021, eq. 1 and Algorithm 1).

    ``C = z̃1ᵀ z̃2 / N`` with z̃ standardised over the batch;
    ``L = Σ_i (1 - C_ii)² + λ Σ_{i≠j} C_ij²``, paper default λ = 5e-3.

    Examples:
        >>> z = torch.tensor([[1.0, 2.0], [-1.0, -2.0]])
        >>> round(barlow_twins(z, z).item(), 3)
        0.01
    """
    d = z1.shape[1]
    c = _standardize(z1).T @ _standardize(z2) / z1.shape[0]
    off_diagonal = ~torch.eye(d, dtype=torch.bool, device=c.device)
    return (torch.diagonal(c) - 1).pow(2).sum() + lambda_offdiag * c[off_diagonal].pow(2).sum()
