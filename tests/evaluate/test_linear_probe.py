"""The linear probe: exact logistic regression on standardised features, weight decay chosen on validation."""

import pytest
import torch

from labbench.evaluate.linear_probe import WEIGHT_DECAYS, fit_logistic_regression, linear_probe


def _blobs(n_per_class: int, dim: int = 16, classes: int = 4, spread: float = 0.5, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, dim, generator=g) * 3
    labels = torch.arange(classes).repeat_interleave(n_per_class)
    return centres[labels] + spread * torch.randn(len(labels), dim, generator=g), labels


def test_probe_classifies_separable_blobs_almost_perfectly():
    x, y = _blobs(80)
    result = linear_probe(x[::2], y[::2], x[1::2], y[1::2])
    assert result.accuracy >= 0.95


def test_sweep_scores_every_weight_decay_and_picks_the_best_on_validation():
    x, y = _blobs(40, spread=4.0)  # overlapping: the penalty matters
    result = linear_probe(x, y, x, y)
    assert set(result.sweep) == set(WEIGHT_DECAYS)
    assert result.val_accuracy == max(result.sweep.values())
    assert result.sweep[result.weight_decay] == result.val_accuracy


def test_standardisation_makes_the_probe_blind_to_feature_scale():
    x, y = _blobs(30)
    a = fit_logistic_regression(x, y, 4, 1e-3)
    b = fit_logistic_regression(x * 1000.0 + 7.0, y, 4, 1e-3)
    assert torch.equal(a.predict(x), b.predict(x * 1000.0 + 7.0))


def test_returning_false_from_progress_cancels():
    x, y = _blobs(10)
    with pytest.raises(InterruptedError):
        linear_probe(x, y, x, y, progress=lambda done, total: False)
