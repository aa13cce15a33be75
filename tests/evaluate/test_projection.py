"""2-D projections keep every point with its label and index; t-SNE and UMAP report progress and cancel."""

import sys

import numpy as np
import pytest
import torch

from labbench.errors import ConfigError
from labbench.evaluate.projection import nearest_neighbours, project


def _features(n=120, dim=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    return torch.randn(3, dim, generator=g)[labels] * 4 + torch.randn(n, dim, generator=g), labels


def test_pca_of_20000_points_keeps_count_labels_and_indices():
    x, labels = _features(20000, 64)
    indices = torch.arange(20000) * 2
    result = project(x, "pca", labels, indices)
    assert result.points.shape == (20000, 2) and result.points.dtype == np.float32
    assert np.array_equal(result.labels, labels.numpy()) and np.array_equal(result.indices, indices.numpy())


def test_tsne_keeps_the_points_in_order_and_reports_progress():
    x, labels = _features()
    seen = []
    result = project(x, "tsne", labels, progress=lambda d, t: seen.append((d, t)) or True)
    assert result.points.shape == (120, 2) and np.array_equal(result.labels, labels.numpy())
    assert len(seen) > 2 and seen[-1] == (1, 1) and all(d <= t for d, t in seen)
    # points of one class sit together: each point's nearest neighbour shares its label
    d = ((result.points[:, None] - result.points[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert (labels.numpy()[d.argmin(1)] == labels.numpy()).mean() > 0.9


def test_tsne_cancels_when_progress_says_so():
    x, _ = _features()
    with pytest.raises(InterruptedError):
        project(x, "tsne", progress=lambda d, t: False)


def test_missing_umap_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "umap", None)
    with pytest.raises(ConfigError, match="umap-learn"):
        project(_features()[0], "umap")


def test_nearest_neighbours_find_a_duplicate_first_and_never_the_query():
    x, _ = _features(30)
    x[17] = x[4] * 2  # same direction: cosine similarity 1
    idx, sim = nearest_neighbours(x, 4, k=5)
    assert idx[0] == 17 and sim[0] == pytest.approx(1.0) and 4 not in idx and len(idx) == 5
    assert (np.diff(sim) <= 0).all()
