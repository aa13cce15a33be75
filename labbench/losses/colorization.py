"""Colorful image colorization's loss: class-rebalanced multinomial cross-entropy over ab bins."""

from __future__ import annotations

from torch import Tensor


def colorization_loss(logits: Tensor, soft_targets: Tensor, pixel_weights: Tensor | None = None) -> Tensor:
    """Zhang, Isola, Efros 2016, eq. 2: −Σ_q Z_q log Ẑ_q per pixel, times the pixel's rebalancing weight.

    ``logits``, ``soft_targets``: B×Q×H×W (targets sum to 1 over Q); ``pixel_weights``: B×H×W, the
    weight w of each pixel's most likely target bin (none = 1). Averaged over pixels, where the paper
    sums, so the learning rate does not depend on the image size.

    Examples:
        >>> target = torch.tensor([1.0, 0.0]).view(1, 2, 1, 1)
        >>> round(colorization_loss(torch.zeros(1, 2, 1, 1), target).item(), 4)  # log 2
        0.6931
    """
    per_pixel = -(soft_targets * logits.float().log_softmax(dim=1)).sum(dim=1)
    if pixel_weights is not None:
        per_pixel = per_pixel * pixel_weights
    return per_pixel.mean()


def rebalancing_weights(prior: Tensor, lam: float = 0.5) -> Tensor:
    """Zhang, Isola, Efros 2016, eq. 3-4: w ∝ ((1 − λ)·p̃ + λ/Q)⁻¹, scaled so that E_p̃[w] = 1.

    ``prior``: the (smoothed) distribution of ab bins, length Q. Rare, saturated colours get large
    weights, so the classifier stops painting everything in the common desaturated bins.

    Examples:
        >>> rebalancing_weights(torch.tensor([0.5, 0.5]))
        tensor([1., 1.])
        >>> rebalancing_weights(torch.tensor([0.9, 0.1]), lam=0.0)  # pure inverse frequency
        tensor([0.5556, 5.0000])
    """
    weights = 1.0 / ((1.0 - lam) * prior + lam / prior.numel())
    return weights / (prior * weights).sum()
