"""SimCLR's 2N×2N cosine-similarity matrix for a real batch (Chen et al. 2020, §2.1, Fig. 2).

Rows and columns are the first views of the N images, then their second views, as NT-Xent
orders them: the positive of row i is column i ± N, and the other 2N − 2 entries of the row are
its negatives. A trained encoder shows two bright off-diagonals on a darker field.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from labbench.evaluate.pairs import embed_views, two_views
from labbench.models.modes import eval_mode


@dataclass
class AffinityMatrix:
    """``similarity`` 2N×2N float32 cosine similarities; ``positives`` 2N×2 (row, column) of each row's
    positive; ``indices`` N, which images of the set were drawn; ``space`` what was compared."""

    similarity: np.ndarray
    positives: np.ndarray
    indices: np.ndarray
    space: str

    @property
    def batch_size(self) -> int:
        return len(self.indices)

    def positive_mask(self) -> np.ndarray:
        """Bool 2N×2N, True at each row's positive."""
        mask = np.zeros(self.similarity.shape, dtype=bool)
        mask[self.positives[:, 0], self.positives[:, 1]] = True
        return mask


def positive_pairs(n: int) -> np.ndarray:
    """(row, column) of every row's positive in a 2N×2N matrix: i ↔ i + N."""
    rows = np.arange(2 * n)
    return np.stack([rows, (rows + n) % (2 * n)], axis=1)


def affinity_matrix(
    method: nn.Module,
    images: Tensor,
    batch_size: int = 32,
    *,
    space: str = "projection",
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> AffinityMatrix:
    """Cosine similarities of two views each of ``batch_size`` images drawn (by ``seed``) from uint8 ``images``.

    ``space``: ``projection`` (the method's head output — what NT-Xent compares; the encoder's
    features when it has none) or ``encoder``.
    """
    if batch_size < 2:
        raise ValueError(f"batch_size: needs at least 2 images (got {batch_size})")
    batch_size = min(batch_size, images.shape[0])
    indices = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(seed))[:batch_size].sort().values
    device = torch.device(device)
    g = torch.Generator(device=device).manual_seed(seed)
    with eval_mode(method), torch.no_grad():
        z1, z2, used = embed_views(method, two_views(method, images[indices].to(device), g), space)
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    return AffinityMatrix((z @ z.T).cpu().numpy(), positive_pairs(batch_size), indices.numpy(), used)
