"""InfoNCE in its two common spellings: from raw similarities (the lecture) and MoCo's queue form."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def info_nce_from_similarities(pos: Tensor, negs: Tensor, temperature: float) -> Tensor:
    """InfoNCE from similarities (van den Oord et al. 2018, "Representation Learning with CPC").

    ``L = -log( exp(s⁺/τ) / (exp(s⁺/τ) + Σ exp(s⁻/τ)) )`` per query, mean over queries.
    ``pos`` has shape ``(...)``, ``negs`` shape ``(..., K)``.

    Examples:
        >>> pos, negs = torch.tensor(0.9), torch.tensor([0.3, 0.1, -0.2])
        >>> round(info_nce_from_similarities(pos, negs, temperature=0.1).item(), 4)
        0.0028
    """
    logits = torch.cat([pos.unsqueeze(-1), negs], dim=-1) / temperature
    # logsumexp keeps exp(s/τ) finite at small τ (s/τ reaches 1/0.07 ≈ 14 and beyond).
    return (torch.logsumexp(logits, dim=-1) - logits[..., 0]).mean()


def info_nce(q: Tensor, k: Tensor, queue: Tensor, temperature: float = 0.07) -> Tensor:
    """MoCo's InfoNCE (He et al. 2020, "Momentum Contrast", Algorithm 1).

    Positive logit ``q·k``, negative logits ``q·queue``, cross-entropy with label 0.
    ``q``, ``k``: B×D (L2-normalised here); ``queue``: K×D keys already normalised (as MoCo enqueues
    them). Keys and queue carry no gradient: they come from the momentum encoder.

    Examples:
        >>> q = torch.tensor([[1.0, 0.0]]); k = torch.tensor([[2.0, 0.0]])
        >>> queue = torch.tensor([[0.0, 1.0], [-1.0, 0.0]])
        >>> round(info_nce(q, k, queue, temperature=1.0).item(), 4)
        0.4076
    """
    q = F.normalize(q, dim=1)
    k = F.normalize(k.detach(), dim=1)
    return info_nce_from_similarities((q * k).sum(dim=1), q @ queue.detach().T, temperature)
