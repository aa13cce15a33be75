"""Colour transforms with a parameter per sample, on float32 B×3×H×W images in [0, 1].

Each one matches its torchvision.transforms.v2.functional namesake on float images, but takes a
per-sample factor (a length-B tensor, or one float for the whole batch), so a batch is adjusted in a
few kernel launches instead of one Python call per image.
"""

from __future__ import annotations

import torch
from torch import Tensor

# ITU-R 601-2 luma, with torchvision's rounding of the weights
GRAY_WEIGHTS = (0.2989, 0.587, 0.114)


def per_sample(value: Tensor | float) -> Tensor | float:
    """A length-B parameter shaped to broadcast over B×C×H×W; a float stays a float."""
    return value.reshape(-1, 1, 1, 1) if isinstance(value, Tensor) else value


def rgb_to_gray(x: Tensor) -> Tensor:
    """Luma of B×3×H×W images as B×1×H×W (torchvision's rgb_to_grayscale weights)."""
    r, g, b = x.unbind(dim=1)
    return r.mul(GRAY_WEIGHTS[0]).add_(g, alpha=GRAY_WEIGHTS[1]).add_(b, alpha=GRAY_WEIGHTS[2]).unsqueeze(1)


def blend(x: Tensor, other: Tensor, factor: Tensor | float) -> Tensor:
    """``factor·x + (1 − factor)·other``, clipped to [0, 1]: every brightness/contrast/saturation change."""
    return torch.lerp(other, x, per_sample(factor)).clamp_(0.0, 1.0)


def adjust_brightness(x: Tensor, factor: Tensor | float) -> Tensor:
    """Scale towards black: factor 0 gives black, 1 the image."""
    return x.mul(per_sample(factor)).clamp_(0.0, 1.0)


def adjust_contrast(x: Tensor, factor: Tensor | float) -> Tensor:
    """Blend with the image's mean luma: factor 0 gives flat grey, 1 the image."""
    return blend(x, rgb_to_gray(x).mean(dim=(1, 2, 3), keepdim=True), factor)


def adjust_saturation(x: Tensor, factor: Tensor | float) -> Tensor:
    """Blend with the image's luma: factor 0 gives grayscale, 1 the image."""
    return blend(x, rgb_to_gray(x), factor)


def adjust_hue(x: Tensor, shift: Tensor | float) -> Tensor:
    """Rotate the HSV hue by ``shift`` turns (in [−0.5, 0.5]); value and saturation are kept.

    A hue rotation keeps each pixel's max and min channel, so the result is written straight from
    (hue, max, max − min) as in torchvision's _hsv_to_rgb. Branches are arithmetic masks: on CPU,
    torch.where and remainder cost several times a multiply.
    """
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    hi = torch.maximum(torch.maximum(r, g), b)
    chroma = hi - torch.minimum(torch.minimum(r, g), b)
    # which channel is the max; ties go to red, then green, as in torchvision's _rgb_to_hsv
    red = (hi == r).to(x.dtype)
    green = (hi == g).to(x.dtype).mul_(1.0 - red)
    blue = 1.0 - red - green
    # hue in sixths of a turn; a grey pixel (chroma 0) has numerator 0, hence hue 0
    h6 = (red * (g - b) + green * (b - r) + blue * (r - g)).div_(chroma.clamp_min(1e-12))
    h6 = h6.add_(2.0 * green + 4.0 * blue).add_(per_sample(shift) * 6.0)
    # channel c sits (5, 3, 1)[c] sixths from the hue; it falls from max to min between 1 and 2 sixths away
    k = h6 + torch.arange(5.0, 0.0, -2.0, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    k = k - 6.0 * torch.floor(k / 6.0)
    return hi - chroma * torch.minimum(k, 4.0 - k).clamp_(0.0, 1.0)
