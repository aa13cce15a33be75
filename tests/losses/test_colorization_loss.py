"""Zhang et al. 2016's rebalanced multinomial cross-entropy over ab bins."""

import torch

from labbench.losses import colorization_loss, rebalancing_weights


def test_loss_is_the_pixel_mean_of_the_soft_cross_entropy():
    logits = torch.randn(2, 6, 3, 4)
    targets = torch.softmax(torch.randn(2, 6, 3, 4), dim=1)
    expected = 0.0
    for b in range(2):
        for i in range(3):
            for j in range(4):
                log_p = torch.log_softmax(logits[b, :, i, j], dim=0)
                expected += -(targets[b, :, i, j] * log_p).sum()
    assert torch.allclose(colorization_loss(logits, targets), expected / 24, atol=1e-6)


def test_loss_is_smallest_when_the_prediction_is_the_target_and_then_equals_its_entropy():
    targets = torch.softmax(torch.randn(1, 5, 2, 2), dim=1)
    entropy = -(targets * targets.log()).sum(dim=1).mean()
    best = colorization_loss(targets.log(), targets)
    assert torch.allclose(best, entropy, atol=1e-6)
    assert colorization_loss(targets.log() + 0.3 * torch.randn(1, 5, 2, 2), targets) > best


def test_pixel_weights_scale_each_pixels_term():
    logits, targets = torch.randn(1, 4, 1, 2), torch.softmax(torch.randn(1, 4, 1, 2), dim=1)
    per_pixel = [colorization_loss(logits[..., j : j + 1], targets[..., j : j + 1]) for j in range(2)]
    weighted = colorization_loss(logits, targets, torch.tensor([[[3.0, 0.0]]]))
    assert torch.allclose(weighted, 3.0 * per_pixel[0] / 2)


def test_rebalancing_weights_average_to_one_under_the_prior_and_favour_rare_bins():
    prior = torch.softmax(torch.randn(50), dim=0)
    for lam in (0.0, 0.5, 0.9):
        w = rebalancing_weights(prior, lam)
        assert torch.allclose((prior * w).sum(), torch.tensor(1.0))
        assert (w[prior.argsort()].diff() <= 1e-6).all()  # rarer bin, larger weight
    assert torch.allclose(rebalancing_weights(prior, 1.0), torch.ones(50))  # λ = 1: no rebalancing
