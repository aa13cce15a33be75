"""Flip, grayscale, blur and solarize: torchvision's results, drawn independently per sample."""

import pytest
import torch
from torchvision.transforms.v2 import functional as TF

from labbench.augment import blur, blur_kernel_size, gaussian_blur, grayscale, hflip, solarize


def _images(n: int, size: int = 8) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(0))


def _changed(out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return (out != x).flatten(1).any(1)


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_flip_happens_with_probability_p(p):
    x = _images(4000)
    out = hflip(x, p, torch.Generator().manual_seed(0))
    flipped = (out == x.flip(-1)).flatten(1).all(1)
    assert (flipped | ~_changed(out, x)).all()  # each image is either mirrored or left as it was
    assert abs(flipped.float().mean().item() - p) < 0.03


def test_grayscale_equals_torchvision_with_probability_p():
    x = _images(2000)
    out = grayscale(x, 0.2, torch.Generator().manual_seed(0))
    gray = _changed(out, x)
    torch.testing.assert_close(out[gray], TF.rgb_to_grayscale(x[gray], num_output_channels=3), atol=1e-6, rtol=0)
    assert abs(gray.float().mean().item() - 0.2) < 0.03


@pytest.mark.parametrize("size", [8, 32])
def test_blur_equals_torchvision_with_the_same_kernel(size):
    x = _images(3, size)
    sigmas = [0.3, 1.0, 2.5]
    k = blur_kernel_size(size) if size > 8 else 5
    out = blur(x, torch.tensor(sigmas), k)
    for i, s in enumerate(sigmas):
        torch.testing.assert_close(out[i], TF.gaussian_blur(x[i], [k, k], [s, s]), atol=1e-5, rtol=0)


def test_blur_kernel_is_a_tenth_of_the_image_side_and_odd():
    assert [blur_kernel_size(s) for s in (8, 32, 96, 224)] == [3, 3, 11, 23]


def test_random_blur_draws_sigma_per_sample_and_skips_with_probability_1_minus_p():
    x = _images(1, 16).expand(400, -1, -1, -1)
    out = gaussian_blur(x, (0.5, 2.0), 0.5, torch.Generator().manual_seed(0))
    blurred = _changed(out, x)
    assert abs(blurred.float().mean().item() - 0.5) < 0.08
    # one image, many sigmas: every blurred copy differs from the others
    assert torch.unique(out[blurred], dim=0).shape[0] == blurred.sum()


def test_solarize_equals_torchvision_with_probability_p():
    x = _images(2000)
    out = solarize(x, 0.2, torch.Generator().manual_seed(0), threshold=0.5)
    hit = _changed(out, x)
    torch.testing.assert_close(out[hit], TF.solarize(x[hit], 0.5))
    assert abs(hit.float().mean().item() - 0.2) < 0.03


def test_blur_stays_float32_inside_a_bf16_autocast_training_step():
    x = torch.rand(4, 3, 16, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        inside = gaussian_blur(x, (0.5, 1.5), 1.0, torch.Generator().manual_seed(0))
    outside = gaussian_blur(x, (0.5, 1.5), 1.0, torch.Generator().manual_seed(0))
    assert inside.dtype == torch.float32
    torch.testing.assert_close(inside, outside)
