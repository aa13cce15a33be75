"""SimCLR's 2N×2N similarity matrix for a real batch, positives at i ↔ i + N."""

import numpy as np

from labbench.data import load_split
from labbench.engine.checkpointed import load_run_method
from labbench.evaluate.affinity import affinity_matrix


def test_matrix_is_2n_square_symmetric_with_unit_diagonal_and_marked_positives(simclr_run):
    method, config = load_run_method(simclr_run)
    images = load_split(config.data).eval.images
    result = affinity_matrix(method, images, batch_size=6)
    sim = result.similarity
    assert sim.shape == (12, 12) and result.batch_size == 6 and result.space == "projection"
    assert np.allclose(sim, sim.T, atol=1e-6) and np.allclose(np.diag(sim), 1.0, atol=1e-5)
    assert sim.min() >= -1 - 1e-5 and sim.max() <= 1 + 1e-5
    assert result.positives[:3].tolist() == [[0, 6], [1, 7], [2, 8]] and result.positives[6].tolist() == [6, 0]
    assert result.positive_mask().sum() == 12 and len(set(result.indices.tolist())) == 6


def test_encoder_space_and_seed_choose_what_is_compared(simclr_run):
    method, config = load_run_method(simclr_run)
    images = load_split(config.data).eval.images
    a = affinity_matrix(method, images, batch_size=4, space="encoder", seed=1)
    b = affinity_matrix(method, images, batch_size=4, space="encoder", seed=2)
    assert a.space == "encoder" and not np.array_equal(a.indices, b.indices)
