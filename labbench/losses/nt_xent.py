"""SimCLR's NT-Xent, with keys that may be gathered from every rank."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def nt_xent(
    z1: Tensor,
    z2: Tensor,
    temperature: float = 0.5,
    *,
    z1_all: Tensor | None = None,
    z2_all: Tensor | None = None,
    rank: int = 0,
) -> Tensor:
    """NT-Xent (Chen et al. 2020, "A Simple Framework for Contrastive Learning", eq. 1).

    Over the 2N views, ``ℓ(i, j) = -log( exp(sim(i,j)/τ) / Σ_{k≠i} exp(sim(i,k)/τ) )`` with cosine
    ``sim``; the loss is the mean of ℓ over both directions of every positive pair.

    Under DDP, pass this rank's ``z1``, ``z2`` (B×D) and the keys gathered from all ranks in rank
    order, ``z1_all``, ``z2_all`` (world·B×D, e.g. :func:`labbench.distributed.gather_with_grad`):
    the 2B local queries are scored against all 2·world·B keys, so negatives grow with world size
    and the mean over ranks equals the single-process loss on the whole batch.

    Examples:
        >>> z = torch.eye(4)
        >>> round(nt_xent(z, z, temperature=0.5).item(), 4)
        0.5944
    """
    if (z1_all is None) != (z2_all is None):
        raise ValueError("nt_xent: pass both z1_all and z2_all (keys gathered from every rank) or neither")
    if z1_all is None or z2_all is None:
        z1_all, z2_all = z1, z2
    b, m = z1.shape[0], z1_all.shape[0]
    queries = F.normalize(torch.cat([z1, z2]), dim=1)
    keys = F.normalize(torch.cat([z1_all, z2_all]), dim=1)
    logits = queries @ keys.T / temperature

    # This rank's samples sit at rows rank·B … rank·B+B-1 of each gathered view.
    local = torch.arange(b, device=z1.device) + rank * b
    self_cols = torch.cat([local, local + m])
    positive_cols = torch.cat([local + m, local])
    is_self = torch.zeros_like(logits, dtype=torch.bool)
    is_self[torch.arange(2 * b, device=z1.device), self_cols] = True
    return F.cross_entropy(logits.masked_fill(is_self, float("-inf")), positive_cols)
