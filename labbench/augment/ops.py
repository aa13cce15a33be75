"""Batched augmentation ops with per-sample random parameters (SimCLR's table, Chen et al. 2020, app. A).

Images are float32 B×3×H×W in [0, 1] on any device. A random op draws every sample's parameters
in one call on ``g``, a ``torch.Generator`` on the images' device: the result is deterministic
given the generator state, nothing is read back to the host, and no Python loop runs over images.
The distributions are torchvision's (RandomResizedCrop, RandomHorizontalFlip, ColorJitter,
RandomGrayscale, GaussianBlur, RandomSolarize), each applied independently per sample.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor

from labbench.augment.color import adjust_hue, blend, rgb_to_gray

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def to_float01(images: Tensor) -> Tensor:
    """uint8 images as float32 in [0, 1]."""
    return images.to(torch.float32).div_(255.0)


@lru_cache(maxsize=8)
def _imagenet_stats(device: torch.device) -> tuple[Tensor, Tensor]:
    # made once per device: building them per call would copy (and, on CUDA, sync) every step
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
    return mean, std


def normalize(x01: Tensor) -> Tensor:
    """Images in [0, 1] standardised with the ImageNet mean and std (as torchvision's Normalize)."""
    mean, std = _imagenet_stats(x01.device)
    return (x01 - mean) / std


def denormalize(x: Tensor) -> Tensor:
    """The inverse of :func:`normalize`: back to [0, 1] (not clipped)."""
    mean, std = _imagenet_stats(x.device)
    return x * std + mean


def _coin(x: Tensor, p: float, g: torch.Generator) -> Tensor:
    """Per-sample Bernoulli(p) as a 0/1 weight of shape B×1×1×1, in ``x``'s dtype."""
    return (torch.rand(x.shape[0], generator=g, device=x.device) < p).to(x.dtype).view(-1, 1, 1, 1)


def _pick(x: Tensor, changed: Tensor, take: Tensor) -> Tensor:
    """``changed`` where the 0/1 weight ``take`` is 1, else ``x``.

    lerp with a 0/1 weight is an exact select (it evaluates from the nearer end) and on CPU several
    times faster than torch.where.
    """
    return torch.lerp(x, changed, take)


def _uniform(u: Tensor, low: float, high: float) -> Tensor:
    """Uniform draws ``u`` in [0, 1) mapped to [low, high)."""
    return low + (high - low) * u


def sample_crop_boxes(
    n: int, height: int | Tensor, width: int | Tensor, scale: tuple[float, float], ratio: tuple[float, float],
    g: torch.Generator,
) -> Tensor:
    """``n`` crop boxes as int64 n×4 (top, left, height, width) on ``g``'s device.

    torchvision's RandomResizedCrop.get_params, vectorised: area share uniform in ``scale``, aspect
    ratio log-uniform in ``ratio``, 10 tries per box, the first that fits is kept; a box with no fit
    falls back to the centred crop of the largest allowed aspect ratio. All tries are drawn at once.
    ``height`` and ``width`` are one image size, or each box's own (tensors of n sizes on ``g``'s device:
    a batch of full-resolution images of different sizes).
    """
    tries = 10
    u = torch.rand(n, 2 * tries + 2, generator=g, device=g.device)
    per_box = isinstance(height, Tensor)
    if per_box:
        height, width = height.to(u.dtype), width.to(u.dtype)
    rows_h, rows_w = (height[:, None], width[:, None]) if per_box else (height, width)
    area = _uniform(u[:, :tries], *scale) * (rows_h * rows_w)
    aspect = torch.exp(_uniform(u[:, tries : 2 * tries], math.log(ratio[0]), math.log(ratio[1])))
    w = torch.sqrt(area * aspect).round_()
    h = torch.sqrt(area / aspect).round_()
    fits = (w > 0) & (w <= rows_w) & (h > 0) & (h <= rows_h)
    first = fits.to(torch.uint8).argmax(dim=1, keepdim=True)  # argmax returns the first maximum
    w, h = w.gather(1, first).squeeze(1), h.gather(1, first).squeeze(1)
    top = torch.minimum((u[:, -2] * (height - h + 1)).floor_(), height - h)
    left = torch.minimum((u[:, -1] * (width - w + 1)).floor_(), width - w)
    found = fits.any(dim=1)
    fallback = _fallback_boxes(height, width, ratio) if per_box else _fallback_box(height, width, ratio)
    box = [torch.where(found, v, fv) for v, fv in zip((top, left, h, w), fallback)]
    return torch.stack(box, dim=1).long()


def _fallback_box(height: int, width: int, ratio: tuple[float, float]) -> tuple[int, int, int, int]:
    """The centred crop of the largest allowed aspect ratio, as scalars: a tensor of the box would be copied
    to (and sync) the device."""
    fh, fw = height, width
    if width / height < min(ratio):
        fh = int(round(width / min(ratio)))
    elif width / height > max(ratio):
        fw = int(round(height * max(ratio)))
    return (height - fh) // 2, (width - fw) // 2, fh, fw


def _fallback_boxes(height: Tensor, width: Tensor, ratio: tuple[float, float]) -> tuple[Tensor, ...]:
    """:func:`_fallback_box` of many image sizes at once."""
    aspect = width / height
    fh = torch.where(aspect < min(ratio), (width / min(ratio)).round(), height)
    fw = torch.where(aspect > max(ratio), (height * max(ratio)).round(), width)
    return ((height - fh) / 2).floor(), ((width - fw) / 2).floor(), fh, fw


def resized_crop(x: Tensor, boxes: Tensor, size: int) -> Tensor:
    """Each image's box (top, left, height, width) resampled to size×size, bilinear, no antialiasing.

    One affine sampling grid per sample through ``grid_sample`` (faster on CPU than roi_align,
    benchmarks/views.py). Pixel centres map as in torchvision's resized_crop; near a box's edge an
    upsampled crop reads the pixel just outside it instead of repeating the edge.
    """
    n, c, height, width = x.shape
    top, left, h, w = boxes.to(x.dtype).unbind(dim=1)
    zero = torch.zeros_like(w)
    # output x in [-1, 1] -> input (2·left + w + x·w) / width − 1 (align_corners=False pixel centres)
    theta = torch.stack(
        [w / width, zero, (2 * left + w) / width - 1, zero, h / height, (2 * top + h) / height - 1], dim=1
    ).view(n, 2, 3)
    # views are data: sampled in x's precision even inside a training step's bf16 autocast (affine_grid is a
    # batched matmul, which autocast would round to bf16, and grid_sample wants grid and image alike)
    with torch.autocast(x.device.type, enabled=False):
        grid = F.affine_grid(theta, [n, c, size, size], align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def random_resized_crop(
    x: Tensor, size: int, scale: tuple[float, float], ratio: tuple[float, float], g: torch.Generator
) -> Tensor:
    """A random crop per image (area share in ``scale``, aspect ratio in ``ratio``) resized to size×size."""
    return resized_crop(x, sample_crop_boxes(x.shape[0], x.shape[-2], x.shape[-1], scale, ratio, g), size)


def hflip(x: Tensor, p: float, g: torch.Generator) -> Tensor:
    """Mirror each image left-right with probability ``p``."""
    return _pick(x, x.flip(-1), _coin(x, p, g))


def _jitter_pass(x: Tensor, op: Tensor, factor: Tensor) -> Tensor:
    """One slot of colour jitter: per sample brightness (op 0), contrast (1) or saturation (2)."""
    gray = rgb_to_gray(x)
    op = op.view(-1, 1, 1, 1)
    contrast, saturation = (op == 1).to(x.dtype), (op == 2).to(x.dtype)
    # brightness blends with black, contrast with the mean luma, saturation with the luma
    other = torch.addcmul(gray.mean(dim=(1, 2, 3), keepdim=True) * contrast, gray, saturation)
    return blend(x, other, factor)


def color_jitter(
    x: Tensor, brightness: float, contrast: float, saturation: float, hue: float, p: float, g: torch.Generator
) -> Tensor:
    """With probability ``p``, change brightness, contrast, saturation and hue, in a random order per sample.

    Factors as torchvision's ColorJitter: brightness/contrast/saturation uniform in
    [max(0, 1 − v), 1 + v], hue shift uniform in [−hue, hue]. Each sample draws its own order of the
    four (as SimCLR's reference code): the three blends run in their slots before and after the one
    hue rotation, a blend whose turn is on the other side of it getting factor 1.
    """
    n = x.shape[0]
    u = torch.rand(n, 9, generator=g, device=x.device)
    strengths = (brightness, contrast, saturation)
    factors = torch.stack([_uniform(u[:, i], max(0.0, 1.0 - v), 1.0 + v) for i, v in enumerate(strengths)], dim=1)
    shift = _uniform(u[:, 3], -hue, hue)
    keys = u[:, 4:8]  # sort keys of (brightness, contrast, saturation, hue): a uniform random order
    slot_op = keys[:, :3].argsort(dim=1)
    slot_factor = factors.gather(1, slot_op)
    blends_before_hue = (keys[:, :3] < keys[:, 3:]).sum(dim=1)

    out = x
    for before in (True, False):
        for slot in range(3):
            active = (blends_before_hue > slot) == before
            out = _jitter_pass(out, slot_op[:, slot], torch.where(active, slot_factor[:, slot], 1.0))
        if before and hue > 0:
            out = adjust_hue(out, shift)
    return _pick(x, out, (u[:, 8] < p).to(x.dtype).view(-1, 1, 1, 1))


def grayscale(x: Tensor, p: float, g: torch.Generator) -> Tensor:
    """Replace each image by its luma (in all three channels) with probability ``p``."""
    return _pick(x, rgb_to_gray(x).expand_as(x), _coin(x, p, g))


def blur_kernel_size(side: int, kernel_frac: float = 0.1) -> int:
    """The odd kernel size nearest ``kernel_frac`` of the image side, at least 3 (SimCLR: 10 %, 23 px at 224)."""
    return max(3, round(side * kernel_frac) | 1)


def blur(x: Tensor, sigma: Tensor | float, kernel_size: int) -> Tensor:
    """Gaussian blur with a per-sample ``sigma``: separable depthwise convolution, reflect padding.

    The kernel is torchvision's gaussian_blur one: taps at integer offsets, normalised to sum 1.
    """
    n, c, height, width = x.shape
    if not isinstance(sigma, Tensor):
        sigma = torch.full((n,), float(sigma), device=x.device)
    r = kernel_size // 2
    offsets = torch.arange(-r, r + 1, device=x.device, dtype=x.dtype)
    taps = torch.softmax(-0.5 * (offsets / sigma.to(x.dtype)[:, None]) ** 2, dim=1)
    taps = taps.repeat_interleave(c, dim=0)  # one kernel per (sample, channel) group
    # views are data: blurred in x's precision even inside a training step's bf16 autocast
    with torch.autocast(x.device.type, enabled=False):
        rows = F.pad(x, (r, r, 0, 0), mode="reflect").reshape(1, n * c, height, width + 2 * r)
        rows = F.conv2d(rows, taps.view(n * c, 1, 1, kernel_size), groups=n * c).view(n, c, height, width)
        cols = F.pad(rows, (0, 0, r, r), mode="reflect").reshape(1, n * c, height + 2 * r, width)
        return F.conv2d(cols, taps.view(n * c, 1, kernel_size, 1), groups=n * c).view(n, c, height, width)


def gaussian_blur(
    x: Tensor, sigma: tuple[float, float], p: float, g: torch.Generator, kernel_frac: float = 0.1
) -> Tensor:
    """With probability ``p``, blur each image with its own sigma, uniform in ``sigma`` (pixels).

    Kernel ≈ ``kernel_frac`` of the image side (odd), as SimCLR's 10 %.
    """
    n = x.shape[0]
    u = torch.rand(n, 2, generator=g, device=x.device)
    blurred = blur(x, _uniform(u[:, 0], *sigma), blur_kernel_size(min(x.shape[-2:]), kernel_frac))
    return _pick(x, blurred, (u[:, 1] < p).to(x.dtype).view(-1, 1, 1, 1))


def solarize(x: Tensor, p: float, g: torch.Generator, threshold: float = 0.5) -> Tensor:
    """With probability ``p``, invert every pixel value at or above ``threshold`` (BYOL's solarization)."""
    return _pick(x, 1.0 - x, _coin(x, p, g) * (x >= threshold).to(x.dtype))
