"""CPC's InfoNCE over a bilinear score matrix."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def cpc_info_nce(predictions: Tensor, targets: Tensor) -> Tensor:
    """CPC's InfoNCE for one prediction offset k (van den Oord et al. 2018; Hénaff et al. 2020).

    ``predictions`` are ``W_k c_t`` and ``targets`` the encodings ``z_{t+k}``, both B×T×D, restricted
    by the caller to the T positions whose target exists. The score of a pair is the bilinear
    ``z_{t+k}ᵀ W_k c_t``; every (image, position) is a query whose positive is its own target and
    whose negatives are the targets at the other positions of the same and of the other images:
    cross-entropy over the (B·T)×(B·T) score matrix with the diagonal as labels.

    Examples:
        >>> z = torch.eye(4).reshape(1, 4, 4) * 10
        >>> cpc_info_nce(z, z).item() < 1e-3
        True
    """
    d = predictions.shape[-1]
    scores = predictions.reshape(-1, d) @ targets.reshape(-1, d).T
    return F.cross_entropy(scores, torch.arange(scores.shape[0], device=scores.device))
