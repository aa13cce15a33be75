"""UMAP through labbench: points kept in order, epochs reported, cancel honoured (numba compiles once: slow)."""

import numpy as np
import pytest
import torch

from labbench.evaluate.projection import project


@pytest.mark.slow
def test_umap_keeps_the_points_reports_its_epochs_and_cancels():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(90) % 3
    x = torch.randn(3, 16, generator=g)[labels] * 4 + torch.randn(90, 16, generator=g)
    seen = []
    result = project(x, "umap", labels, progress=lambda d, t: seen.append((d, t)) or True)
    assert result.points.shape == (90, 2) and np.array_equal(result.labels, labels.numpy())
    assert any(t > 1 for _, t in seen) and seen[-1] == (1, 1)
    with pytest.raises(InterruptedError):
        project(x, "umap", progress=lambda d, t: False)
