"""Colour ops: each equals torchvision's on float images, with its own factor per sample."""

import pytest
import torch
from scipy.stats import kstest
from torchvision.transforms.v2 import functional as TF

from labbench.augment import adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation, color_jitter

FACTORS = torch.tensor([0.0, 0.3, 1.0, 1.7])
SHIFTS = torch.tensor([-0.5, -0.13, 0.0, 0.31])


def _images(n: int = 4, size: int = 9) -> torch.Tensor:
    x = torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(0))
    x[:, :, 0, :3] = torch.tensor([[0.0, 1.0, 0.5]])  # grey pixels, where the hue is undefined
    x[:, :, 1, 0] = torch.tensor([0.8, 0.8, 0.1])  # red and green tied for the maximum
    return x


BLENDS = [
    (adjust_brightness, TF.adjust_brightness),
    (adjust_contrast, TF.adjust_contrast),
    (adjust_saturation, TF.adjust_saturation),
]


@pytest.mark.parametrize("ours,theirs", BLENDS)
def test_blend_ops_equal_torchvision_per_sample(ours, theirs):
    x = _images()
    out = ours(x, FACTORS)
    for i, f in enumerate(FACTORS.tolist()):
        torch.testing.assert_close(out[i], theirs(x[i], f), atol=1e-5, rtol=0)


def test_hue_equals_torchvision_per_sample():
    x = _images()
    out = adjust_hue(x, SHIFTS)
    for i, h in enumerate(SHIFTS.tolist()):
        torch.testing.assert_close(out[i], TF.adjust_hue(x[i], h), atol=1e-3, rtol=0)


def _jitter_reference(x, brightness, contrast, saturation, hue, p, seed):
    """torchvision's ops, one image at a time, with the factors and order color_jitter drew."""
    u = torch.rand(x.shape[0], 9, generator=torch.Generator().manual_seed(seed))
    ops = [TF.adjust_brightness, TF.adjust_contrast, TF.adjust_saturation, TF.adjust_hue]
    strengths = (brightness, contrast, saturation)
    out = []
    for img, draw in zip(x, u.tolist()):
        factors = [max(0, 1 - v) + (1 + v - max(0, 1 - v)) * d for v, d in zip(strengths, draw)]
        factors.append(-hue + 2 * hue * draw[3])
        if draw[8] < p:
            for op in sorted(range(4), key=lambda i: draw[4 + i]):
                img = ops[op](img, factors[op])
        out.append(img)
    return torch.stack(out)


def test_jitter_applies_torchvision_ops_in_each_samples_own_order():
    x = _images(n=64)
    ours = color_jitter(x, 0.8, 0.8, 0.8, 0.2, 0.8, torch.Generator().manual_seed(3))
    torch.testing.assert_close(ours, _jitter_reference(x, 0.8, 0.8, 0.8, 0.2, 0.8, seed=3), atol=1e-3, rtol=0)


def test_jitter_brightness_factor_is_uniform_in_range():
    x = torch.full((2000, 3, 2, 2), 0.25)  # low enough that no factor up to 1.8 clips
    out = color_jitter(x, 0.8, 0.0, 0.0, 0.0, 1.0, torch.Generator().manual_seed(0))
    factor = out[:, 0, 0, 0] / 0.25
    assert kstest(factor.numpy(), "uniform", args=(0.2, 1.6)).pvalue > 0.01


def test_jitter_leaves_one_minus_p_of_images_untouched():
    x = torch.rand(2000, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    out = color_jitter(x, 0.4, 0.4, 0.4, 0.1, 0.8, torch.Generator().manual_seed(0))
    untouched = (out == x).flatten(1).all(1).float().mean().item()
    assert abs(untouched - 0.2) < 0.03
